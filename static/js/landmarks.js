// Landmark editor: drag the key points of the speaking face on the painting (mouse, touch or keyboard)
// and save them; the server checks them with the engine's own reader before they replace detection.
(function () {
  "use strict";
  var editor = document.getElementById("landmark-editor");
  if (!editor) return;
  var svg = document.getElementById("landmark-svg");
  var text = JSON.parse(document.getElementById("editor-text").textContent);
  var groups = JSON.parse(document.getElementById("landmarks-start").textContent).landmarks;
  var width = parseFloat(editor.dataset.width);
  var height = parseFloat(editor.dataset.height);
  var radius = Math.max(2, Math.min(width, height) / 250);
  var NS = "http://www.w3.org/2000/svg";
  var closed = { face_oval: true, left_eye: true, right_eye: true, mouth_outer: true, mouth_inner: true, left_brow: true, right_brow: true, left_iris: true, right_iris: true };
  var lines = {};

  function fill(template, values) {
    Object.keys(values).forEach(function (name) { template = template.split("%(" + name + ")s").join(values[name]); });
    return template;
  }

  function redrawLine(name) {
    var points = groups[name].map(function (point) { return point[0] + "," + point[1]; }).join(" ");
    lines[name].setAttribute("points", points);
  }

  function toPainting(event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    var local = point.matrixTransform(svg.getScreenCTM().inverse());
    return [Math.max(0, Math.min(width, local.x)), Math.max(0, Math.min(height, local.y))];
  }

  function move(handle, name, index, position) {
    groups[name][index] = [Math.round(position[0] * 10) / 10, Math.round(position[1] * 10) / 10];
    handle.setAttribute("cx", groups[name][index][0]);
    handle.setAttribute("cy", groups[name][index][1]);
    redrawLine(name);
    editor.dataset.dirty = "true";
  }

  function build() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    lines = {};
    Object.keys(groups).forEach(function (name) {
      var line = document.createElementNS(NS, closed[name] ? "polygon" : "polyline");
      line.setAttribute("class", "landmark-line");
      svg.appendChild(line);
      lines[name] = line;
      redrawLine(name);
    });
    Object.keys(groups).forEach(function (name) {
      groups[name].forEach(function (point, index) {
        var handle = document.createElementNS(NS, "circle");
        handle.setAttribute("class", "landmark-point");
        handle.setAttribute("r", radius);
        handle.setAttribute("cx", point[0]);
        handle.setAttribute("cy", point[1]);
        handle.setAttribute("tabindex", "0");
        handle.setAttribute("role", "button");
        handle.dataset.group = name;
        handle.dataset.index = String(index);
        handle.setAttribute("aria-label", fill(text.point, { group: text.groups[name] || name, number: index + 1 }));
        handle.addEventListener("pointerdown", function (event) {
          event.preventDefault();
          handle.setPointerCapture(event.pointerId);
          handle.focus();
          var drag = function (moveEvent) { move(handle, name, index, toPainting(moveEvent)); };
          var stop = function () {
            handle.removeEventListener("pointermove", drag);
            handle.removeEventListener("pointerup", stop);
          };
          handle.addEventListener("pointermove", drag);
          handle.addEventListener("pointerup", stop);
        });
        handle.addEventListener("keydown", function (event) {
          var step = (event.shiftKey ? 10 : 1) * Math.max(1, Math.round(Math.min(width, height) / 500));
          var delta = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
          if (!delta) return;
          event.preventDefault();
          var current = groups[name][index];
          move(handle, name, index, [Math.max(0, Math.min(width, current[0] + delta[0])), Math.max(0, Math.min(height, current[1] + delta[1]))]);
        });
        svg.appendChild(handle);
      });
    });
  }
  build();

  // Two clicks: drag a box around a face the detector missed, or click its centre, on the painting
  // (not on a point); the server fits the key points there and the editor shows them to refine.
  function fitAt(request) {
    var status = document.getElementById("save-status");
    var token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    status.textContent = text.fitting;
    fetch(editor.dataset.fitUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(request),
      credentials: "same-origin",
    })
      .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); })
      .then(function (result) {
        if (!result.ok) { status.textContent = fill(text.failed, { reason: result.data.error || "" }); return; }
        groups = result.data.landmarks;
        build();
        editor.dataset.dirty = "true";
        editor.dataset.fitted = "true";
        status.textContent = text.fitted;
      })
      .catch(function (error) { status.textContent = fill(text.failed, { reason: String(error) }); });
  }

  svg.addEventListener("pointerdown", function (event) {
    if (event.target !== svg || !editor.dataset.fitUrl) return;
    event.preventDefault();
    svg.setPointerCapture(event.pointerId);
    var start = toPainting(event);
    var box = document.createElementNS(NS, "rect");
    box.setAttribute("class", "landmark-box");
    box.setAttribute("fill", "none");
    box.setAttribute("stroke", "#c0392b");
    box.setAttribute("stroke-width", radius / 2);
    svg.appendChild(box);
    var current = start;
    var drag = function (moveEvent) {
      current = toPainting(moveEvent);
      box.setAttribute("x", Math.min(start[0], current[0]));
      box.setAttribute("y", Math.min(start[1], current[1]));
      box.setAttribute("width", Math.abs(current[0] - start[0]));
      box.setAttribute("height", Math.abs(current[1] - start[1]));
    };
    var stop = function () {
      svg.removeEventListener("pointermove", drag);
      svg.removeEventListener("pointerup", stop);
      svg.removeChild(box);
      var w = Math.abs(current[0] - start[0]);
      var h = Math.abs(current[1] - start[1]);
      if (w < 6 && h < 6) fitAt({ centre: start });
      else fitAt({ box: [Math.min(start[0], current[0]), Math.min(start[1], current[1]), w, h] });
    };
    svg.addEventListener("pointermove", drag);
    svg.addEventListener("pointerup", stop);
  });

  document.getElementById("save-landmarks").addEventListener("click", function () {
    var status = document.getElementById("save-status");
    var token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch(editor.dataset.saveUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ landmarks: groups, figure: editor.dataset.figure || null }),
      credentials: "same-origin",
    })
      .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); })
      .then(function (result) {
        status.textContent = result.ok ? text.saved : fill(text.failed, { reason: result.data.error || "" });
        if (result.ok) {
          editor.dataset.dirty = "false";
          // A new figure is made by the first save; later saves correct that same figure.
          if (result.data.figure && !editor.dataset.figure) {
            editor.dataset.figure = result.data.figure;
            history.replaceState(null, "", location.pathname + "?figure=" + encodeURIComponent(result.data.figure));
          }
        }
      })
      .catch(function (error) { status.textContent = fill(text.failed, { reason: String(error) }); });
  });
})();
