// Camera studio (issue 15): an opt-in "Record with camera" beside the microphone-only path. A live
// preview with a framing guide (face centred, lit, not too far); the camera-and-microphone stream is
// handed to the recording studio (recorder.js), which records, plays back, keeps and uploads the take
// as before, with the video consent. No inline script: strings come from the page.
(function () {
  "use strict";
  var section = document.getElementById("camera-studio");
  var strings = document.getElementById("camera-strings");
  if (!section || !strings || !window.shuohuaRecorder) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) return;
  var text = {};
  Array.prototype.forEach.call(strings.querySelectorAll("[data-key]"), function (node) {
    text[node.dataset.key] = node.textContent.trim();
  });
  var optIn = document.getElementById("camera-optin");
  var consent = document.getElementById("camera-consent");
  var frame = document.getElementById("camera-frame");
  var preview = document.getElementById("camera-preview");
  var guide = document.getElementById("camera-guide");
  var cameraStream = null, checking = null;
  var probe = document.createElement("canvas");
  var detector = ("FaceDetector" in window) ? new window.FaceDetector({ fastMode: true, maxDetectedFaces: 1 }) : null;
  section.hidden = false;

  function tell(message, good) {
    guide.textContent = message;
    guide.classList.toggle("good", Boolean(good));
  }

  function stopCamera() {
    clearInterval(checking);
    checking = null;
    if (cameraStream) {
      if (!window.shuohuaRecorder.useStream(null)) return false;
      cameraStream.getTracks().forEach(function (track) { track.stop(); });
    }
    cameraStream = null;
    preview.srcObject = null;
    frame.hidden = true;
    return true;
  }

  function startCamera() {
    tell(text.starting);
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25, max: 30 } },
    }).then(function (stream) {
      if (!optIn.checked || !consent.checked || !window.shuohuaRecorder.useStream(stream)) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        return;
      }
      cameraStream = stream;
      preview.srcObject = stream;
      frame.hidden = false;
      checking = setInterval(checkFraming, 700);
    }, function (error) {
      optIn.checked = false;
      tell(error && error.name === "NotAllowedError" ? text.denied : text.noCamera);
    });
  }

  // The framing guide: light from the preview's pixels; where the face is and how big, from the
  // browser's face detector where it has one (otherwise the oval on the preview is the guide).
  function checkFraming() {
    if (!preview.videoWidth) return;
    var width = 64, height = Math.round(64 * preview.videoHeight / preview.videoWidth);
    probe.width = width;
    probe.height = height;
    var context = probe.getContext("2d", { willReadFrequently: true });
    context.drawImage(preview, 0, 0, width, height);
    var pixels = context.getImageData(Math.round(width * 0.25), Math.round(height * 0.15), Math.round(width * 0.5), Math.round(height * 0.7)).data;
    var sum = 0;
    for (var i = 0; i < pixels.length; i += 4) sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
    var light = sum / (pixels.length / 4);
    if (light < 50) return tell(text.tooDark);
    if (!detector) return tell(text.oval, true);
    detector.detect(preview).then(function (faces) {
      if (!faces.length) return tell(text.noFace);
      var box = faces[0].boundingBox;
      var centreX = (box.x + box.width / 2) / preview.videoWidth, centreY = (box.y + box.height / 2) / preview.videoHeight;
      if (box.width / preview.videoWidth < 0.2) return tell(text.tooFar);
      if (Math.abs(centreX - 0.5) > 0.15 || Math.abs(centreY - 0.45) > 0.2) return tell(text.centre);
      tell(text.good, true);
    }, function () { tell(text.oval, true); });
  }

  function update() {
    if (!optIn.checked) {
      consent.disabled = true;
      if (!stopCamera()) { optIn.checked = true; consent.disabled = false; return; }
      tell("");
      return;
    }
    consent.disabled = false;
    if (!consent.checked) {
      if (!stopCamera()) { consent.checked = true; return; }
      tell(text.needConsent);
      return;
    }
    if (!cameraStream) startCamera();
  }

  consent.disabled = !optIn.checked;
  optIn.addEventListener("change", update);
  consent.addEventListener("change", update);
})();
