/* C360 map: parish choropleth and every customer on one canvas, clustered on a pixel grid.
 *
 * Leaflet draws one DOM element per marker; Leaflet.markercluster builds a cluster tree of
 * marker objects first. Both slow to a crawl past a few thousand customers. Here points are
 * kept in typed arrays (Web Mercator, 0..1), binned into 64-pixel cells of the world grid at
 * the current zoom (so clusters do not jump while panning) and drawn on one canvas: one pass
 * over the points per redraw, no object per point. Clicks are hit-tested against what was drawn.
 *
 * The page talks to the app through Qt WebChannel ("bridge": openCustomer(key),
 * showCustomers(keys), pageReady()); without it (a plain browser) clicks only zoom.
 */
(function () {
  "use strict";
  var C360 = (window.C360 = window.C360 || {});
  var CELL = 64, PAD = 0.5, SINGLE_ZOOM = 17, MAX_LIST = 500;

  function mercX(lon) { return (lon + 180) / 360; }
  function mercY(lat) {
    var s = Math.sin((lat * Math.PI) / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  function shortCount(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e4) return Math.round(n / 1e3) + "k";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return String(n);
  }

  function radius(n) { return n === 1 ? 7 : Math.min(24, 10 + 4 * Math.log10(n)); }

  // Grid cells that would overlap on screen are merged, biggest first, with their 8 neighbours
  // only: one pass, no quadratic search.
  function mergeNeighbours(list, cells, ncat) {
    // Biggest first, in a sorted copy: the cell table holds positions in ``list`` itself.
    var order = list.slice().sort(function (a, b) { return b.n - a.n; });
    for (var k = 0; k < order.length; k++) {
      var a = order[k];
      if (a.gone) continue;
      a.done = true;  // settled: a smaller cluster coming later must not swallow it (no chain reaction)
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          if (!dx && !dy) continue;
          var b = cells(a.gx + dx, a.gy + dy);
          if (b === undefined || b.gone || b.done || b === a) continue;
          var ddx = a.sx / a.n - b.sx / b.n, ddy = a.sy / a.n - b.sy / b.n;
          var reach = radius(a.n) + radius(b.n) + 2;
          if (ddx * ddx + ddy * ddy >= reach * reach) continue;
          a.n += b.n; a.sx += b.sx; a.sy += b.sy;
          for (var q = 0; q < ncat; q++) a.counts[q] += b.counts[q];
          if (b.minX < a.minX) a.minX = b.minX;
          if (b.maxX > a.maxX) a.maxX = b.maxX;
          if (b.minY < a.minY) a.minY = b.minY;
          if (b.maxY > a.maxY) a.maxY = b.maxY;
          b.gone = true;
        }
      }
    }
    return list.filter(function (c) { return !c.gone; });
  }

  var PointLayer = L.Layer.extend({
    initialize: function (points, palettes, colourBy) {
      var n = points.key.length;
      this._n = n;
      this._key = points.key;
      this._x = new Float64Array(n);
      this._y = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        this._x[i] = mercX(points.lon[i]);
        this._y[i] = mercY(points.lat[i]);
      }
      this._cats = { segment: points.segment, band: points.band };
      this._business = points.business;
      this._palettes = palettes;
      this._colourBy = colourBy;
      this._drawn = [];
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "c360-points leaflet-zoom-hide");
      map.getPane(this.options.pane || "overlayPane").appendChild(this._canvas);
      map.on("moveend", this._redraw, this);
      map.on("resize viewreset zoomend", this._reset, this);
      map.on("click", this._onClick, this);
      map.on("mousemove", this._onMove, this);
      this._redraw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend", this._redraw, this);
      map.off("resize viewreset zoomend", this._reset, this);
      map.off("click", this._onClick, this);
      map.off("mousemove", this._onMove, this);
      this._drawn = [];
    },
    setColourBy: function (what) {
      this._colourBy = what;
      this._area = null;
      this._redraw();
    },
    count: function () { return this._n; },
    _reset: function () {  // the layer's coordinates changed: what was drawn cannot be reused
      this._area = null;
      this._redraw();
    },
    containerPointOf: function (d) {  // where a drawn item is on screen
      var p = this._map.layerPointToContainerPoint([this._topLeft.x + d.x, this._topLeft.y + d.y]);
      return [p.x, p.y];
    },
    drawnCount: function () { return this._drawn.length; },
    _redraw: function () {
      var map = this._map;
      if (!map) return;
      var t0 = performance.now();
      var size = map.getSize(), padX = Math.round(size.x * PAD), padY = Math.round(size.y * PAD);
      var w = size.x + 2 * padX, h = size.y + 2 * padY;
      var zoomNow = map.getZoom();
      var seen = map.containerPointToLayerPoint([0, 0]);
      var last = this._area;
      if (last && last.zoom === zoomNow && last.sx === size.x && last.sy === size.y &&
          seen.x >= last.x && seen.y >= last.y && seen.x + size.x <= last.x + last.w && seen.y + size.y <= last.y + last.h) {
        return;  // a pan still inside what was drawn: the canvas moved with the map, nothing to redraw
      }
      var topLeft = map.containerPointToLayerPoint([-padX, -padY]);
      this._area = { zoom: zoomNow, sx: size.x, sy: size.y, x: topLeft.x, y: topLeft.y, w: w, h: h };
      var canvas = this._canvas, ratio = window.devicePixelRatio || 1;
      if (canvas.width !== w * ratio || canvas.height !== h * ratio) {  // resizing reallocates: only when needed
        canvas.width = w * ratio; canvas.height = h * ratio;
        canvas.style.width = w + "px"; canvas.style.height = h + "px";
      }
      L.DomUtil.setPosition(canvas, topLeft);
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);

      var zoom = map.getZoom(), scale = 256 * Math.pow(2, zoom), origin = map.getPixelOrigin();
      var wx0 = topLeft.x + origin.x, wy0 = topLeft.y + origin.y;  // canvas corner, world pixels
      var cats = this._cats[this._colourBy], palette = this._palettes[this._colourBy];
      var ncat = palette.length, xs = this._x, ys = this._y, n = this._n;
      var single = zoom >= SINGLE_ZOOM;
      // Cells of the world grid that cover the canvas, in a flat table (no hashing per point).
      var gx0 = Math.floor(wx0 / CELL) - 1, gy0 = Math.floor(wy0 / CELL) - 1;
      var cols = Math.ceil(w / CELL) + 3, rows = Math.ceil(h / CELL) + 3;
      var table = new Int32Array(cols * rows).fill(-1), list = [];
      for (var i = 0; i < n; i++) {
        var px = xs[i] * scale - wx0, py = ys[i] * scale - wy0;
        if (px < -CELL || py < -CELL || px > w + CELL || py > h + CELL) continue;
        var gx = Math.floor((px + wx0) / CELL), gy = Math.floor((py + wy0) / CELL);
        var slot = (gx - gx0) + (gy - gy0) * cols;
        var c = single || table[slot] < 0 ? undefined : list[table[slot]];
        if (c === undefined) {
          c = { n: 0, sx: 0, sy: 0, first: i, gx: gx, gy: gy, gone: false, done: false, counts: new Int32Array(ncat),
                minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
          if (!single) table[slot] = list.length;
          list.push(c);
        }
        c.n++; c.sx += px; c.sy += py; c.counts[cats[i]]++;
        if (xs[i] < c.minX) c.minX = xs[i];
        if (xs[i] > c.maxX) c.maxX = xs[i];
        if (ys[i] < c.minY) c.minY = ys[i];
        if (ys[i] > c.maxY) c.maxY = ys[i];
      }
      var cells = function (gx, gy) {
        var cx = gx - gx0, cy = gy - gy0;
        if (cx < 0 || cy < 0 || cx >= cols || cy >= rows) return undefined;
        var k = table[cx + cy * cols];
        return k >= 0 ? list[k] : undefined;
      };
      if (!single) list = mergeNeighbours(list, cells, ncat);
      var drawn = [];
      ctx.font = "bold 11px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (var k = 0; k < list.length; k++) {
        var cl = list[k];
        var x = cl.sx / cl.n, y = cl.sy / cl.n;
        if (cl.n === 1) {
          var p = cl.first;
          ctx.fillStyle = palette[cats[p]];
          ctx.strokeStyle = "#ffffff";
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          if (this._business[p]) ctx.rect(x - 5, y - 5, 10, 10); else ctx.arc(x, y, 5.5, 0, 2 * Math.PI);
          ctx.fill(); ctx.stroke();
          drawn.push({ x: x, y: y, r: 7, n: 1, first: p, cell: cl });
        } else {
          // A cluster: its count on a dark disc, ringed by its mix of colours (a donut chart).
          var r = radius(cl.n);
          ctx.globalAlpha = 0.9;
          ctx.fillStyle = "#37474f";
          ctx.beginPath(); ctx.arc(x, y, r - 3, 0, 2 * Math.PI); ctx.fill();
          ctx.globalAlpha = 1;
          ctx.lineWidth = 5;
          var start = -Math.PI / 2;
          for (var q = 0; q < ncat; q++) {
            if (!cl.counts[q]) continue;
            var sweep = (2 * Math.PI * cl.counts[q]) / cl.n;
            ctx.strokeStyle = palette[q];
            ctx.beginPath(); ctx.arc(x, y, r, start, start + sweep); ctx.stroke();
            start += sweep;
          }
          ctx.fillStyle = "#ffffff";
          ctx.fillText(shortCount(cl.n), x, y);
          drawn.push({ x: x, y: y, r: r, n: cl.n, first: cl.first, cell: cl });
        }
      }
      this._drawn = drawn;
      this._topLeft = topLeft;
      C360.lastDrawMs = performance.now() - t0;
    },
    _hit: function (containerPoint) {
      var p = this._map.containerPointToLayerPoint(containerPoint);
      var x = p.x - this._topLeft.x, y = p.y - this._topLeft.y;
      for (var k = this._drawn.length - 1; k >= 0; k--) {
        var d = this._drawn[k], dx = d.x - x, dy = d.y - y;
        if (dx * dx + dy * dy <= (d.r + 2) * (d.r + 2)) return d;
      }
      return null;
    },
    _members: function (cell) {
      // The points of a drawn cell, found again by its bounds (only on a click).
      var out = [], xs = this._x, ys = this._y;
      for (var i = 0; i < this._n && out.length < MAX_LIST; i++) {
        if (xs[i] >= cell.minX && xs[i] <= cell.maxX && ys[i] >= cell.minY && ys[i] <= cell.maxY) out.push(this._key[i]);
      }
      return out;
    },
    _onClick: function (e) {
      var d = this._hit(e.containerPoint);
      if (!d) return;
      var map = this._map;
      if (d.n === 1) {
        if (C360.bridge) C360.bridge.openCustomer(this._key[d.first]);
        return;
      }
      var c = d.cell, scale = 256 * Math.pow(2, map.getZoom());
      var spread = Math.max(c.maxX - c.minX, c.maxY - c.minY) * scale;
      if (spread < 2 || map.getZoom() >= map.getMaxZoom()) {
        // Customers at one spot (placed at their town): list them rather than zoom for ever.
        if (C360.bridge) C360.bridge.showCustomers(JSON.stringify(this._members(c)));
        return;
      }
      var sw = map.unproject([c.minX * scale, c.maxY * scale], map.getZoom());
      var ne = map.unproject([c.maxX * scale, c.minY * scale], map.getZoom());
      var bounds = L.latLngBounds(sw, ne).pad(0.2);
      var zoom = Math.min(map.getMaxZoom(), Math.max(map.getZoom() + 1, map.getBoundsZoom(bounds)));
      map.setView(bounds.getCenter(), zoom);  // always at least one step in
    },
    _onMove: function (e) {
      var d = this._hit(e.containerPoint);
      this._map.getContainer().style.cursor = d ? "pointer" : "";
      this._map.getContainer().title = d ? (d.n === 1 ? "Open this customer" : shortCount(d.n) + " customers: click to zoom in") : "";
    },
  });

  function legendHtml(metric, colouring) {
    var html = "<div class='c360-legend-title'>" + metric.label + "</div>";
    metric.legend.forEach(function (e) {
      html += "<div><i style='background:" + e[0] + "'></i>" + e[1] + "</div>";
    });
    if (metric.note) html += "<div class='c360-legend-note'>" + metric.note + "</div>";
    html += "<div class='c360-legend-title' style='margin-top:6px'>" + colouring.label + "</div>";
    colouring.names.forEach(function (name, i) {
      html += "<div><i class='c360-dot' style='background:" + colouring.colours[i] + "'></i>" + name + "</div>";
    });
    html += "<div><i class='c360-dot c360-square'></i>business &nbsp; <i class='c360-dot'></i>person</div>";
    return html;
  }

  C360.init = function (map, parishLayer, data) {
    C360.map = map;
    C360.data = data;
    C360.parishes = parishLayer;
    var palettes = {}, colourings = data.colourings;
    Object.keys(colourings).forEach(function (k) { palettes[k] = colourings[k].colours; });
    C360.points = new PointLayer(window.C360_POINTS, palettes, data.colourBy);
    map.createPane("c360points").style.zIndex = 450;
    C360.points.options.pane = "c360points";
    C360.points.addTo(map);
    L.control.layers(null, { "Parishes": parishLayer, "Customers": C360.points }, { collapsed: true }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution(data.attribution);
    C360.legend = L.control({ position: "bottomright" });
    C360.legend.onAdd = function () {
      var div = L.DomUtil.create("div", "c360-legend");
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    C360.legend.addTo(map);
    parishLayer.eachLayer(function (layer) {
      layer.on("mouseover", function () { layer.setStyle({ weight: 3, color: "#333333" }); });
      layer.on("mouseout", function () { layer.setStyle({ weight: 1, color: "#555555" }); });
    });
    C360.setMetric(data.metric);
    // The island beside the legend, not under it.
    map.fitBounds(data.bounds, { paddingBottomRight: [C360.legend.getContainer().offsetWidth + 10, 0], animate: false });
    if (window.qt && window.QWebChannel) {
      new QWebChannel(qt.webChannelTransport, function (channel) {
        C360.bridge = channel.objects.bridge;
        C360.bridge.pageReady();
      });
    }
  };

  C360.setMetric = function (key) {
    var metric = C360.data.metrics[key];
    C360.data.metric = key;
    C360.parishes.eachLayer(function (layer) {
      var code = layer.feature.properties.iso_3166_2;
      layer.setStyle({ fillColor: metric.colours[code] || "#dddddd", fillOpacity: 0.55, weight: 1, color: "#555555" });
      layer.unbindTooltip();
      layer.bindTooltip("<b>" + layer.feature.properties.name + "</b><br>" + metric.label + ": " + (metric.text[code] || "no data"), { sticky: true });
    });
    C360.legend.getContainer().innerHTML = legendHtml(metric, C360.data.colourings[C360.data.colourBy]);
  };

  C360.updateMetrics = function (metrics) {  // a new period: new values, same page
    C360.data.metrics = metrics;
    C360.setMetric(C360.data.metric);
  };

  C360.setColourBy = function (key) {
    C360.data.colourBy = key;
    C360.points.setColourBy(key);
    C360.setMetric(C360.data.metric);
  };

  C360.showPlace = function (lat, lon, radiusKm, label) {
    C360.clearPlace();
    C360.place = L.layerGroup([
      L.circle([lat, lon], { radius: radiusKm * 1000, color: "#1565c0", weight: 2, fillOpacity: 0.05, interactive: false }),
      L.circleMarker([lat, lon], { radius: 7, color: "#ffffff", weight: 2, fillColor: "#1565c0", fillOpacity: 1 }).bindTooltip(label),
    ]).addTo(C360.map);
    C360.map.fitBounds(L.latLng(lat, lon).toBounds(radiusKm * 2200));
  };

  C360.clearPlace = function () {
    if (C360.place) { C360.place.remove(); C360.place = null; }
  };

  // For the benchmark and the tests: pan by steps, one per frame, and report frame intervals.
  C360.panTest = function (steps, dx, done) {
    var times = [], k = 0;
    function step(t) {
      times.push(t);
      if (k++ >= steps) {
        var gaps = [];
        for (var i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
        done(gaps);
        return;
      }
      C360.map.panBy([k % 20 < 10 ? dx : -dx, 0], { animate: false });
      requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  };
})();
