// "My recordings": each animation being made shows its progress live, over the owner's own socket.
(function () {
  "use strict";
  var stages = {};
  Array.prototype.forEach.call(document.querySelectorAll("#recording-strings [data-key]"), function (node) {
    stages[node.dataset.key] = node.textContent.trim();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-live-recording]"), function (note) {
    var recordingId = note.dataset.liveRecording;
    var label = note.querySelector(".progress-label");
    var bar = note.querySelector("progress");
    var socket = window.openLiveSocket("/ws/recordings/" + recordingId + "/", {
      "recording.status": function (message) {
        var stage = message.status.split(":")[0];
        if (stage === "published") {
          var link = document.createElement("a");
          link.href = "/animations/" + message.animation_id + "/";
          link.textContent = stages.watch;
          note.replaceWith(link);
          socket.close();
          return;
        }
        label.textContent = stages[stage] || stage;
        bar.value = message.progress;
      },
      // After a dropped connection the page itself is the catch-up: it is cheap to reload.
      onReconnect: function () { location.reload(); },
    });
  });
})();
