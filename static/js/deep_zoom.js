// Deep zoom (issue 22): a long handscroll browsed from its tile pyramid (catalogue.images.make_tiles).
// Only the tiles in view are fetched, at the level the screen needs (its device pixels), with the one
// tile of the whole painting underneath while they arrive. Drag, the arrow keys, Page Up/Down, Home/End
// and the wheel move along it; the buttons, + and -, Ctrl + wheel and a pinch zoom. The figures' marks
// (children with data-box="x,y,w,h" in the painting's pixels) follow the painting. No library, no CDN.
(function () {
  "use strict";
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function levelsOf(width, height, tile) {
    // The same levels as the server's tile_levels: halved (rounded up) until the painting fits one tile.
    var steps = 0;
    while (Math.ceil(Math.max(width, height) / Math.pow(2, steps)) > tile) steps += 1;
    var levels = [];
    for (var level = 0; level <= steps; level += 1) {
      var divisor = Math.pow(2, steps - level);
      var w = Math.ceil(width / divisor), h = Math.ceil(height / divisor);
      levels.push({ level: level, divisor: divisor, width: w, height: h,
                    columns: Math.ceil(w / tile), rows: Math.ceil(h / tile) });
    }
    return levels;
  }

  function DeepZoom(root) {
    var width = Number(root.dataset.width), height = Number(root.dataset.height);
    var tile = Number(root.dataset.tileSize) || 256;
    var base = root.dataset.tilesUrl.replace(/\/$/, "");
    var extension = root.dataset.format || "jpg";
    var levels = levelsOf(width, height, tile);
    var stage = root.querySelector(".deep-zoom-stage");
    var marks = Array.prototype.slice.call(root.querySelectorAll("[data-box]")).map(function (element) {
      return { element: element, box: element.dataset.box.split(",").map(Number) };
    });
    var controls = document.querySelectorAll('[data-deep-zoom-for="' + root.id + '"] [data-deep-zoom-action]');
    var map = makeMap();
    var tiles = {}; // "level/column/row" -> {img, level, column, row, loaded}
    var view = { x: 0, y: 0, scale: 1 }; // painting pixels at the viewport's top left; screen px per painting px
    var size = { width: 1, height: 1 };
    var dragged = false;
    // Reading direction: left to right by default (figures are numbered so); a handscroll is traditionally
    // unrolled from the right, which a reader may choose (kept for the next scroll in this browser).
    var rightToLeft = false;
    try { rightToLeft = window.localStorage.getItem("deepZoomDirection") === "rtl"; } catch (error) { /* private mode */ }

    // The whole scroll in a strip under the view (a handscroll only): where the view is along it, and a
    // click or a drag there goes to that place. Drawn from the smallest level as wide as the strip.
    function makeMap() {
      if (width < height * 2 || root.dataset.map === "off") return null;
      var strip = document.createElement("div");
      strip.className = "deep-zoom-map";
      strip.setAttribute("aria-hidden", "true");
      var frame = document.createElement("div");
      frame.className = "deep-zoom-map-view";
      strip.appendChild(frame);
      // Each marked figure's number where it stands along the scroll.
      Array.prototype.forEach.call(root.querySelectorAll("[data-box]"), function (element) {
        var box = element.dataset.box.split(",").map(Number), label = element.querySelector("span");
        if (!label) return;
        var pin = document.createElement("span");
        pin.className = "deep-zoom-map-figure";
        pin.textContent = label.textContent;
        pin.style.left = (100 * (box[0] + box[2] / 2) / width) + "%";
        strip.appendChild(pin);
      });
      root.insertAdjacentElement("afterend", strip);
      return { strip: strip, frame: frame, drawnLevel: null };
    }
    function drawMap() {
      if (!map) return;
      // As wide as the view, but never taller than 90 px (a short scroll gets a shorter strip).
      var mapWidth = Math.min(root.clientWidth || 1, 90 * width / height), mapHeight = mapWidth * height / width;
      map.strip.style.width = Math.round(mapWidth) + "px";
      map.strip.style.height = Math.round(mapHeight) + "px";
      var wanted = mapWidth * (window.devicePixelRatio || 1), level = levels[levels.length - 1];
      for (var index = 0; index < levels.length; index += 1) {
        if (levels[index].width >= wanted) { level = levels[index]; break; }
      }
      if (map.drawnLevel !== level) {
        map.strip.querySelectorAll("img").forEach(function (img) { img.remove(); });
        for (var column = 0; column < level.columns; column += 1) {
          for (var row = 0; row < level.rows; row += 1) {
            var img = document.createElement("img");
            img.alt = "";
            img.draggable = false;
            img.src = base + "/" + level.level + "/" + column + "_" + row + "." + extension;
            img.style.left = (100 * column * tile / level.width) + "%";
            img.style.top = (100 * row * tile / level.height) + "%";
            img.style.width = (100 * Math.min(tile, level.width - column * tile) / level.width) + "%";
            img.style.height = (100 * Math.min(tile, level.height - row * tile) / level.height) + "%";
            map.strip.insertBefore(img, map.frame);
          }
        }
        map.drawnLevel = level;
      }
      var shownWidth = Math.min(width, size.width / view.scale), shownHeight = Math.min(height, size.height / view.scale);
      map.frame.style.left = (100 * Math.max(0, view.x) / width) + "%";
      map.frame.style.width = (100 * shownWidth / width) + "%";
      map.frame.style.top = (100 * Math.max(0, view.y) / height) + "%";
      map.frame.style.height = (100 * shownHeight / height) + "%";
    }
    function limits() {
      var whole = Math.min(size.width / width, size.height / height);
      return { min: whole, fit: size.height / height, max: Math.max(2, whole) };
    }
    function clamp() {
      var shownWidth = size.width / view.scale, shownHeight = size.height / view.scale;
      view.x = shownWidth >= width ? (width - shownWidth) / 2 : Math.max(0, Math.min(width - shownWidth, view.x));
      view.y = shownHeight >= height ? (height - shownHeight) / 2 : Math.max(0, Math.min(height - shownHeight, view.y));
    }
    function chooseLevel() {
      // The smallest level with at least one of its pixels per device pixel.
      var wanted = view.scale * (window.devicePixelRatio || 1);
      for (var index = 0; index < levels.length; index += 1) {
        if (1 / levels[index].divisor >= wanted) return levels[index];
      }
      return levels[levels.length - 1];
    }
    function place(element, left, top, right, bottom) {
      var x0 = Math.round((left - view.x) * view.scale), y0 = Math.round((top - view.y) * view.scale);
      var x1 = Math.round((right - view.x) * view.scale), y1 = Math.round((bottom - view.y) * view.scale);
      element.style.left = x0 + "px";
      element.style.top = y0 + "px";
      element.style.width = (x1 - x0) + "px";
      element.style.height = (y1 - y0) + "px";
      return y0;
    }
    function tileFor(level, column, row) {
      var key = level.level + "/" + column + "/" + row;
      var entry = tiles[key];
      if (!entry) {
        var img = document.createElement("img");
        img.alt = "";
        img.draggable = false;
        img.decoding = "async";
        img.className = "deep-zoom-tile";
        img.dataset.level = level.level;
        entry = tiles[key] = { img: img, level: level, column: column, row: row, loaded: false };
        img.addEventListener("load", function () { entry.loaded = true; img.classList.add("is-loaded"); tidy(); });
        // A tile that cannot be had (gone with a new image) must not keep the level below on screen forever.
        img.addEventListener("error", function () { entry.loaded = true; tidy(); });
        img.src = base + "/" + level.level + "/" + column + "_" + row + "." + extension;
        stage.appendChild(img);
      }
      return entry;
    }
    function visibleTiles(level) {
      var d = level.divisor, reach = tile * d;
      var first = Math.max(0, Math.floor(view.x / reach)), top = Math.max(0, Math.floor(view.y / reach));
      var last = Math.min(level.columns - 1, Math.floor((view.x + size.width / view.scale - 0.001) / reach));
      var bottom = Math.min(level.rows - 1, Math.floor((view.y + size.height / view.scale - 0.001) / reach));
      var found = [];
      for (var column = first; column <= last; column += 1) {
        for (var row = top; row <= bottom; row += 1) found.push(tileFor(level, column, row));
      }
      return found;
    }
    var current = null, wanted = {};
    function tidy() {
      // Once every tile in view at the current level is there, the others (another level, out of view) go;
      // the one tile of the whole painting always stays underneath.
      var keys = Object.keys(wanted);
      if (!keys.every(function (key) { return tiles[key] && tiles[key].loaded; })) return;
      Object.keys(tiles).forEach(function (key) {
        if (!wanted[key] && tiles[key].level.level !== 0) {
          tiles[key].img.remove();
          delete tiles[key];
        }
      });
    }
    function render() {
      clamp();
      current = chooseLevel();
      wanted = {};
      tileFor(levels[0], 0, 0);
      visibleTiles(current).forEach(function (entry) { wanted[current.level + "/" + entry.column + "/" + entry.row] = true; });
      Object.keys(tiles).forEach(function (key) {
        var entry = tiles[key], d = entry.level.divisor;
        var left = entry.column * tile * d, top = entry.row * tile * d;
        var right = Math.min(width, (entry.column + 1) * tile * d), bottom = Math.min(height, (entry.row + 1) * tile * d);
        place(entry.img, left, top, right, bottom);
        entry.img.classList.toggle("is-current", entry.level === current);
      });
      marks.forEach(function (mark) {
        var b = mark.box;
        // A number that would be cut off at the top of the view goes under its figure instead.
        mark.element.classList.toggle("is-label-below", place(mark.element, b[0], b[1], b[0] + b[2], b[1] + b[3]) < 30);
      });
      tidy();
      var bounds = limits();
      controls.forEach(function (button) {
        var action = button.dataset.deepZoomAction;
        if (action === "in") button.disabled = view.scale >= bounds.max * 0.999;
        if (action === "out") button.disabled = view.scale <= bounds.min * 1.001;
      });
      // What a test (or a curious reader of the page) can check: the view and the level drawn.
      root.dataset.view = [view.x.toFixed(1), view.y.toFixed(1), view.scale.toFixed(5), current.level].join(",");
      root.style.touchAction = height * view.scale > size.height + 1 ? "none" : "pan-y";
      drawMap();
    }
    var frame = 0;
    function update() {
      if (!frame) frame = requestAnimationFrame(function () { frame = 0; render(); });
    }

    function zoomTo(scale, screenX, screenY) {
      var bounds = limits();
      scale = Math.max(bounds.min, Math.min(bounds.max, scale));
      if (screenX === undefined) { screenX = size.width / 2; screenY = size.height / 2; }
      var pointX = view.x + screenX / view.scale, pointY = view.y + screenY / view.scale;
      view.scale = scale;
      view.x = pointX - screenX / scale;
      view.y = pointY - screenY / scale;
      update();
    }
    function panBy(dx, dy) {
      var before = view.x + "," + view.y;
      view.x += dx / view.scale;
      view.y += dy / view.scale;
      clamp();
      update();
      return before !== view.x + "," + view.y;
    }
    var animation = 0;
    function moveTo(x, y) {
      cancelAnimationFrame(animation);
      if (reduceMotion) { view.x = x; view.y = y; update(); return; }
      var from = { x: view.x, y: view.y }, started = performance.now();
      (function step(now) {
        var t = Math.min(1, (now - started) / 300), ease = t * (2 - t);
        view.x = from.x + (x - from.x) * ease;
        view.y = from.y + (y - from.y) * ease;
        render();
        if (t < 1) animation = requestAnimationFrame(step);
      })(started);
    }
    function show(box) {
      // Bring a figure into view (centred), zoomed in far enough to see its face if it was tiny.
      var scale = view.scale;
      if (box[3] * scale < 40) zoomTo(Math.min(limits().max, 80 / Math.max(1, box[3])));
      var x = box[0] + box[2] / 2 - size.width / 2 / view.scale, y = box[1] + box[3] / 2 - size.height / 2 / view.scale;
      var shownWidth = size.width / view.scale, shownHeight = size.height / view.scale;
      moveTo(Math.max(0, Math.min(width - shownWidth, x)), Math.max(0, Math.min(height - shownHeight, y)));
    }
    function reset(where) {
      view.scale = limits().fit;
      var shownWidth = size.width / view.scale;
      view.x = where === "end" ? width - shownWidth : 0;
      view.y = 0;
      update();
    }

    // Pointers: one drags, two pinch. A drag is not a click on the mark it started on.
    var pointers = {}, pinch = null;
    root.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      dragged = false;
      cancelAnimationFrame(animation);
    });
    root.addEventListener("pointermove", function (event) {
      var last = pointers[event.pointerId];
      if (!last) return;
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
        var a = pointers[ids[0]], b = pointers[ids[1]], rect = root.getBoundingClientRect();
        var distance = Math.hypot(a.x - b.x, a.y - b.y);
        var middle = { x: (a.x + b.x) / 2 - rect.left, y: (a.y + b.y) / 2 - rect.top };
        if (pinch) {
          zoomTo(view.scale * distance / Math.max(1, pinch.distance), middle.x, middle.y);
          panBy(pinch.middle.x - middle.x, pinch.middle.y - middle.y);
        }
        pinch = { distance: distance, middle: middle };
        dragged = true;
        return;
      }
      var dx = event.clientX - last.x, dy = event.clientY - last.y;
      if (!dragged && Math.hypot(dx, dy) < 4) return;
      // Captured only once it is a drag: a captured pointer's click would go to the viewer, not the mark.
      if (!dragged && root.setPointerCapture) root.setPointerCapture(event.pointerId);
      dragged = true;
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      root.classList.add("is-dragging");
      panBy(-dx, -dy);
    });
    function release(event) {
      delete pointers[event.pointerId];
      pinch = null;
      if (!Object.keys(pointers).length) root.classList.remove("is-dragging");
    }
    root.addEventListener("pointerup", release);
    root.addEventListener("pointercancel", release);
    root.addEventListener("click", function (event) {
      if (dragged) { event.preventDefault(); event.stopPropagation(); dragged = false; }
    }, true);
    root.addEventListener("wheel", function (event) {
      var unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? size.height : 1;
      if (event.ctrlKey || event.metaKey) {
        // Ctrl + wheel, and a trackpad's pinch (which the browser reports as one).
        var rect = root.getBoundingClientRect();
        event.preventDefault();
        zoomTo(view.scale * Math.exp(-event.deltaY * unit * 0.002), event.clientX - rect.left, event.clientY - rect.top);
        return;
      }
      // The wheel moves along the scroll; at either end the page scrolls on as usual.
      var along = Math.abs(event.deltaX) > Math.abs(event.deltaY) ? event.deltaX : event.deltaY;
      var wide = width * view.scale > size.width + 1, tall = height * view.scale > size.height + 1;
      var moved = wide ? panBy(along * unit, 0) : tall ? panBy(0, event.deltaY * unit) : false;
      if (moved) event.preventDefault();
    }, { passive: false });
    root.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var step = Math.max(40, size.width / 5), handled = true;
      switch (event.key) {
        case "ArrowLeft": panBy(-step, 0); break;
        case "ArrowRight": panBy(step, 0); break;
        case "ArrowUp": panBy(0, -step); break;
        case "ArrowDown": panBy(0, step); break;
        case "PageUp": panBy(-size.width * 0.9, 0); break;
        case "PageDown": panBy(size.width * 0.9, 0); break;
        case "Home": goTo(rightToLeft ? "end" : "start"); break;
        case "End": goTo(rightToLeft ? "start" : "end"); break;
        case "+": case "=": zoomTo(view.scale * 2); break;
        case "-": case "_": zoomTo(view.scale / 2); break;
        case "0": reset(); break;
        default: handled = false;
      }
      if (handled) event.preventDefault();
    });
    controls.forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.dataset.deepZoomAction;
        if (action === "in") zoomTo(view.scale * 2);
        else if (action === "out") zoomTo(view.scale / 2);
        else if (action === "fit") reset();
        else if (action === "start") goTo(rightToLeft ? "end" : "start");
        else if (action === "end") goTo(rightToLeft ? "start" : "end");
        else if (action === "direction") {
          rightToLeft = !rightToLeft;
          try { window.localStorage.setItem("deepZoomDirection", rightToLeft ? "rtl" : "ltr"); } catch (error) { /* private mode */ }
          showDirection();
          goTo(rightToLeft ? "end" : "start");
        }
      });
    });
    function goTo(side) { moveTo(side === "end" ? width - size.width / view.scale : 0, view.y); }
    function showDirection() {
      controls.forEach(function (button) {
        if (button.dataset.deepZoomAction === "direction") button.setAttribute("aria-pressed", rightToLeft ? "true" : "false");
      });
    }
    showDirection();
    if (map) {
      var following = false;
      var follow = function (event) {
        var rect = map.strip.getBoundingClientRect();
        var x = (event.clientX - rect.left) / rect.width * width, y = (event.clientY - rect.top) / rect.height * height;
        view.x = x - size.width / 2 / view.scale;
        view.y = y - size.height / 2 / view.scale;
        update();
      };
      map.strip.addEventListener("pointerdown", function (event) {
        following = true;
        map.strip.setPointerCapture(event.pointerId);
        cancelAnimationFrame(animation);
        follow(event);
      });
      map.strip.addEventListener("pointermove", function (event) { if (following) follow(event); });
      map.strip.addEventListener("pointerup", function () { following = false; });
      map.strip.addEventListener("pointercancel", function () { following = false; });
    }
    // A mark reached with Tab is brought into view; other scripts (the curator's strip) ask the same.
    marks.forEach(function (mark) {
      mark.element.addEventListener("focus", function () {
        var rect = root.getBoundingClientRect(), own = mark.element.getBoundingClientRect();
        if (own.left < rect.left || own.right > rect.right || own.top < rect.top || own.bottom > rect.bottom) show(mark.box);
      });
    });
    root.addEventListener("deepzoom:show", function (event) {
      var found = marks.filter(function (mark) { return mark.element === event.detail.element; })[0];
      if (found) show(found.box);
    });

    function measure() {
      var centre = size.width > 1 ? { x: view.x + size.width / 2 / view.scale, y: view.y + size.height / 2 / view.scale } : null;
      var fitted = size.width > 1 && Math.abs(view.scale - limits().fit) < 1e-9;
      size = { width: root.clientWidth || 1, height: root.clientHeight || 1 };
      if (!centre) { reset(rightToLeft ? "end" : root.dataset.start); return; }
      if (fitted) view.scale = limits().fit; // a view that was fitted to the height stays fitted
      view.x = centre.x - size.width / 2 / view.scale;
      view.y = centre.y - size.height / 2 / view.scale;
      update();
    }
    root.classList.add("is-ready");
    measure();
    if (window.ResizeObserver) new ResizeObserver(measure).observe(root);
    else window.addEventListener("resize", measure);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-deep-zoom]"), function (root) { DeepZoom(root); });
  // A link to a mark elsewhere on the page (a figure's number in a list) shows it on the painting.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-deep-zoom-show]");
    var mark = link && document.getElementById(link.getAttribute("href").slice(1));
    var root = mark && mark.closest("[data-deep-zoom]");
    if (!root) return;
    event.preventDefault();
    root.scrollIntoView({ block: "nearest", behavior: reduceMotion ? "auto" : "smooth" });
    root.dispatchEvent(new CustomEvent("deepzoom:show", { detail: { element: mark } }));
    mark.focus({ preventScroll: true });
  });
})();
