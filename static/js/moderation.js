// The moderation console and the film gate: keyboard first, over /api/moderation/.
// One recording at a time, claimed on the server so two moderators never review the same clip.
(function () {
  "use strict";

  const root = document.getElementById("moderation");
  if (!root) return;
  const config = JSON.parse(document.getElementById("moderation-config").textContent);
  const strings = {};
  document.querySelectorAll("#moderation-strings [data-key]").forEach((node) => {
    strings[node.dataset.key] = node.textContent.trim();
  });
  const csrf = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  // Approving needs the clip heard to (nearly) its end; the last fraction is often trailing silence.
  const LISTENED_ENOUGH = 0.9;

  let toastTimer = null;
  function toast(text, kind) {
    const node = $("toast");
    node.textContent = text;
    node.className = "toast" + (kind ? " toast-" + kind : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.textContent = ""; }, 6000);
  }

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(url, options);
    const text = response.status === 204 ? "" : await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (error) { data = { detail: text }; }
    return { status: response.status, ok: response.ok, data };
  }

  function isTyping(event) {
    const target = event.target;
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT");
  }

  // ---- shared media player state -------------------------------------------------------------
  const media = { element: null, listened: 0, ended: false };
  let speed = parseFloat(localStorage.getItem("moderation-speed") || "1") || 1;

  function trackListening(element) {
    media.element = element;
    media.listened = 0;
    media.ended = false;
    element.playbackRate = speed;
  }

  function heardEnough() {
    const element = media.element;
    if (!element || !isFinite(element.duration) || element.duration <= 0) return false;
    return media.ended || media.listened >= element.duration * LISTENED_ENOUGH;
  }

  function setSpeed(value) {
    speed = value;
    localStorage.setItem("moderation-speed", String(value));
    if (media.element) media.element.playbackRate = value;
    document.querySelectorAll(".speed").forEach((button) => {
      button.setAttribute("aria-pressed", String(parseFloat(button.dataset.speed) === value));
    });
  }

  function togglePlay() {
    const element = media.element;
    if (!element) return;
    if (element.paused) element.play().catch(() => toast(strings.press));
    else element.pause();
  }

  function seek(delta) {
    const element = media.element;
    if (element && isFinite(element.duration)) {
      element.currentTime = Math.max(0, Math.min(element.duration, element.currentTime + delta));
    }
  }

  // ---- reasons panel ---------------------------------------------------------------------------
  const reasonsPanel = $("reasons");
  const note = $("note");
  let pendingOther = false;

  function openReasons() {
    reasonsPanel.hidden = false;
    pendingOther = false;
    reasonsPanel.scrollIntoView({ block: "nearest" });
  }

  function closeReasons() {
    reasonsPanel.hidden = true;
    pendingOther = false;
    note.value = "";
    if (document.activeElement && reasonsPanel.contains(document.activeElement)) document.activeElement.blur();
  }

  function reasonFor(key) {
    return config.reasons.find((reason) => reason.key === key);
  }

  const otherReason = () => config.reasons.find((reason) => reason.value === "other");

  // A clicked button keeps the focus, and the next space would press it again as well as play:
  // hand the keyboard back to the page after every click.
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (button && root.contains(button)) button.blur();
  });

  function chooseReason(reason, submit) {
    if (reason.value === "other" && !note.value.trim()) {
      pendingOther = true;
      note.focus();
      toast(strings.noteNeeded);
      return;
    }
    submit(reason.value, note.value.trim());
  }

  // ---- undo ------------------------------------------------------------------------------------
  let lastDecision = null;
  let undoTimer = null;

  // Keys shared by both consoles while a reason is being chosen or a note typed; true when used up.
  function handledByReasons(event, reject) {
    if (event.ctrlKey || event.metaKey || event.altKey) return true;
    if (isTyping(event)) {
      if (event.target === note && event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (pendingOther) chooseReason(otherReason(), reject);
      } else if (event.key === "Escape") {
        closeReasons();
      }
      return true;
    }
    if (!reasonsPanel.hidden) {
      const reason = reasonFor(event.key);
      if (reason) { event.preventDefault(); chooseReason(reason, reject); return true; }
      if (event.key === "Escape") { event.preventDefault(); closeReasons(); return true; }
    }
    return false;
  }

  function rememberDecision(decision) {
    lastDecision = decision;
    $("undo").disabled = false;
    clearTimeout(undoTimer);
    const remaining = decision.undo_until ? new Date(decision.undo_until) - Date.now() : config.undoSeconds * 1000;
    undoTimer = setTimeout(() => { $("undo").disabled = true; }, Math.max(0, remaining));
  }

  async function undo(afterUndo) {
    if (!lastDecision) { toast(strings.nothingToUndo); return; }
    const decision = lastDecision;
    const response = await api("POST", `/api/moderation/decisions/${decision.id}/undo/`);
    lastDecision = null;
    $("undo").disabled = true;
    if (!response.ok) { toast(response.status === 409 ? strings.undoExpired : strings.failed, "warning"); return; }
    toast(strings.undone);
    afterUndo(response.data, decision);
  }

  // ============================================================================================
  // Recordings
  // ============================================================================================
  function recordingConsole() {
    const player = $("player");
    const canvas = $("waveform");
    let current = null;
    let peaks = null;
    let renewTimer = null;
    let transcriptTimer = null;
    let emptyTimer = null;
    let busy = false;
    let objectUrl = null;

    function filters() {
      return {
        event: $("filter-event").value || null,
        painting: $("filter-painting").value || null,
        language: $("filter-language").value || "",
      };
    }

    function queryString() {
      const params = new URLSearchParams();
      const chosen = filters();
      Object.keys(chosen).forEach((key) => { if (chosen[key]) params.set(key, chosen[key]); });
      return params.toString();
    }

    async function refreshCount() {
      const response = await api("GET", "/api/moderation/queue/?" + queryString());
      if (response.ok) $("queue-count").textContent = response.data.count;
    }

    async function claimNext(after, direction) {
      if (busy) return;
      busy = true;
      try {
        const response = await api("POST", "/api/moderation/claim/", {
          ...filters(), after: after || null, direction: direction || "next",
        });
        if (response.status === 204) {
          if (after && direction !== "previous" && !current) return claimAgainFromStart();
          if (after && current) { toast(strings.endOfQueue); return; }
          showEmpty();
          return;
        }
        if (!response.ok) { toast(strings.failed, "warning"); return; }
        show(response.data);
      } finally {
        busy = false;
        refreshCount();
      }
    }

    async function claimAgainFromStart() {
      busy = false;
      await claimNext(null, "next");
    }

    function showEmpty() {
      stop();
      current = null;
      $("review").hidden = true;
      $("empty").hidden = false;
      clearTimeout(emptyTimer);
      // New readings keep arriving during the festival: look again now and then.
      emptyTimer = setTimeout(() => { if (!current) claimNext(null, "next"); }, 10000);
    }

    function stop() {
      player.pause();
      if (video) video.pause();
      clearInterval(renewTimer);
      clearTimeout(transcriptTimer);
      if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    }

    function show(recording) {
      stop();
      clearTimeout(emptyTimer);
      closeReasons();
      current = recording;
      $("empty").hidden = true;
      $("review").hidden = false;
      $("review").dataset.recordingId = recording.id;
      $("passage-title").textContent = recording.passage_title;
      $("review-context").textContent = ` · ${recording.painting_title} · ${recording.event_title} · ${recording.language}`;
      $("credited-as").textContent = recording.credited_as;
      renderDialogue(recording);
      renderFacts(recording);
      loadAudio(recording);
      showVideo(recording);
      // Keep the claim while the recording stays open (a long clip, a second listen).
      renewTimer = setInterval(renewClaim, Math.max(15, config.claimSeconds / 3) * 1000);
      if (!recording.transcript_ready) pollTranscript(recording.id);
    }

    async function renewClaim() {
      if (!current) return;
      const response = await api("POST", `/api/moderation/recordings/${current.id}/claim/`);
      if (response.status === 409) toast(strings.claimLost, "warning");
    }

    function pollTranscript(recordingId) {
      transcriptTimer = setTimeout(async () => {
        if (!current || current.id !== recordingId) return;
        const response = await api("GET", `/api/moderation/recordings/${recordingId}/`);
        if (!current || current.id !== recordingId) return;
        if (response.ok && response.data.transcript_ready) {
          current = { ...current, ...response.data };
          renderFacts(current);
        } else {
          pollTranscript(recordingId);
        }
      }, 3000);
    }

    function figure(id, text, warn) {
      const node = $(id);
      node.textContent = text;
      node.classList.toggle("warn", Boolean(warn));
    }

    function renderFacts(recording) {
      const facts = recording.facts;
      const stats = recording.audio_stats || {};
      const codes = new Set(facts.warnings.map((warning) => warning.code));
      renderDiff(recording);
      renderConfidence(recording);
      figure("figure-duration", `${recording.duration_seconds.toFixed(1)} s / ${recording.max_seconds} s`, codes.has("cut_off"));
      figure("figure-loudness", stats.loudness_lufs !== undefined ? `${stats.loudness_lufs.toFixed(1)} LUFS` : "–", codes.has("quiet"));
      figure("figure-peak", stats.peak_dbfs !== undefined ? `${stats.peak_dbfs.toFixed(1)} dBFS` : "–", false);
      figure("figure-clipping", stats.clipped_ratio !== undefined ? `${(stats.clipped_ratio * 100).toFixed(2)} %` : "–", codes.has("clipped"));
      figure("figure-silence", stats.silence_ratio !== undefined ? `${Math.round(stats.silence_ratio * 100)} %` : "–", codes.has("silence"));
      figure("figure-language", recording.transcript_language || "…", codes.has("language"));
      const list = $("warnings");
      list.replaceChildren(...facts.warnings.map((warning) => {
        const item = document.createElement("li");
        item.textContent = warning.text;
        item.dataset.code = warning.code;
        return item;
      }));
    }

    function mark(tag, className, text) {
      const node = document.createElement(tag);
      node.className = className;
      node.textContent = text;
      return node;
    }

    // Per-unit confidence of the alignment (issue 24): units the aligner is unsure of are marked, with
    // the figure in their title, so the moderator listens there before approving.
    const LOW_CONFIDENCE = 0.5;

    function renderConfidence(recording) {
      const block = $("confidence-block");
      const line = $("unit-confidence");
      const units = recording.unit_confidence || [];
      line.replaceChildren();
      line.lang = recording.language;
      block.hidden = !units.length;
      const separator = recording.facts.separator;
      let unsure = 0;
      units.forEach((unit, index) => {
        if (separator && index) line.append(separator);
        const percent = Math.round(unit.confidence * 100);
        let node;
        if (unit.skipped) {
          node = mark("del", "skipped", unit.text);
          node.title = strings.skipped;
        } else if (unit.confidence < LOW_CONFIDENCE) {
          node = mark("mark", "low-confidence", unit.text);
          node.title = `${strings.confidence} ${percent} %`;
          unsure += 1;
        } else {
          node = mark("span", "", unit.text);
          node.title = `${strings.confidence} ${percent} %`;
        }
        node.dataset.confidence = unit.confidence;
        line.append(node);
      });
      $("confidence-counts").textContent = units.length ? `${unsure} ${strings.unsure}` : "";
    }

    // A role's reading of a dialogue: the script with this role's lines marked, and the other roles'
    // approved voices to play beside it (the film puts them together).
    function renderDialogue(recording) {
      const dialogue = recording.dialogue;
      const block = $("dialogue-block");
      block.hidden = !dialogue;
      if (!dialogue) return;
      $("dialogue-role").textContent = `· ${strings.dialogueRole} ${dialogue.role}`;
      const lines = $("dialogue-lines");
      lines.lang = recording.language;
      lines.replaceChildren(...dialogue.lines.map((line) => {
        const item = document.createElement("li");
        item.className = line.mine ? "mine" : "";
        const colon = recording.language.startsWith("zh") ? "：" : ": ";
        item.append(mark("strong", "", `${line.role}${colon}`), document.createTextNode(line.text));
        return item;
      }));
      $("dialogue-voices").replaceChildren(...dialogue.voices.map((voice) => {
        const item = document.createElement("li");
        item.append(mark("strong", "", voice.role), document.createTextNode(" "));
        if (!voice.audio_url) {
          item.append(mark("span", "muted", strings.noVoiceYet));
          return item;
        }
        item.append(mark("span", "muted", `${strings.readBy} ${voice.credited_as} `));
        const audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = voice.audio_url;
        item.append(audio);
        return item;
      }));
    }

    function renderDiff(recording) {
      const facts = recording.facts;
      const passage = $("passage-text");
      const heard = $("transcript-text");
      passage.lang = heard.lang = recording.language;
      passage.replaceChildren();
      heard.replaceChildren();
      if (!recording.transcript_ready) {
        passage.textContent = recording.passage_text;
        heard.textContent = strings.transcriptPending;
        $("match-score").textContent = "";
        $("diff-counts").textContent = "";
        return;
      }
      if (!facts.diff.length) {
        passage.textContent = recording.passage_text;
        heard.textContent = recording.transcript || strings.transcriptMissing;
      }
      const separator = facts.separator;
      const add = (node, child) => {
        if (separator && node.childNodes.length) node.append(separator);
        node.append(child);
      };
      facts.diff.forEach((operation) => {
        if (operation.op === "equal") {
          add(passage, document.createTextNode(operation.ref));
          add(heard, document.createTextNode(operation.hyp));
        } else if (operation.op === "replace") {
          add(passage, mark("del", "misread", operation.ref));
          add(heard, mark("ins", "misread", operation.hyp));
        } else if (operation.op === "delete") {
          add(passage, mark("del", "skipped", operation.ref));
        } else if (operation.op === "insert") {
          add(heard, mark("ins", "added", operation.hyp));
        }
      });
      if (facts.error_rate !== null) {
        const rate = facts.unit === "character" ? strings.cer : strings.wer;
        const match = Math.round((1 - facts.error_rate) * 100);
        $("match-score").textContent = `${strings.match} ${match} % (${rate} ${Math.round(facts.error_rate * 100)} %)`;
        $("match-score").dataset.errorRate = facts.error_rate;
      }
      const counts = facts.counts;
      $("diff-counts").textContent =
        `· ${counts.misread} ${strings.misread} · ${counts.skipped} ${strings.skipped} · ${counts.added} ${strings.added}`;
    }

    // A camera reading's video (issue 15), only while it waits and only if kept for review: it shows what
    // will move the figure. One reading, not two: the player above is the only clock (space, arrows,
    // speed, the waveform) and carries the sound; the video is muted and follows it (issue 26).
    const video = $("review-video");
    const DRIFT_SECONDS = 0.25;

    function showVideo(recording) {
      if (!video) return;
      video.pause();
      video.hidden = !recording.video_url;
      $("review-video-note").hidden = !recording.video_url;
      if (recording.video_url) video.src = recording.video_url;
      else video.removeAttribute("src");
    }

    function videoFollows() {
      return video && !video.hidden && video.getAttribute("src") && video.readyState >= 1;
    }

    function followPlayer(seek) {
      if (!videoFollows()) return;
      video.playbackRate = player.playbackRate;
      if (seek || Math.abs(video.currentTime - player.currentTime) > DRIFT_SECONDS) {
        video.currentTime = Math.min(player.currentTime, video.duration || player.currentTime);
      }
      if (player.paused || player.ended) { if (!video.paused) video.pause(); }
      else if (video.paused && !video.ended) video.play().catch(() => {});
    }

    if (video) {
      ["play", "pause", "ended", "ratechange"].forEach((name) => player.addEventListener(name, () => followPlayer(false)));
      ["seeking", "seeked"].forEach((name) => player.addEventListener(name, () => followPlayer(true)));
      // The video may arrive after the sound started.
      video.addEventListener("loadedmetadata", () => followPlayer(true));
      // Clicking the picture is the player's play/pause: the video has no controls of its own.
      video.addEventListener("click", togglePlay);
    }

    async function loadAudio(recording) {
      trackListening(player);
      peaks = null;
      $("waveform-note").hidden = true;
      drawWaveform();
      // One download feeds both the player and the waveform.
      const response = await fetch(recording.audio_url, { credentials: "same-origin" });
      if (!current || current.id !== recording.id) return;
      const bytes = await response.arrayBuffer();
      if (!current || current.id !== recording.id) return;
      objectUrl = URL.createObjectURL(new Blob([bytes]));
      player.src = objectUrl;
      player.playbackRate = speed;
      player.play().catch(() => toast(strings.press));
      try {
        const context = new (window.AudioContext || window.webkitAudioContext)();
        const buffer = await context.decodeAudioData(bytes.slice(0));
        context.close();
        if (!current || current.id !== recording.id) return;
        peaks = computePeaks(buffer.getChannelData(0), canvas.width);
      } catch (error) {
        $("waveform-note").hidden = false;
      }
      drawWaveform();
    }

    function computePeaks(samples, columns) {
      const result = new Float32Array(columns * 2);
      const step = Math.max(1, Math.floor(samples.length / columns));
      for (let column = 0; column < columns; column++) {
        let low = 0, high = 0;
        const start = column * step;
        const end = Math.min(samples.length, start + step);
        for (let index = start; index < end; index++) {
          const value = samples[index];
          if (value < low) low = value;
          if (value > high) high = value;
        }
        result[column * 2] = low;
        result[column * 2 + 1] = high;
      }
      return result;
    }

    function drawWaveform() {
      const context = canvas.getContext("2d");
      const { width, height } = canvas;
      context.clearRect(0, 0, width, height);
      context.fillStyle = "#f3ede4";
      context.fillRect(0, 0, width, height);
      const position = player.duration ? player.currentTime / player.duration : 0;
      const middle = height / 2;
      if (peaks) {
        for (let column = 0; column < width; column++) {
          const low = peaks[column * 2], high = peaks[column * 2 + 1];
          // Full-scale samples are drawn red: clipping is visible at a glance.
          const clipped = high >= 0.999 || low <= -0.999;
          context.fillStyle = clipped ? "#b91c1c" : column / width < position ? "#8c2f1b" : "#a89a8a";
          context.fillRect(column, middle - high * middle, 1, Math.max(1, (high - low) * middle));
        }
      }
      context.fillStyle = "#1d4ed8";
      context.fillRect(Math.floor(position * width), 0, 2, height);
    }

    player.addEventListener("timeupdate", () => {
      followPlayer(false);
      media.listened = Math.max(media.listened, player.currentTime);
      $("clock").textContent = `${player.currentTime.toFixed(1)} / ${(player.duration || 0).toFixed(1)} s`;
      drawWaveform();
    });
    player.addEventListener("ended", () => { media.ended = true; drawWaveform(); });
    player.addEventListener("play", () => { $("play").firstChild.textContent = strings.pause + " "; });
    player.addEventListener("pause", () => { $("play").firstChild.textContent = strings.play + " "; });
    canvas.addEventListener("click", (event) => {
      if (!player.duration) return;
      const box = canvas.getBoundingClientRect();
      player.currentTime = ((event.clientX - box.left) / box.width) * player.duration;
    });

    async function approve() {
      if (!current) return;
      if (!heardEnough()) { toast(strings.listenFirst, "warning"); return; }
      const decided = current;
      const response = await api("POST", `/api/moderation/recordings/${decided.id}/approve/`, {
        listened_seconds: Math.round(media.listened * 100) / 100,
      });
      afterDecision(response, decided, strings.approved);
    }

    async function reject(reason, text) {
      if (!current) return;
      const decided = current;
      const response = await api("POST", `/api/moderation/recordings/${decided.id}/reject/`, {
        reason, note: text, listened_seconds: Math.round(media.listened * 100) / 100,
      });
      closeReasons();
      afterDecision(response, decided, strings.rejected);
    }

    function afterDecision(response, decided, message) {
      if (!response.ok) {
        toast((response.data && response.data.detail) || strings.failed, "warning");
        if (response.status === 409) { current = null; claimNext(decided.id, "next"); }
        return;
      }
      rememberDecision(response.data.decision);
      toast(message, "success");
      current = null;
      stop();
      claimNext(decided.id, "next");
    }

    function onKey(event) {
      if (handledByReasons(event, reject)) return;
      switch (event.key) {
        case " ": event.preventDefault(); togglePlay(); break;
        case "a": event.preventDefault(); approve(); break;
        case "r": event.preventDefault(); if (current) openReasons(); break;
        case "j": event.preventDefault(); if (current) claimNext(current.id, "next"); break;
        case "k": event.preventDefault(); if (current) claimNext(current.id, "previous"); break;
        case "u": event.preventDefault(); undo((data) => show(data.recording)); break;
        case "s": event.preventDefault(); setSpeed(speed === 1 ? 1.5 : 1); break;
        case "ArrowLeft": event.preventDefault(); seek(-2); break;
        case "ArrowRight": event.preventDefault(); seek(2); break;
        default: break;
      }
    }

    document.addEventListener("keydown", onKey);
    $("play").addEventListener("click", togglePlay);
    $("approve").addEventListener("click", approve);
    $("reject").addEventListener("click", () => { if (current) openReasons(); });
    $("next").addEventListener("click", () => { if (current) claimNext(current.id, "next"); });
    $("previous").addEventListener("click", () => { if (current) claimNext(current.id, "previous"); });
    $("undo").addEventListener("click", () => undo((data) => show(data.recording)));
    reasonsPanel.querySelectorAll(".reason").forEach((button) => {
      button.addEventListener("click", () => chooseReason(reasonFor(button.querySelector("kbd").textContent), reject));
    });
    document.querySelectorAll(".speed").forEach((button) => {
      button.addEventListener("click", () => setSpeed(parseFloat(button.dataset.speed)));
    });
    ["filter-event", "filter-painting", "filter-language"].forEach((id) => {
      $(id).addEventListener("change", () => { current = null; stop(); claimNext(null, "next"); });
    });
    // Let the next moderator have it at once rather than when the claim expires.
    window.addEventListener("pagehide", () => {
      if (!current) return;
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrf);
      navigator.sendBeacon(`/api/moderation/recordings/${current.id}/release/`, body);
    });

    setSpeed(speed);
    claimNext(null, "next");
    // A new reading (or a colleague's decision) updates the count at once; an idle console takes the reading.
    if (window.openLiveSocket) {
      window.openLiveSocket("/ws/moderation/", {
        "queue.changed": () => { if (current) refreshCount(); else claimNext(null, "next"); },
        onReconnect: () => { if (current) refreshCount(); else claimNext(null, "next"); },
      });
    }
  }

  // ============================================================================================
  // Films (the optional second gate)
  // ============================================================================================
  function filmConsole() {
    const video = $("film");
    let films = [];
    let index = 0;

    async function load() {
      const response = await api("GET", "/api/moderation/films/");
      films = response.ok ? response.data.results : [];
      index = 0;
      $("queue-count").textContent = response.ok ? response.data.count : "?";
      showCurrent();
    }

    function showCurrent() {
      closeReasons();
      const film = films[index];
      $("review").hidden = !film;
      $("empty").hidden = Boolean(film);
      if (!film) { video.removeAttribute("src"); return; }
      $("review").dataset.animationId = film.id;
      $("passage-title").textContent = film.passage_title;
      $("review-context").textContent = ` · ${film.painting_title} · ${film.event_title} · ${film.language}`;
      $("passage-text").textContent = film.passage_text;
      $("passage-text").lang = film.language;
      video.poster = film.poster_url;
      video.src = film.video_url;
      const track = video.querySelector("track");
      track.src = film.subtitles_url;
      track.srclang = film.language;
      trackListening(video);
      video.play().catch(() => toast(strings.press));
    }

    video.addEventListener("timeupdate", () => { media.listened = Math.max(media.listened, video.currentTime); });
    video.addEventListener("ended", () => { media.ended = true; });

    async function decide(url, body, message) {
      const film = films[index];
      if (!film) return;
      const response = await api("POST", url, body);
      closeReasons();
      if (!response.ok) { toast((response.data && response.data.detail) || strings.failed, "warning"); }
      else { rememberDecision(response.data); toast(message, "success"); }
      films.splice(index, 1);
      if (index >= films.length) index = 0;
      showCurrent();
    }

    function publish() {
      const film = films[index];
      if (!film) return;
      if (!heardEnough()) { toast(strings.watchFirst, "warning"); return; }
      decide(`/api/moderation/films/${film.id}/publish/`, {}, strings.published);
    }

    function reject(reason, text) {
      const film = films[index];
      if (film) decide(`/api/moderation/films/${film.id}/reject/`, { reason, note: text }, strings.held);
    }

    function move(step) {
      if (!films.length) return;
      index = (index + step + films.length) % films.length;
      showCurrent();
    }

    document.addEventListener("keydown", (event) => {
      if (handledByReasons(event, reject)) return;
      switch (event.key) {
        case " ": event.preventDefault(); togglePlay(); break;
        case "a": event.preventDefault(); publish(); break;
        case "r": event.preventDefault(); if (films[index]) openReasons(); break;
        case "j": event.preventDefault(); move(1); break;
        case "k": event.preventDefault(); move(-1); break;
        case "u": event.preventDefault(); undo(() => load()); break;
        case "s": event.preventDefault(); setSpeed(speed === 1 ? 1.5 : 1); break;
        default: break;
      }
    });
    $("approve").addEventListener("click", publish);
    $("reject").addEventListener("click", () => { if (films[index]) openReasons(); });
    $("next").addEventListener("click", () => move(1));
    $("previous").addEventListener("click", () => move(-1));
    $("undo").addEventListener("click", () => undo(() => load()));
    reasonsPanel.querySelectorAll(".reason").forEach((button) => {
      button.addEventListener("click", () => chooseReason(reasonFor(button.querySelector("kbd").textContent), reject));
    });
    document.querySelectorAll(".speed").forEach((button) => {
      button.addEventListener("click", () => setSpeed(parseFloat(button.dataset.speed)));
    });
    setSpeed(speed);
    load();
  }

  if (config.mode === "films") filmConsole();
  else recordingConsole();
})();
