// Film page: a film withdrawn while the page is open says so instead of failing silently;
// Chinese poems can be read in vertical columns, with pinyin, beside their translation.
(function () {
  "use strict";
  var article = document.getElementById("film-article");
  if (!article) return;
  var toggle = document.getElementById("vertical-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var vertical = document.getElementById("passage-text").classList.toggle("vertical");
      toggle.setAttribute("aria-pressed", String(vertical));
    });
  }
  // Pinyin above each character, and the translation beside the poem: each on or off at a click.
  var pinyin = document.getElementById("pinyin-toggle");
  if (pinyin) {
    pinyin.addEventListener("click", function () {
      var shown = document.getElementById("passage-text").classList.toggle("show-pinyin");
      pinyin.setAttribute("aria-pressed", String(shown));
    });
  }
  var translation = document.getElementById("translation-toggle");
  if (translation) {
    translation.addEventListener("click", function () {
      var panel = document.getElementById("passage-translation");
      panel.hidden = !panel.hidden;
      translation.setAttribute("aria-pressed", String(!panel.hidden));
    });
  }
  if (!window.openLiveSocket) return;
  var socket = window.openLiveSocket("/ws/events/" + article.dataset.eventId + "/", {
    "animation.removed": function (message) {
      if (message.animation_id !== article.dataset.animationId) return;
      var video = document.getElementById("film");
      if (video) {
        video.pause();
        video.removeAttribute("src");
        Array.prototype.forEach.call(video.querySelectorAll("source, track"), function (node) { node.remove(); });
        video.load();
        video.hidden = true;
      }
      document.getElementById("film-withdrawn").hidden = false;
      socket.close();
    },
  });
})();
