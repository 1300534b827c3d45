/* corridors: a map's controls laid out so that they never cover one another or an open popup,
   popups fitted to the screen, place names that do not collide, results circles that grow with the
   zoom, and a tap on crowded markers that zooms in rather than opening the wrong popup.
   Written for this project; no library but Leaflet. Defined once a page, called once a map:
   corridorsMap(map, layerControl, countriesGroup, placesGroup, {legend, legendOpen, basemap, labels}). */
window.corridorsMap = function (map, layers, countries, places, cfg) {
  "use strict";
  var box = map.getContainer();
  var NARROW_PX = 700;   /* below this map width: a phone's layout (controls folded, one column) */
  var WIDE_PX = 1000;    /* from this width the animation bar sits bottom right, beside the legend */
  var GAP = 10;          /* Leaflet's margin around controls */
  var TAP_PX = 24;       /* two nodes closer than this on screen are one target for a finger */
  var LABELS_FROM_ZOOM = 2;

  function narrow() { return map.getSize().x < NARROW_PX; }
  if (cfg.bounds) { map.fitBounds(cfg.bounds, { animate: false }); }
  function corner(v, h) { return box.querySelector(".leaflet-" + v + ".leaflet-" + h); }

  /* the countries: shared GeoJSON data, drawn into the map's "Countries" layer */
  if (cfg.basemap && countries) {
    var data = JSON.parse(document.getElementById(cfg.basemap).textContent);
    L.geoJSON(data, { pane: "basemap", interactive: false, style: function (f) { return f.properties.water ? cfg.waterStyle : cfg.basemapStyle; } })
      .addTo(countries);
  }

  /* the legend: a folding control in the bottom-left column, above the scale */
  var legend = cfg.legend ? document.getElementById(cfg.legend) : null;
  if (legend) {
    var legendControl = L.control({ position: "bottomleft" });
    legendControl.onAdd = function () {
      var c = L.DomUtil.create("div", "corridors-legend-box");
      c.appendChild(legend);
      L.DomEvent.disableClickPropagation(c);
      L.DomEvent.disableScrollPropagation(c);
      return c;
    };
    legendControl.addTo(map);
    var inFrame = window.self !== window.top;
    var wanted = cfg.legendOpen === null ? !inFrame : cfg.legendOpen;
    legend.open = wanted && !narrow();
    legend.addEventListener("toggle", function () {
      if (!legend.open) { fitHeights(); return; }
      map.closePopup();
      if (narrow() && layers) { layers.collapse(); }
      fitHeights();
    });
  }

  /* the layer control: collapsible; open at first on a wide map, folded on a phone */
  if (layers) {
    var layersBox = layers.getContainer();
    if (!narrow()) { layers.expand(); }
    new MutationObserver(function () {
      if (layersBox.classList.contains("leaflet-control-layers-expanded")) {
        map.closePopup();
        if (narrow() && legend) { legend.open = false; }
        fitHeights();
      }
    }).observe(layersBox, { attributes: true, attributeFilter: ["class"] });
  }

  function fitHeights() {
    /* the open legend and layer list scroll rather than reach the controls across the map */
    var h = map.getSize().y;
    if (legend) {
      var legendBox = legend.parentNode, bl = corner("bottom", "left");
      var others = bl ? bl.offsetHeight - legendBox.offsetHeight - GAP : 0;
      var top = corner("top", "left") ? corner("top", "left").offsetHeight : 0;
      legend.style.maxHeight = Math.max(80, h - top - others - 3 * GAP) + "px";
    }
    if (layers) {
      var list = layers.getContainer().querySelector(".leaflet-control-layers-list");
      var br = corner("bottom", "right");
      if (list) { list.style.maxHeight = Math.max(80, h - (br ? br.offsetHeight : 0) - 4 * GAP) + "px"; }
    }
  }

  function layout() {
    /* bottom-left column, top to bottom: legend, scale, then the animation bar on a narrow map;
       on a wide map the animation bar sits bottom right */
    var n = narrow();
    box.classList.toggle("corridors-narrow", n);
    box.classList.toggle("corridors-wide", map.getSize().x >= WIDE_PX);
    var bl = corner("bottom", "left"), br = corner("bottom", "right");
    var scale = box.querySelector(".leaflet-control-scale");
    var anim = box.querySelector(".corridors-anim");
    if (legend) { bl.appendChild(legend.parentNode); }
    if (scale) { bl.appendChild(scale); }
    if (anim) {
      var left = map.getSize().x < WIDE_PX;
      (left ? bl : br).appendChild(anim);
      anim.style.width = n ? (map.getSize().x - 2 * GAP) + "px" : "";
    }
    fitHeights();
  }

  function clearance() {
    /* how far the controls reach into the map from its top and from its bottom */
    var rect = box.getBoundingClientRect(), top = 0, bottom = 0;
    box.querySelectorAll(".leaflet-control").forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (!r.height) { return; }
      if (c.closest(".leaflet-top")) { top = Math.max(top, r.bottom - rect.top); }
      else { bottom = Math.max(bottom, rect.bottom - r.top); }
    });
    return { top: top, bottom: bottom };
  }

  function isNode(layer) {
    var cls = (layer && layer.options && layer.options.className) || "";
    return /\bcorridors-(node|wait)\b/.test(cls) && typeof layer.getLatLng === "function";
  }

  function crowd(source) {
    /* the other nodes drawn within a finger's width of this one, nearest first */
    var p = map.latLngToContainerPoint(source.getLatLng()), near = [];
    map.eachLayer(function (l) {
      if (l === source || !isNode(l) || !/\bcorridors-node\b/.test(l.options.className)) { return; }
      var d = p.distanceTo(map.latLngToContainerPoint(l.getLatLng()));
      if (d < TAP_PX) { near.push([d, l]); }
    });
    near.sort(function (a, b) { return a[0] - b[0]; });
    return near.map(function (x) { return x[1]; });
  }

  function chooser(source, near) {
    /* a list of the nodes under the finger: a tap on a name opens that node's popup */
    var list = L.DomUtil.create("div", "corridors-chooser");
    if (source.closeTooltip) { source.closeTooltip(); }
    L.DomUtil.create("b", "", list).textContent = "Here are " + (near.length + 1) + " places:";
    var zoom = L.DomUtil.create("button", "corridors-zoom-in", list);
    zoom.type = "button";
    zoom.textContent = "Zoom in here";
    L.DomEvent.on(zoom, "click", function (ev) {
      L.DomEvent.stop(ev);
      map.closePopup();
      map.setView(source.getLatLng(), Math.min(map.getMaxZoom(), map.getZoom() + 2));
    });
    [source].concat(near).forEach(function (layer) {
      var item = L.DomUtil.create("button", "corridors-choice", list);
      item.type = "button";
      /* the tooltip's text (markup built with every data text escaped), read in an inert document */
      var tip = layer.getTooltip() ? String(layer.getTooltip().getContent()) : "";
      item.textContent = new DOMParser().parseFromString(tip, "text/html").body.textContent.trim();
      L.DomEvent.on(item, "click", function (ev) {
        L.DomEvent.stop(ev);
        layer.openPopup();
      });
    });
    L.popup({ className: "corridors-chooser-popup" }).setLatLng(source.getLatLng()).setContent(list).openOn(map);
  }

  /* a tap on a node opens its popup, unless other nodes crowd it: then a list to choose from */
  map.eachLayer(function (l) {
    if (!isNode(l) || !/\bcorridors-node\b/.test(l.options.className) || !l.getPopup()) { return; }
    l.off("click", l._openPopup, l);
    l.on("click", function (e) {
      var near = crowd(l);
      if (near.length) { L.DomEvent.stop(e); chooser(l, near); } else { l._openPopup(e); }
    });
  });

  map.on("popupopen", function (e) {
    var popup = e.popup, source = popup._source;
    if (source && source.closeTooltip) { source.closeTooltip(); }  /* a tap leaves its tooltip open */
    if (legend && legend.open) { legend.open = false; }
    if (layers) { layers.collapse(); }
    var size = map.getSize(), room = clearance();
    popup.options.maxWidth = Math.max(150, Math.min(440, size.x - 2 * GAP - 50));
    popup.options.minWidth = Math.min(popup.options.minWidth || 50, popup.options.maxWidth);
    popup.options.maxHeight = Math.max(120, size.y - room.top - room.bottom - 4 * GAP - 20);
    popup.options.autoPanPaddingTopLeft = L.point(GAP, room.top + GAP);
    popup.options.autoPanPaddingBottomRight = L.point(GAP, room.bottom + GAP);
    popup.update();
  });

  /* results circles: a radius that grows with the zoom, never smaller than a ring round the node */
  function scaleCircles() {
    var f = Math.pow(2, (map.getZoom() - 4) / 2);
    map.eachLayer(function (l) {
      if (l.options && l.options.baseRadius) {
        l.setRadius(Math.max(l.options.minRadius || 0, l.options.baseRadius * f));
      }
    });
  }

  /* place names: drawn in rank order, each only where it collides with none drawn before it */
  var labels = [];
  if (cfg.labels && places) {
    JSON.parse(document.getElementById(cfg.labels).textContent).forEach(function (item) {
      var span = document.createElement("span");
      span.textContent = item[2];
      var marker = L.marker([item[0], item[1]], {
        icon: L.divIcon({ className: "corridors-place", html: span, iconSize: null, iconAnchor: [-9, 8] }),
        interactive: false, keyboard: false, pane: "labels"
      });
      marker.addTo(places);
      labels.push(marker);
    });
  }
  function placeLabels() {
    if (!places || !map.hasLayer(places)) { return; }
    var taken = [], show = map.getZoom() >= LABELS_FROM_ZOOM;
    labels.forEach(function (m) {
      var el = m.getElement();
      if (!el) { return; }
      var p = map.latLngToContainerPoint(m.getLatLng());
      var r = { x0: p.x + 8, y0: p.y - 9, x1: p.x + 12 + el.offsetWidth, y1: p.y + 9 };
      var free = show && taken.every(function (t) {
        return r.x1 < t.x0 || r.x0 > t.x1 || r.y1 < t.y0 || r.y0 > t.y1;
      });
      el.style.visibility = free ? "" : "hidden";
      if (free) { taken.push(r); }
    });
  }

  map.on("zoomend", function () { scaleCircles(); placeLabels(); });
  map.on("overlayadd", function () { scaleCircles(); placeLabels(); });
  map.on("moveend", placeLabels);
  map.on("resize", layout);
  layout();
  scaleCircles();
  placeLabels();
  return { layout: layout, placeLabels: placeLabels };
};
