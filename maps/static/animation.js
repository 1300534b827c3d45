/* corridors: trains moving along the legs and waiting at nodes, played with a time slider.
   Defined once a page, called once a map with the id of its JSON block; written for this project,
   no library but Leaflet. */
window.corridorsAnimate = function (map, dataId) {
  "use strict";
  var data = JSON.parse(document.getElementById(dataId).textContent);
  var renderer = L.canvas({ padding: 0.5, pane: "trains" });
  var layer = L.layerGroup().addTo(map);
  var start = Date.parse((data.start_date.length === 10 ? data.start_date + "T00:00" : data.start_date) + "Z");
  var colours = { move: "#1f4e9c", node: "#c51b7d" };
  var markers = data.trains.map(function () {
    return L.circleMarker([0, 0], { radius: 4, renderer: renderer, pane: "trains", weight: 1, color: "#ffffff",
      fillOpacity: 1, interactive: false });
  });
  var cursor = data.trains.map(function () { return 0; });

  function along(path, frac) {
    /* the point at fraction frac of a polyline's length (in degrees: good enough to draw) */
    var total = 0, lengths = [];
    for (var i = 1; i < path.length; i++) {
      var d = Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
      lengths.push(d); total += d;
    }
    var target = frac * total;
    for (var j = 0; j < lengths.length; j++) {
      if (target <= lengths[j] || j === lengths.length - 1) {
        var f = lengths[j] > 0 ? Math.min(1, target / lengths[j]) : 0;
        return [path[j][0] + (path[j + 1][0] - path[j][0]) * f, path[j][1] + (path[j + 1][1] - path[j][1]) * f];
      }
      target -= lengths[j];
    }
    return path[path.length - 1];
  }

  function atNode(node, rank) {
    /* trains at one node spread on a small spiral, so a queue shows as a cluster */
    if (rank === 0) { return node; }
    var scale = 0.9 / Math.pow(2, map.getZoom() - 3);
    var angle = rank * 2.39996, r = scale * Math.sqrt(rank) * 0.35;
    return [node[0] + r * Math.sin(angle), node[1] + r * Math.cos(angle) / Math.cos(node[0] * Math.PI / 180)];
  }

  function draw(t) {
    var ranks = {};
    data.trains.forEach(function (segs, i) {
      var k = cursor[i];
      if (k >= segs.length || segs[k][0] > t) { k = 0; }
      while (k < segs.length && segs[k][1] < t) { k++; }
      cursor[i] = k;
      var m = markers[i];
      if (showTrains.checked && k < segs.length && segs[k][0] <= t) {
        var seg = segs[k], pos;
        if (seg[2] === 0) {
          var rank = ranks[seg[3]] || 0;
          ranks[seg[3]] = rank + 1;
          pos = atNode(data.nodes[seg[3]], rank);
        } else {
          var frac = seg[1] > seg[0] ? (t - seg[0]) / (seg[1] - seg[0]) : 1;
          pos = along(data.legs[seg[3]], Math.max(0, Math.min(1, seg[4] < 0 ? 1 - frac : frac)));
        }
        m.setLatLng(pos);
        m.setStyle({ fillColor: seg[2] === 0 ? colours.node : colours.move });
        if (!layer.hasLayer(m)) { layer.addLayer(m); }
      } else if (layer.hasLayer(m)) {
        layer.removeLayer(m);
      }
    });
    var when = new Date(start + t * 3600 * 1000).toISOString().slice(0, 13).replace("T", " ");
    clock.textContent = when + ":00 · day " + (t / 24).toFixed(1);
    slider.value = String(t);
  }

  var control = L.control({ position: "bottomright" });
  var slider, clock, button, speed, showTrains;
  control.onAdd = function () {
    var box = L.DomUtil.create("div", "corridors-anim");
    var label = L.DomUtil.create("span", "corridors-label", box);
    label.textContent = "Trains of " + data.label + ", first " + Math.round(data.window_h / 24) + " days" +
      (data.total_trains > data.trains.length ? " (" + data.trains.length + " of " + data.total_trains +
        " trains shown)" : " (" + data.trains.length + " trains)");
    button = L.DomUtil.create("button", "corridors-play", box);
    button.type = "button";
    button.textContent = "▶ play";
    slider = L.DomUtil.create("input", "corridors-slider", box);
    slider.type = "range"; slider.min = "0"; slider.max = String(data.window_h); slider.step = "1";
    speed = L.DomUtil.create("select", "corridors-speed", box);
    [["12", "½ day/s"], ["24", "1 day/s"], ["72", "3 days/s"], ["168", "1 week/s"]].forEach(function (o) {
      var opt = document.createElement("option"); opt.value = o[0]; opt.textContent = o[1];
      if (o[0] === "24") { opt.selected = true; }
      speed.appendChild(opt);
    });
    var toggle = L.DomUtil.create("label", "", box);
    showTrains = document.createElement("input"); showTrains.type = "checkbox"; showTrains.checked = true;
    toggle.appendChild(showTrains); toggle.appendChild(document.createTextNode(" trains "));
    clock = L.DomUtil.create("span", "corridors-clock", box);
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);

  var playing = null, tick = 80;
  function step() {
    var t = Number(slider.value) + Number(speed.value) * tick / 1000;
    if (t > data.window_h) { stop(); t = data.window_h; }
    draw(t);
  }
  function stop() { if (playing) { clearInterval(playing); } playing = null; button.textContent = "▶ play"; }
  button.addEventListener("click", function () {
    if (playing) { stop(); return; }
    if (Number(slider.value) >= data.window_h) { draw(0); }
    playing = setInterval(step, tick); button.textContent = "❚❚ pause";
  });
  slider.addEventListener("input", function () { draw(Number(slider.value)); });
  showTrains.addEventListener("change", function () { draw(Number(slider.value)); });
  map.on("zoomend", function () { draw(Number(slider.value)); });
  draw(0);
  window.corridorsAnimation = { draw: draw, trains: data.trains.length };
  return window.corridorsAnimation;
};
