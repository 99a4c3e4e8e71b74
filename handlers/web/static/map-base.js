/* What the console's maps share (window.ConsoleMap): a Leaflet map on an element, with the tile
   server from data-tiles (empty: a plain background), and the markers for theft and tracked
   points. Loaded after leaflet.js and before the page's own map script. */
(function () {
  "use strict";

  var LABELS = { theft: "Taken here", tracked: "Tracked here" };

  function kindOf(value) {
    return value === "tracked" ? "tracked" : "theft";
  }

  function icon(kind) {
    return L.divIcon({
      className: "marker-point marker-" + kind,
      html: "<span></span>",
      iconSize: [18, 18],
      iconAnchor: [9, 9]
    });
  }

  function marker(lat, lon, kind, title) {
    return L.marker([lat, lon], { icon: icon(kind), title: title, keyboard: true });
  }

  function create(element) {
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
    return map;
  }

  /* Tell whoever waits (a person's screen reader, a test) that the markers are on the map:
     data-loaded-points holds their number (or "error") and a "map-drawn" event is sent. */
  function drawn(element, points) {
    element.dataset.loadedPoints = String(points);
    element.dispatchEvent(new CustomEvent("map-drawn", { detail: points }));
  }

  window.ConsoleMap = {
    LABELS: LABELS, kindOf: kindOf, marker: marker, create: create, drawn: drawn
  };
}());
