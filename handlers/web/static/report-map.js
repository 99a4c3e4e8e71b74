/* A report's small map (#report-map): its theft and tracked points, from data attributes:
   data-points='[{"kind": "theft", "lat": 51.5, "lon": -0.1}, {"kind": "tracked", ...}]'
   and data-tiles (the tile server's URL template; empty: a plain background). */
(function () {
  "use strict";

  function show(element) {
    var points;
    try {
      points = JSON.parse(element.dataset.points || "[]");
    } catch (error) {
      return;
    }
    if (!points.length) { element.hidden = true; return; }
    var maps = window.ConsoleMap;
    var map = maps.create(element);
    var bounds = L.latLngBounds([]);
    points.forEach(function (point) { bounds.extend([point.lat, point.lon]); });
    map.fitBounds(bounds, { padding: [32, 32], maxZoom: 15, animate: false });
    points.forEach(function (point) {
      var kind = maps.kindOf(point.kind);
      maps.marker(point.lat, point.lon, kind, maps.LABELS[kind])
        .bindTooltip(maps.LABELS[kind])
        .addTo(map);
    });
    maps.drawn(element, points.length);
  }

  if (!window.L || !window.ConsoleMap) { return; }
  var element = document.getElementById("report-map");
  if (element) { show(element); }
}());
