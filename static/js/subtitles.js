// Word-by-word reading: the passage beside the film lights up the character or word being spoken.
// The times come from the alignment, the same source as the WebVTT karaoke tags on the video.
(function () {
  "use strict";
  var video = document.getElementById("film");
  var text = document.getElementById("passage-text");
  if (video && text) {
    var units = Array.prototype.slice.call(text.querySelectorAll(".unit")).map(function (element) {
      return { element: element, start: parseFloat(element.dataset.start), end: parseFloat(element.dataset.end) };
    });
    var current = -1;
    var highlight = function () {
      var time = video.currentTime;
      var index = -1;
      for (var i = 0; i < units.length && units[i].start <= time + 0.01; i += 1) index = i;
      if (index === current) return;
      current = index;
      units.forEach(function (unit, position) {
        unit.element.classList.toggle("spoken", position < index);
        unit.element.classList.toggle("current", position === index);
      });
      text.dataset.currentUnit = String(index);
    };
    var frame = function () {
      highlight();
      if (!video.paused && !video.ended) requestAnimationFrame(frame);
    };
    video.addEventListener("play", function () { requestAnimationFrame(frame); });
    video.addEventListener("seeked", highlight);
    video.addEventListener("timeupdate", highlight);
    // Captions on by default for every film (WCAG 1.2.2), whatever the browser remembered.
    if (video.textTracks && video.textTracks.length) video.textTracks[0].mode = "showing";
  }

  var copy = document.getElementById("copy-share");
  if (copy) {
    copy.addEventListener("click", function () {
      var field = document.getElementById("share-url");
      field.select();
      var done = function () { document.getElementById("copy-status").textContent = copy.dataset.copied; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done, done);
      else { try { document.execCommand("copy"); } catch (error) { /* the text stays selected */ } done(); }
    });
  }
})();
