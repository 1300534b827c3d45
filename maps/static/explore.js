// The what-if explorer: the sliders pick a point; the table, the histograms and the map's circles
// show it. The data come from the page's JSON block; text is set with textContent only.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("explore-data").textContent);
  var look = JSON.parse(document.getElementById("explore-look").textContent);
  var sliders = Array.prototype.slice.call(document.querySelectorAll("input.explore-slider"));
  var reference = data.reference_point === null ? 0 : data.reference_point;

  function fixed(x, digits) {
    return x === null || x === undefined ? "\u2013" : x.toFixed(digits);
  }
  function signed(x, digits) {
    if (x === null || x === undefined) return "\u2013";
    var text = x.toFixed(digits);
    return (x > 0 ? "+" : "") + (Number(text) === 0 ? (0).toFixed(digits) : text);
  }
  function value(param, i) {
    var v = param.values[i];
    return String(Number(v.toPrecision(6))) + (param.scales ? "\u00d7" : "");
  }
  function pointIndex() {
    var i = Number(sliders[0].value);
    return sliders.length > 1 ? i * data.params[1].values.length + Number(sliders[1].value) : i;
  }
  function colour(hours) {
    for (var k = 0; k < look.wait_limits_h.length; k++) {
      if (hours < look.wait_limits_h[k]) return look.wait_colours[k];
    }
    return look.wait_colours[look.wait_colours.length - 1];
  }
  function radius(hours) {
    return hours > 0 ? Math.min(look.radius_min + look.radius_per_sqrt_h * Math.sqrt(hours), look.radius_max) : 2;
  }

  // each service's tallest bar over every point: the y scale stays put as the slider moves
  var tallest = data.services.map(function (s) {
    var top = 0;
    data.points.forEach(function (p) {
      var h = p.services[s.name].histogram, n = 0, k;
      for (k = 0; k < h.length; k++) n += h[k];
      for (k = 0; k < h.length; k++) if (n) top = Math.max(top, h[k] / n);
    });
    return top || 1;
  });

  function drawBars(figure, histogram, top, cls) {
    var bars = figure.querySelectorAll("rect." + cls);
    var n = histogram.reduce(function (a, b) { return a + b; }, 0);
    for (var k = 0; k < bars.length; k++) {
      var share = n ? histogram[k] / n : 0;
      var h = look.bar_height * share / top;
      bars[k].setAttribute("y", (look.bar_bottom - h).toFixed(1));
      bars[k].setAttribute("height", h.toFixed(1));
    }
  }

  function update() {
    var at = pointIndex(), point = data.points[at], base = data.points[reference];
    sliders.forEach(function (slider, j) {
      var param = data.params[j], i = Number(slider.value);
      var own = param.base_value !== null && Math.abs(param.values[i] - param.base_value) < 1e-9;
      document.getElementById("explore-value-" + j).textContent =
        value(param, i) + (own ? " (the scenario's own value)" : "");
    });
    var rows = document.querySelectorAll("#explore-kpi tbody tr");
    Array.prototype.forEach.call(rows, function (row) {
      var i = Number(row.getAttribute("data-i")), s = data.services[i];
      var r = point.services[s.name], b = base.services[s.name], cells = row.cells;
      var arrived = r.arrived > 0;
      cells[1].textContent = r.trains_per_week < 1 ? r.trains_per_week.toFixed(2) : r.trains_per_week.toFixed(1);
      cells[2].textContent = arrived ? fixed(r.transit_d_mean, 2) : "\u2013";
      cells[3].textContent = arrived ? signed(r.transit_d_mean - b.transit_d_mean, 2) : "\u2013";
      cells[4].textContent = arrived ? fixed(r.transit_d_p50, 2) : "\u2013";
      cells[5].textContent = arrived ? fixed(r.transit_d_p95, 2) : "\u2013";
      cells[6].textContent = r.transit_d_ci95 ? r.transit_d_ci95[0].toFixed(2) + "\u2013" + r.transit_d_ci95[1].toFixed(2) : "\u2013";
      cells[7].textContent = r.on_time_share === null ? "\u2013" : (100 * r.on_time_share).toFixed(1) + "%";
      cells[8].textContent = fixed(r.waiting_d, 2);
      var figure = document.getElementById("explore-hist-" + i);
      if (figure) {
        drawBars(figure, r.histogram, tallest[i], "bar");
        figure.querySelector(".hist-mean").textContent =
          arrived ? "mean " + r.transit_d_mean.toFixed(2) + " d, P95 " + r.transit_d_p95.toFixed(2) + " d" : "no train arrived";
      }
    });
    var stays = [];
    data.nodes.forEach(function (node, i) {
      var n = point.nodes[node.id];
      var stay = n ? n.stay_h_mean : 0;
      var circle = document.getElementById("explore-node-" + i);
      circle.setAttribute("r", radius(stay).toFixed(1));
      circle.setAttribute("fill", colour(stay));
      circle.querySelector("title").textContent = node.id + " (" + node.name + "): " +
        (n ? "stays " + stay.toFixed(1) + " h beyond service (queue " + (n.wait_h_mean || 0).toFixed(1) +
             " h, held after service " + (n.hold_h_mean || 0).toFixed(1) + " h)" : "not visited");
      if (n) stays.push([stay, node, n, circle]);
    });
    stays.sort(function (a, b) { return b[0] - a[0]; });
    var list = document.getElementById("explore-top-waits");
    while (list.firstChild) list.removeChild(list.firstChild);
    stays.slice(0, look.top_nodes).forEach(function (row) {
      var li = document.createElement("li");
      li.textContent = row[1].id + " " + row[0].toFixed(1) + " h (queue " + (row[2].wait_h_mean || 0).toFixed(1) +
        " h, held " + (row[2].hold_h_mean || 0).toFixed(1) + " h)";
      list.appendChild(li);
    });
    // the longest stays named on the map
    var labels = document.getElementById("explore-labels");
    while (labels.firstChild) labels.removeChild(labels.firstChild);
    stays.slice(0, look.map_labels).forEach(function (row) {
      if (row[0] <= 0) return;
      var text = document.createElementNS("http://www.w3.org/2000/svg", "text");
      var r = Number(row[3].getAttribute("r"));
      text.setAttribute("x", (Number(row[3].getAttribute("cx")) + r + 2).toFixed(1));
      text.setAttribute("y", (Number(row[3].getAttribute("cy")) + 4).toFixed(1));
      text.textContent = row[1].id + " " + row[0].toFixed(0) + " h";
      labels.appendChild(text);
    });
  }

  data.services.forEach(function (s, i) {
    var figure = document.getElementById("explore-hist-" + i);
    if (figure) drawBars(figure, data.points[reference].services[s.name].histogram, tallest[i], "ghost");
  });
  sliders.forEach(function (slider) { slider.addEventListener("input", update); });
  update();
  window.corridorsExplorer = { update: update, points: data.points.length };
})();
