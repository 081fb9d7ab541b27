// Recording studio: record in the browser, check the take, upload with progress and retries.
(function () {
  "use strict";
  // Strings and settings come from the page (no inline script: the Content-Security-Policy forbids it).
  var strings = document.getElementById("record-strings");
  if (!strings) return;
  var text = {};
  Array.prototype.forEach.call(strings.querySelectorAll("[data-key]"), function (node) {
    text[node.dataset.key] = node.textContent.trim();
  });
  var pinyinToggle = document.getElementById("pinyin-toggle");
  if (pinyinToggle) {
    pinyinToggle.addEventListener("click", function () {
      var shown = document.getElementById("passage-text").classList.toggle("show-pinyin");
      pinyinToggle.setAttribute("aria-pressed", String(shown));
      pinyinToggle.textContent = shown ? text.hidePinyin : text.showPinyin;
    });
  }
  var section = document.getElementById("recorder");
  if (!section) return;
  var status = document.getElementById("record-status");
  var recordButton = document.getElementById("record-button");
  var playButton = document.getElementById("play-button");
  var submitButton = document.getElementById("submit-button");
  var discardButton = document.getElementById("discard-button");
  var meterBar = document.getElementById("meter-bar");
  var meter = section.querySelector(".meter");
  var elapsed = document.getElementById("elapsed");
  var playback = document.getElementById("playback");
  var progress = document.getElementById("upload-progress");
  var maxSeconds = parseFloat(section.dataset.maxSeconds);
  var passageId = section.dataset.passageId;
  // Where the take in progress is kept: one per passage, one per role of a dialogue.
  var takeKey = section.dataset.roleId ? passageId + ":" + section.dataset.roleId : passageId;

  var stream = null, recorder = null, chunks = [], take = null, startedAt = 0, timer = null, analyser = null;
  var runningKey = null, lastKept = 0, keeping = false;
  // The take on the page is one kept from an earlier visit (offered back after a reload): it may be
  // thrown away with "Discard this recording", or it would be offered (and leaving would ask) until sent.
  var restored = false;
  var state = "idle"; // idle | counting | recording | recorded | uploading | sent
  // Where readers drop out of the flow, counted anonymously (funnel.js, the organisers' dashboard).
  var funnel = function (step) { if (window.recordFunnel) window.recordFunnel(step); };

  function say(message) { status.textContent = message; }
  function offerDiscard(shown) {
    restored = shown;
    if (discardButton) discardButton.hidden = !shown;
  }

  // A camera take plays back as what it is, picture and sound; a voice-only take needs no picture.
  function showTake() {
    playback.pause();
    if (playback.src) URL.revokeObjectURL(playback.src);
    playback.src = URL.createObjectURL(take);
    playback.muted = false;
    playback.hidden = take.type.indexOf("video/") !== 0;
  }

  // Takes are kept in IndexedDB until the server confirms them: a closed tab or a dropped network
  // must not cost a resident their reading. Writes go one after the other (a late write of the running
  // take must never land after the write that replaced it).
  var storeQueue = Promise.resolve();
  function withStore(mode, action) {
    var done = storeQueue.then(function () { return openStore(mode, action); });
    storeQueue = done;
    return done;
  }
  function openStore(mode, action) {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var opening = indexedDB.open("shuohua-takes", 1);
      opening.onupgradeneeded = function () { opening.result.createObjectStore("takes"); };
      opening.onerror = function () { resolve(null); };
      opening.onsuccess = function () {
        var database = opening.result;
        var request = action(database.transaction("takes", mode).objectStore("takes"));
        request.onsuccess = function () { database.close(); resolve(request.result); };
        request.onerror = function () { database.close(); resolve(null); };
      };
    });
  }
  // Each take has a name of its own, kept with it: a retry after a lost answer (or a reload) sends the
  // same name, and the server answers with the reading it already kept instead of making a second.
  function newTakeKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  // PARTIAL: the recording was still running (kept about every second, so that a reload or a closed
  // tab in the middle of a reading leaves what was read until then).
  function keepTake(blob, seconds, key, partial) {
    return withStore("readwrite", function (store) {
      return store.put({ blob: blob, seconds: seconds, key: key, partial: Boolean(partial) }, takeKey);
    });
  }
  function keepRunningTake() {
    if (state !== "recording" || keeping || !chunks.length) return;
    keeping = true;
    lastKept = performance.now();
    var blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
    keepTake(blob, (lastKept - startedAt) / 1000, runningKey, true).then(function () { keeping = false; });
  }
  function forgetTake() { return withStore("readwrite", function (store) { return store.delete(takeKey); }); }
  function restoreTake() {
    return withStore("readonly", function (store) { return store.get(takeKey); }).then(function (saved) {
      if (!saved || !saved.blob || state !== "idle") return;
      take = saved.blob;
      take.seconds = saved.seconds;
      take.key = saved.key || newTakeKey();
      showTake();
      state = "recorded";
      playButton.disabled = false;
      submitButton.disabled = false;
      say(saved.partial ? text.restoredPartial : text.restored);
      offerDiscard(true);
    });
  }
  // The restored take is forgotten, here and in IndexedDB: nothing is offered on the next visit, and
  // leaving the page no longer asks.
  function discardTake() {
    if (!restored || state !== "recorded") return;
    offerDiscard(false);
    take = null;
    state = "idle";
    playback.pause();
    if (playback.src) URL.revokeObjectURL(playback.src);
    playback.removeAttribute("src");
    playback.hidden = true;
    playButton.disabled = true;
    submitButton.disabled = true;
    elapsed.textContent = "0";
    recordButton.focus(); // the focused button is gone: the next step is recording again
    forgetTake().then(function () { say(text.discarded); });
  }

  if (!window.isSecureContext) { say(text.insecure); section.classList.remove("pending"); recordButton.disabled = true; return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) { say(text.unsupported); return; }
  section.classList.remove("pending");

  function pickMimeType() {
    var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
    // With the camera on (camera.js): WebM VP8/VP9 + Opus, or MP4 H.264 + AAC on Safari.
    if (stream && stream.getVideoTracks().length) {
      types = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/mp4;codecs=avc1,mp4a", "video/mp4", "video/webm"];
    }
    for (var i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    return "";
  }

  function startMeter() {
    var context = new (window.AudioContext || window.webkitAudioContext)();
    var source = context.createMediaStreamSource(stream);
    analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    var data = new Float32Array(analyser.fftSize);
    (function draw() {
      if (!analyser) return;
      analyser.getFloatTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]));
      var level = Math.round(Math.min(1, peak) * 100);
      meterBar.style.width = level + "%";
      meter.setAttribute("aria-valuenow", level);
      requestAnimationFrame(draw);
    })();
  }

  function openMicrophone() {
    // Browser "enhancements" pump the level up and down and smear consonants: record the voice as it is.
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    }).then(function (s) { stream = s; startMeter(); funnel("microphone_ready"); }, function (error) {
      if (error.name === "NotAllowedError" || error.name === "SecurityError") say(text.denied);
      else if (error.name === "NotFoundError" || error.name === "OverconstrainedError") say(text.noMic);
      else say(text.unsupported);
      throw error;
    });
  }

  function countIn(then) {
    state = "counting";
    if (discardButton) discardButton.hidden = true;
    var count = 3;
    (function tick() {
      if (state !== "counting") return;
      if (count === 0) return then();
      say(text.countIn + " " + count);
      count -= 1;
      setTimeout(tick, 700);
    })();
  }

  function startRecording() {
    chunks = [];
    var options = pickMimeType() ? { mimeType: pickMimeType() } : {};
    // A short, small video: about 1 Mbit/s is plenty for the face's movements (the upload cap is sized to it).
    if (stream.getVideoTracks().length) options.videoBitsPerSecond = 1000000;
    recorder = new MediaRecorder(stream, options);
    recorder.ondataavailable = function (event) {
      if (!event.data.size) return;
      chunks.push(event.data);
      if (performance.now() - lastKept >= 1000) keepRunningTake();
    };
    recorder.onstop = finishRecording;
    recorder.start(250); funnel("recording_started");
    startedAt = performance.now();
    lastKept = startedAt;
    runningKey = newTakeKey();
    playback.pause();
    playback.hidden = true;
    state = "recording";
    recordButton.textContent = text.stop;
    say(text.recording);
    timer = setInterval(function () {
      var seconds = (performance.now() - startedAt) / 1000;
      elapsed.textContent = seconds.toFixed(0);
      if (seconds >= maxSeconds) stopRecording();
    }, 200);
  }

  function stopRecording() {
    if (state !== "recording") return;
    clearInterval(timer);
    recorder.stop();
  }

  function finishRecording() {
    take = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
    take.seconds = (performance.now() - startedAt) / 1000;
    take.key = runningKey || newTakeKey();
    keepTake(take, take.seconds, take.key);
    showTake();
    offerDiscard(false); // a new take, not the one kept from before
    state = "recorded"; funnel("take_recorded");
    recordButton.textContent = text.record;
    playButton.disabled = false;
    submitButton.disabled = false;
    checkTake(take).then(function (warnings) { say(warnings.length ? warnings.join(" ") : text.recorded); });
  }

  function checkTake(blob) {
    // The server checks again; this only warns early. The resident may still submit after a warning.
    return blob.arrayBuffer().then(function (buffer) {
      return new (window.AudioContext || window.webkitAudioContext)().decodeAudioData(buffer);
    }).then(function (decoded) {
      var samples = decoded.getChannelData(0), peak = 0, clipped = 0;
      for (var i = 0; i < samples.length; i++) {
        var value = Math.abs(samples[i]);
        if (value > peak) peak = value;
        if (value > 0.99) clipped += 1;
      }
      var warnings = [];
      if (decoded.duration < 1) warnings.push(text.tooShort);
      if (peak < 0.05) warnings.push(text.tooQuiet);
      if (clipped / samples.length > 0.001) warnings.push(text.clipped);
      return warnings;
    }).catch(function () { return []; });
  }

  function toggleRecording() {
    if (state === "recording") return stopRecording();
    if (state === "counting" || state === "uploading") return;
    (stream ? Promise.resolve() : openMicrophone()).then(function () { countIn(startRecording); }, function () {});
  }

  function upload(attempt) {
    state = "uploading";
    submitButton.disabled = true;
    if (discardButton) discardButton.hidden = true;
    progress.hidden = false;
    say(text.uploading);
    var form = new FormData();
    form.append("passage", passageId);
    if (section.dataset.roleId) form.append("role", section.dataset.roleId);
    var extension = (take.type.indexOf("ogg") >= 0) ? "ogg" : (take.type.indexOf("mp4") >= 0 ? "m4a" : "webm");
    // A camera take is recorded only after its own consent was ticked (camera.js).
    var camera = take.type.indexOf("video/") === 0;
    if (camera) extension = extension === "m4a" ? "mp4" : extension;
    form.append("audio", take, "recording." + extension);
    if (camera) form.append("video_consent", "true");
    // The reading's own opt-in for the open dataset, apart from the film (off unless ticked).
    var datasetOptIn = document.getElementById("dataset-optin");
    if (datasetOptIn && datasetOptIn.checked) form.append("open_dataset", "true");
    var request = new XMLHttpRequest();
    request.open("POST", "/api/recordings/");
    request.setRequestHeader("X-CSRFToken", strings.dataset.csrf);
    request.setRequestHeader("Idempotency-Key", take.key);
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
    };
    request.onload = function () {
      if (request.status === 201 || request.status === 200) {
        state = "sent"; funnel("submitted"); // nothing is left to lose: leaving the page asks nothing
        forgetTake().then(function () { window.location = strings.dataset.myRecordingsUrl; });
        return;
      }
      var detail = "";
      try { detail = JSON.parse(request.responseText).detail; } catch (e) { detail = request.statusText; }
      if (request.status >= 500 || request.status === 429) return retry(attempt, detail);
      state = "recorded";
      submitButton.disabled = false;
      if (discardButton) discardButton.hidden = !restored;
      say(detail);
    };
    request.onerror = function () { retry(attempt, text.retrying); };
    request.send(form);
  }

  function retry(attempt, message) {
    // The take stays in memory until the server confirms it: a dropped network loses nothing.
    say(message + " " + text.retrying);
    setTimeout(function () { upload(attempt + 1); }, Math.min(30000, 1000 * Math.pow(2, attempt)));
  }

  // The camera studio (camera.js) hands its camera-and-microphone stream here, or null to go back to the
  // microphone alone; refused while a take is being made or sent.
  window.shuohuaRecorder = {
    busy: function () { return state === "counting" || state === "recording" || state === "uploading"; },
    useStream: function (next) {
      if (this.busy()) return false;
      if (stream && stream !== next) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = next;
      analyser = null;
      if (next) { startMeter(); funnel("microphone_ready"); }
      return true;
    },
  };
  restoreTake();
  recordButton.addEventListener("click", toggleRecording);
  playButton.addEventListener("click", function () { playback.currentTime = 0; playback.play(); });
  submitButton.addEventListener("click", function () { if (take && state === "recorded") upload(0); });
  if (discardButton) discardButton.addEventListener("click", discardTake);
  function cancel() {
    // Escape throws the running take (or the count-in) away and says so; a kept take stays.
    if (state === "recording") {
      recorder.onstop = null;
      recorder.stop();
      clearInterval(timer);
      elapsed.textContent = "0";
      // What the running take wrote over goes back: the earlier take, or nothing.
      if (take) keepTake(take, take.seconds, take.key);
      else forgetTake();
    } else if (state !== "counting") {
      return;
    }
    state = take ? "recorded" : "idle";
    if (take) showTake();
    // A cancelled new recording leaves the restored take as it was: it may still be discarded.
    if (discardButton) discardButton.hidden = !(take && restored);
    recordButton.textContent = text.record;
    say(text.cancelled);
  }

  // Leaving (a reload, a link, a closed tab) while a take is being made or waits to be sent asks first.
  // Should the resident leave anyway, the take is in IndexedDB and is offered again on their return.
  window.addEventListener("beforeunload", function (event) {
    if (state !== "recording" && state !== "recorded" && state !== "uploading") return;
    keepRunningTake();
    event.preventDefault();
    event.returnValue = "";
  });

  // Enter is left to the focused button (Play back plays, Submit submits): a global Enter once sent
  // a test take when the resident only meant to listen.
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, textarea, select, a")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "r") toggleRecording();
    else if (event.key === "p" && take && state === "recorded") playback.play();
    else if (event.key === "Escape") cancel();
  });
})();
