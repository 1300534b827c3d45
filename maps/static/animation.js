/* corridors: trains moving along the legs and waiting at nodes, played with a time slider.
   Reads the JSON in #corridors-anim-data; written for this project, no library but Leaflet. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("corridors-anim-data").textContent);
  var map = window[data.map];
  var renderer = L.canvas({ padding: 0.5 });
  var layer = L.layerGroup().addTo(map);
  var start = Date.parse((data.start_date.length === 10 ? data.start_date + "T00:00" : data.start_date) + "Z");
  var colours = { move: "#1f4e9c", node: "#e08214" };
  var markers = data.trains.map(function (train) {
    return L.circleMarker([0, 0], { radius: 3.5, renderer: renderer, weight: 1, color: "#ffffff",
      fillOpacity: 0.95, interactive: false });
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

  function position(seg, t) {
    /* seg: [t0, t1, kind, ref, dir]; kind 0 = at node ref, 1 = on leg ref (dir 1 forward, -1 back) */
    if (seg[2] === 0) { return data.nodes[seg[3]]; }
    var frac = seg[1] > seg[0] ? (t - seg[0]) / (seg[1] - seg[0]) : 1;
    if (seg[4] < 0) { frac = 1 - frac; }
    return along(data.legs[seg[3]], Math.max(0, Math.min(1, frac)));
  }

  function draw(t) {
    data.trains.forEach(function (segs, i) {
      var k = cursor[i];
      if (k >= segs.length || segs[k][0] > t) { k = 0; }
      while (k < segs.length && segs[k][1] < t) { k++; }
      cursor[i] = k;
      var m = markers[i];
      if (k < segs.length && segs[k][0] <= t) {
        m.setLatLng(position(segs[k], t));
        m.setStyle({ fillColor: segs[k][2] === 0 ? colours.node : colours.move });
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
  var box, slider, clock, button;
  control.onAdd = function () {
    box = L.DomUtil.create("div", "corridors-anim");
    button = L.DomUtil.create("button", "corridors-play", box);
    button.type = "button";
    button.textContent = "▶ play";
    slider = L.DomUtil.create("input", "corridors-slider", box);
    slider.type = "range"; slider.min = "0"; slider.max = String(data.window_h); slider.step = "1";
    clock = L.DomUtil.create("span", "corridors-clock", box);
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);

  var playing = null;
  function step() {
    var t = Number(slider.value) + data.step_h;
    if (t > data.window_h) { t = 0; }
    draw(t);
  }
  button.addEventListener("click", function () {
    if (playing) { clearInterval(playing); playing = null; button.textContent = "▶ play"; }
    else { playing = setInterval(step, 80); button.textContent = "❚❚ pause"; }
  });
  slider.addEventListener("input", function () { draw(Number(slider.value)); });
  draw(0);
  window.corridorsAnimation = { draw: draw, trains: data.trains.length };
})();
