// Word-by-word reading: the passage beside the film lights up the character or word being spoken.
// The times come from the alignment, the same source as the WebVTT karaoke tags on the video.
(function () {
  "use strict";
  var video = document.getElementById("film");
  var text = document.getElementById("passage-text");

  function follow(units) {
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
      // A dialogue's line being said is marked as a whole too, so the eye finds who speaks.
      var line = index >= 0 ? units[index].element.closest("li") : null;
      Array.prototype.forEach.call(text.querySelectorAll("li"), function (item) {
        item.classList.toggle("current-line", item === line);
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
    highlight();
  }

  function unitsOf(root) {
    return Array.prototype.slice.call(root.querySelectorAll(".unit")).map(function (element) {
      return { element: element, start: parseFloat(element.dataset.start), end: parseFloat(element.dataset.end) };
    });
  }

  // A dialogue film's times are in its own subtitles (one cue per phrase, "<v 宝玉>" naming the speaker,
  // a timestamp before each unit): each line of the script takes its speaker's cues in order, and each
  // piece of a cue becomes a unit of that line, so the text lights up as on any film.
  var STAMP = /<(\d\d:\d\d:\d\d\.\d\d\d|\d\d:\d\d\.\d\d\d)>/;

  function seconds(stamp) {
    return stamp.split(":").reduce(function (total, part) { return total * 60 + parseFloat(part); }, 0);
  }

  function cuePieces(cue) {
    var voice = /<v(?:\.[^ >]*)? ([^>]*)>/.exec(cue.text);
    var plain = cue.text.replace(/<\/?(?:v|c)(?:[.\s][^>]*)?>/g, "");
    var parts = plain.split(STAMP);
    var pieces = [{ start: cue.startTime, text: parts[0] }];
    for (var i = 1; i + 1 < parts.length; i += 2) pieces.push({ start: seconds(parts[i]), text: parts[i + 1] });
    var decode = document.createElement("textarea");
    pieces.forEach(function (piece) { decode.innerHTML = piece.text; piece.text = decode.value.trim(); });
    return { voice: voice ? voice[1].trim() : "", pieces: pieces.filter(function (piece) { return piece.text; }) };
  }

  function karaokeLines(cues) {
    var byVoice = {};
    Array.prototype.forEach.call(cues, function (cue) {
      var parsed = cuePieces(cue);
      (byVoice[parsed.voice] = byVoice[parsed.voice] || []).push.apply(byVoice[parsed.voice], parsed.pieces);
    });
    Array.prototype.forEach.call(text.querySelectorAll("li"), function (item) {
      var role = item.querySelector(".dialogue-role");
      var said = item.querySelector(".dialogue-said");
      if (!role || !said) return;
      var queue = byVoice[role.textContent.trim()] || [];
      var line = said.textContent;
      var position = 0;
      var built = document.createDocumentFragment();
      while (queue.length) {
        var found = line.indexOf(queue[0].text, position);
        if (found < 0) break;  // the rest of this speaker's pieces belong to their next line
        var piece = queue.shift();
        if (found > position) built.appendChild(document.createTextNode(line.slice(position, found)));
        var span = document.createElement("span");
        span.className = "unit";
        span.dataset.start = String(piece.start);
        span.textContent = piece.text;
        built.appendChild(span);
        position = found + piece.text.length;
      }
      if (position < line.length) built.appendChild(document.createTextNode(line.slice(position)));
      said.replaceChildren(built);
    });
    var units = unitsOf(text).sort(function (a, b) { return a.start - b.start; });
    if (units.length) follow(units);
    text.dataset.karaoke = String(units.length);
  }

  if (video && text && text.classList.contains("dialogue-lines")) {
    var track = video.querySelector("track");
    var ready = function () {
      var cues = track && track.track && track.track.cues;
      if (cues && cues.length && !text.dataset.karaoke) karaokeLines(cues);
    };
    if (track) {
      track.addEventListener("load", ready);
      if (track.track) track.track.mode = "showing";  // loads the cues
      ready();
    }
  } else if (video && text) {
    follow(unitsOf(text));
  }
  if (video) {
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
