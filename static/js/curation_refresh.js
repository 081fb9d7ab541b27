// Curators' pages: while face detection or a test film is being made, look again every few seconds and
// reload once its status changes, so the curator need not keep pressing reload.
(function () {
  "use strict";
  var WAITING = { "face-status": ["pending"], "preview-status": ["queued", "running"] };
  var watched = Object.keys(WAITING).map(function (id) { return document.getElementById(id); }).filter(function (element) {
    return element && WAITING[element.id].indexOf(element.dataset.status) >= 0;
  });
  if (!watched.length) return;
  function look() {
    fetch(location.href, { credentials: "same-origin" }).then(function (response) { return response.text(); }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var changed = watched.some(function (element) {
        var fresh = page.getElementById(element.id);
        return fresh && fresh.dataset.status !== element.dataset.status;
      });
      if (changed) location.reload();
      else setTimeout(look, 3000);
    }).catch(function () { setTimeout(look, 10000); });
  }
  setTimeout(look, 3000);
})();
