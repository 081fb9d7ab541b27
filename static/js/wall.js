// Wall mode for library screens: loop the newest films, jump to a new one the moment it is published.
(function () {
  "use strict";
  var wall = document.getElementById("wall");
  var video = document.getElementById("wall-video");
  var caption = document.getElementById("wall-caption");
  var eventId = wall.dataset.eventId;
  var cards = JSON.parse(document.getElementById("wall-cards").textContent);
  var index = 0;
  var cues = [];

  function play(card) {
    caption.textContent = card.passage_title + " · " + card.reader;
    video.src = card.video_url;
    while (video.firstChild) video.removeChild(video.firstChild);
    var track = document.createElement("track");
    track.kind = "captions"; track.src = card.subtitles_url; track.default = true; track.srclang = card.language;
    video.appendChild(track);
    video.play().catch(function () {});
    wall.dataset.playing = card.id;
  }
  function next() {
    if (!cards.length) return;
    index = (index + 1) % cards.length;
    play(cards[index]);
  }
  video.addEventListener("ended", function () { setTimeout(next, 1500); });
  video.addEventListener("error", function () { setTimeout(next, 3000); });
  if (cards.length) play(cards[0]);

  function catchUp() {
    fetch("/api/events/" + eventId + "/animations/").then(function (r) { return r.json(); }).then(function (data) {
      cards = data.animations;
      if (cards.length && !cards.some(function (c) { return c.id === wall.dataset.playing; })) { index = 0; play(cards[0]); }
    });
  }
  window.openLiveSocket("/ws/events/" + eventId + "/", {
    "animation.published": function (message) { cards.unshift(message.animation); index = 0; play(message.animation); },
    "animation.removed": function (message) {
      cards = cards.filter(function (c) { return c.id !== message.animation_id; });
      if (wall.dataset.playing === message.animation_id) { index = -1; next(); }
    },
    onReconnect: catchUp,
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "f" && wall.requestFullscreen) wall.requestFullscreen();
  });
})();
