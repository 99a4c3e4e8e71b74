/* A report's small map (#report-map): its theft and tracked points, from data attributes:
   data-points='[{"kind": "theft", "lat": 51.5, "lon": -0.1}, {"kind": "tracked", ...}]'
   and data-tiles (the tile server's URL template; empty: a plain background). */
(function () {
  "use strict";

  var LABELS = { theft: "Taken here", tracked: "Tracked here" };

  function icon(kind) {
    return L.divIcon({
      className: "marker-point marker-" + kind,
      html: "<span></span>",
      iconSize: [18, 18],
      iconAnchor: [9, 9]
    });
  }

  function show(element) {
    var points;
    try {
      points = JSON.parse(element.dataset.points || "[]");
    } catch (error) {
      return;
    }
    if (!points.length) { element.hidden = true; return; }
    var map = L.map(element, { scrollWheelZoom: false, maxZoom: 18 });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19,
        attribution: "Map data © OpenStreetMap contributors"
      }).addTo(map);
    } else {
      element.classList.add("map-offline");
    }
    L.control.scale().addTo(map);
    var bounds = L.latLngBounds([]);
    points.forEach(function (point) {
      var kind = point.kind === "tracked" ? "tracked" : "theft";
      var marker = L.marker([point.lat, point.lon], {
        icon: icon(kind),
        title: LABELS[kind],
        keyboard: true
      }).addTo(map);
      marker.bindTooltip(LABELS[kind]);
      bounds.extend([point.lat, point.lon]);
    });
    map.fitBounds(bounds, { padding: [32, 32], maxZoom: 15 });
    element.dataset.loadedPoints = String(points.length);
  }

  if (!window.L) { return; }
  var element = document.getElementById("report-map");
  if (element) { show(element); }
}());
