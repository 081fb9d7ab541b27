// The organisers' dashboard: ask the dashboard's JSON every few seconds and put in the sections whose
// figures changed, drawn by the server with the same template as the page (gallery/curation/views.py,
// event_dashboard_data), so a refresh shows exactly what a reload would. Open tables stay open.
(function () {
  "use strict";
  var root = document.getElementById("event-dashboard");
  if (!root || !window.fetch) return;
  var source = root.dataset.source;
  var interval = parseInt(root.dataset.interval, 10) || 10000;
  var updated = document.getElementById("dashboard-updated");
  var offline = document.getElementById("dashboard-offline");
  var announce = document.getElementById("dashboard-announce");
  var timer = null;
  var failures = 0;
  var asking = false;

  function sectionsOf(container) {
    var found = {};
    Array.prototype.forEach.call(container.querySelectorAll("[data-section]"), function (section) {
      found[section.dataset.section] = section;
    });
    return found;
  }

  function swap(html) {
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    var now = sectionsOf(root);
    var next = sectionsOf(fresh);
    var changed = false;
    Object.keys(next).forEach(function (name) {
      var current = now[name];
      if (current && current.innerHTML === next[name].innerHTML) return;
      // Tables a reader opened stay open, and a focused summary keeps the focus.
      var open = {};
      var focused = null;
      if (current) {
        Array.prototype.forEach.call(current.querySelectorAll("details[open]"), function (details) {
          open[details.dataset.key] = true;
        });
        var active = document.activeElement;
        if (active && current.contains(active) && active.closest("details")) focused = active.closest("details").dataset.key;
      }
      Array.prototype.forEach.call(next[name].querySelectorAll("details"), function (details) {
        if (open[details.dataset.key]) details.open = true;
      });
      if (current) current.replaceWith(next[name]);
      else root.appendChild(next[name]);
      if (focused) {
        var summary = next[name].querySelector('details[data-key="' + focused + '"] summary');
        if (summary) summary.focus();
      }
      changed = true;
    });
    return changed;
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(ask, delay);
  }

  function ask() {
    if (asking) return;
    if (document.hidden) return; // looked at again when the tab is shown (visibilitychange)
    asking = true;
    fetch(source, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        offline.hidden = true;
        if (swap(data.html)) {
          // Emptied first: the same sentence set twice would not be read out again.
          announce.textContent = "";
          setTimeout(function () { announce.textContent = root.dataset.changedText; }, 100);
        }
        updated.textContent = root.dataset.updatedText.replace("{time}", data.updated);
        root.dataset.refreshed = data.figures.generated_at;
      })
      .catch(function () {
        failures += 1;
        offline.hidden = false;
      })
      .then(function () {
        asking = false;
        // After failures, wait longer (up to a minute) so that a server in trouble is not pressed.
        schedule(Math.min(60000, interval * Math.pow(2, Math.min(failures, 3))));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedule(0);
  });
  schedule(interval);
})();
