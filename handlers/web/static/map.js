/* The hotspot map: loads the period's points (GeoJSON) and shows one marker per point,
   clustered where they crowd. Text from the server goes in through textContent only. */
(function () {
  "use strict";

  var KINDS = { theft: "Taken here", tracked: "Tracked here" };
  var LONDON = [51.5074, -0.1278];

  function icon(kind) {
    return L.divIcon({
      className: "marker-point marker-" + kind,
      html: "<span></span>",
      iconSize: [18, 18],
      iconAnchor: [9, 9]
    });
  }

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
    fact("Point", KINDS[p.kind] || p.kind);
    fact("Status", p.status && p.status.replace(/_/g, " "));
    fact("Make", p.make);
    fact("How", p.theft_method && p.theft_method.replace(/_/g, " "));
    fact(p.kind === "tracked" ? "Seen" : "Taken", (p.kind === "tracked" ? p.tracked_at : p.incident_at) || "");
    fact("Filed", p.created_at);
    return box;
  }

  function show(element) {
    var status = document.getElementById("map-status");
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
        collection.features.forEach(function (feature) {
          var kind = feature.properties.kind === "tracked" ? "tracked" : "theft";
          var c = feature.geometry.coordinates;
          var marker = L.marker([c[1], c[0]], {
            icon: icon(kind),
            title: feature.properties.reference + " · " + KINDS[kind],
            keyboard: true
          });
          marker.bindPopup(function () { return popup(feature, reportUrl); });
          groups[kind].addLayer(marker);
          counts[kind] += 1;
        });
        var bounds = L.latLngBounds([]);
        Object.keys(groups).forEach(function (kind) {
          groups[kind].addTo(map);
          if (counts[kind]) { bounds.extend(groups[kind].getBounds()); }
        });
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
        var total = counts.theft + counts.tracked;
        element.dataset.loadedPoints = String(total);
        status.textContent = total === 0
          ? "No report points in this period."
          : counts.theft + " taken here, " + counts.tracked + " tracked here.";
      })
      .catch(function (error) {
        window.console.error("map points: " + error);
        element.dataset.loadedPoints = "error";
        status.textContent = "The points could not be loaded: reload the page.";
      });
  }

  var element = document.getElementById("hotspot-map");
  if (element && window.L) { show(element); }
}());
