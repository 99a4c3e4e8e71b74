/* The hotspot map: loads the period's points (GeoJSON) and shows one marker per point,
   clustered where they crowd. Text from the server goes in through textContent only. */
(function () {
  "use strict";

  var LONDON = [51.5074, -0.1278];

  function popup(feature, reportUrl) {
    var p = feature.properties;
    var box = document.createElement("dl");
    box.className = "map-popup";
    function fact(name, value) {
      if (!value) { return; }
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value;
      box.appendChild(dt);
      box.appendChild(dd);
    }
    var link = document.createElement("a");
    link.href = reportUrl + encodeURIComponent(p.reference);
    link.textContent = p.reference;
    var dt = document.createElement("dt");
    var dd = document.createElement("dd");
    dt.textContent = "Report";
    dd.appendChild(link);
    box.appendChild(dt);
    box.appendChild(dd);
    fact("Point", window.ConsoleMap.LABELS[p.kind] || p.kind);
    fact("Status", p.status && p.status.replace(/_/g, " "));
    fact("Make", p.make);
    fact("How", p.theft_method && p.theft_method.replace(/_/g, " "));
    fact(p.kind === "tracked" ? "Seen" : "Taken", (p.kind === "tracked" ? p.tracked_at : p.incident_at) || "");
    fact("Filed", p.created_at);
    return box;
  }

  function show(element) {
    var maps = window.ConsoleMap;
    var status = document.getElementById("map-status");
    var map = maps.create(element);
    map.setView(LONDON, 11);
    var reportUrl = element.dataset.reportUrl || "/report/";
    var groups = {
      theft: L.markerClusterGroup({ showCoverageOnHover: false }),
      tracked: L.markerClusterGroup({ showCoverageOnHover: false })
    };
    fetch(element.dataset.points, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (collection) {
        var counts = { theft: 0, tracked: 0 };
        var bounds = L.latLngBounds([]);
        collection.features.forEach(function (feature) {
          var kind = maps.kindOf(feature.properties.kind);
          var c = feature.geometry.coordinates;
          var title = feature.properties.reference + " · " + maps.LABELS[kind];
          var marker = maps.marker(c[1], c[0], kind, title);
          marker.bindPopup(function () { return popup(feature, reportUrl); });
          groups[kind].addLayer(marker);
          bounds.extend([c[1], c[0]]);
          counts[kind] += 1;
        });
        // Move first, then add the clusters: they are drawn once, at the zoom they are seen at,
        // with no animation still running when the page says it is drawn.
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
        }
        Object.keys(groups).forEach(function (kind) { groups[kind].addTo(map); });
        var total = counts.theft + counts.tracked;
        status.textContent = total === 0
          ? "No report points in this period."
          : counts.theft + " taken here, " + counts.tracked + " tracked here.";
        maps.drawn(element, total);
      })
      .catch(function (error) {
        window.console.error("map points: " + error);
        status.textContent = "The points could not be loaded: reload the page.";
        maps.drawn(element, "error");
      });
  }

  var element = document.getElementById("hotspot-map");
  if (element && window.L && window.ConsoleMap) { show(element); }
}());
