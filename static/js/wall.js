// Wall mode for library screens: loop the newest films, jump to a new one the moment it is published,
// and after a dropped connection catch up over HTTP so a screen left alone never goes stale.
(function () {
  "use strict";
  var wall = document.getElementById("wall");
  var video = document.getElementById("wall-video");
  var caption = document.getElementById("wall-caption");
  var empty = document.getElementById("wall-empty");
  var subtitle = document.getElementById("wall-subtitle");
  var sound = document.getElementById("wall-sound");
  var eventId = wall.dataset.eventId;
  var cards = JSON.parse(document.getElementById("wall-cards").textContent);
  var index = 0;
  var retryTimer = null;

  function play(card) {
    clearTimeout(retryTimer);
    empty.hidden = true;
    // Title large, then the painting and the reader: read from across the room.
    var title = document.createElement("span");
    title.className = "wall-title";
    title.lang = card.language;
    title.textContent = card.passage_title;
    var credit = document.createElement("span");
    credit.className = "wall-credit";
    credit.textContent = card.painting_title + " · " + window.liveText("read_by", { reader: card.reader });
    caption.replaceChildren(title, credit);
    // A short fade between films instead of a cut.
    wall.classList.remove("wall-fade");
    void wall.offsetWidth;
    wall.classList.add("wall-fade");
    while (video.firstChild) video.removeChild(video.firstChild);
    video.removeAttribute("src");
    var track = document.createElement("track");
    track.kind = "captions";
    track.src = card.subtitles_url;
    track.srclang = card.language;
    track.default = true;
    video.appendChild(track);
    video.src = card.video_url;
    video.poster = card.poster_url;
    // The wall draws its own subtitle line (placed clear of the credit and the invitation, sized for the
    // room); the browser's own captions would sit wherever the video's box ends.
    video.textTracks[0].mode = "hidden";
    video.textTracks[0].addEventListener("cuechange", showCues);
    subtitle.replaceChildren();
    video.play().catch(function () { /* autoplay refused: the poster stays, "ended" never comes */ retryTimer = setTimeout(next, 8000); });
    wall.dataset.playing = card.id;
    wall.dataset.language = card.language;
  }

  // A karaoke cue's text ("床前<00:00:01.200>明<c.skipped>月</c>") as spans that each know their start.
  function cueSpans(cue) {
    var spans = [];
    var start = cue.startTime;
    var skipped = false;
    var pattern = /<([^>]*)>/g;
    var position = 0;
    var decode = function (text) { return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"); };
    var add = function (text) {
      if (!text) return;
      var span = document.createElement("span");
      span.textContent = decode(text);
      span.dataset.start = String(start);
      if (skipped) span.className = "skipped";
      spans.push(span);
    };
    var match;
    while ((match = pattern.exec(cue.text)) !== null) {
      add(cue.text.slice(position, match.index));
      position = pattern.lastIndex;
      var tag = match[1];
      var time = /^(?:(\d+):)?(\d{2}):(\d{2}\.\d{3})$/.exec(tag);
      if (time) start = (parseInt(time[1] || "0", 10) * 3600) + parseInt(time[2], 10) * 60 + parseFloat(time[3]);
      else if (/^c(\.|$)/.test(tag)) skipped = /\bskipped\b/.test(tag);
      else if (/^v[ .]/.test(tag)) {
        // A dialogue's cue says who speaks it (<v 宝玉>): the name leads the line.
        var speaker = document.createElement("span");
        speaker.className = "cue-speaker";
        speaker.textContent = decode(tag.replace(/^v(\.[^ ]*)? /, "")) + "：";
        spans.push(speaker);
      }
      else if (tag === "/c") skipped = false;
    }
    add(cue.text.slice(position));
    return spans;
  }

  function showCues() {
    var track = video.textTracks[0];
    var lines = [];
    for (var i = 0; track.activeCues && i < track.activeCues.length; i += 1) {
      var line = document.createElement("span");
      line.className = "wall-subtitle-line";
      line.replaceChildren.apply(line, cueSpans(track.activeCues[i]));
      lines.push(line);
    }
    subtitle.replaceChildren.apply(subtitle, lines);
    subtitle.lang = wall.dataset.language || "";
    markSpoken();
  }

  function markSpoken() {
    var time = video.currentTime;
    subtitle.querySelectorAll("span[data-start]").forEach(function (span) {
      span.classList.toggle("future", parseFloat(span.dataset.start) > time + 0.01);
    });
  }
  video.addEventListener("timeupdate", markSpoken);
  video.addEventListener("play", function frame() {
    markSpoken();
    if (!video.paused && !video.ended) requestAnimationFrame(frame);
  });

  function showSound() {
    sound.setAttribute("aria-pressed", String(!video.muted));
    sound.querySelector(".wall-sound-label").textContent = video.muted ? sound.dataset.off : sound.dataset.on;
  }
  // The button says its new state at once; volumechange (a queued event) also covers other changes.
  function toggleSound() { video.muted = !video.muted; showSound(); }
  sound.addEventListener("click", toggleSound);
  video.addEventListener("volumechange", showSound);

  // The pointer is hidden for a screen across the room; moving the mouse shows it for a while.
  var pointerTimer = null;
  document.addEventListener("mousemove", function () {
    document.body.classList.add("pointer-moved");
    clearTimeout(pointerTimer);
    pointerTimer = setTimeout(function () { document.body.classList.remove("pointer-moved"); }, 3000);
  });

  function next() {
    if (!cards.length) {
      video.removeAttribute("src");
      wall.dataset.playing = "";
      caption.textContent = "";
      subtitle.replaceChildren();
      empty.hidden = false;
      return;
    }
    index = (index + 1) % cards.length;
    play(cards[index]);
  }

  video.addEventListener("ended", function () { retryTimer = setTimeout(next, 1500); });
  video.addEventListener("error", function () { retryTimer = setTimeout(next, 3000); });
  if (cards.length) play(cards[0]);

  function showNewest(card) {
    cards = [card].concat(cards.filter(function (c) { return c.id !== card.id; }));
    index = 0;
    play(card);
  }

  function catchUp() {
    fetch("/api/events/" + eventId + "/animations/", { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var known = new Set(cards.map(function (c) { return c.id; }));
        var fresh = data.animations.filter(function (c) { return !known.has(c.id); });
        cards = data.animations;
        wall.dataset.caughtUp = String(Date.now());
        // Something was published while we were away: show it now, as if it had arrived live.
        if (fresh.length) { showNewest(fresh[0]); return; }
        if (!cards.some(function (c) { return c.id === wall.dataset.playing; })) { index = -1; next(); }
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  window.openLiveSocket("/ws/events/" + eventId + "/", {
    "animation.published": function (message) { showNewest(message.animation); },
    "animation.removed": function (message) {
      cards = cards.filter(function (c) { return c.id !== message.animation_id; });
      if (wall.dataset.playing === message.animation_id) { index = -1; next(); }
    },
    onReconnect: catchUp,
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "f" || event.key === "F") {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (wall.requestFullscreen) wall.requestFullscreen();
    }
    if (event.key === "s" || event.key === "S") toggleSound();
  });
})();
