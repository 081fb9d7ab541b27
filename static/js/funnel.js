// Where readers drop out of the recording flow: window.recordFunnel(step) counts that this visit of the
// recording page reached STEP (opened, microphone_ready, recording_started, take_recorded, submitted).
// Anonymous: only the passage and the step are sent (the server adds the day); each step counts once per
// visit, however many takes are made. The passage id is read from the page: the first element with
// data-funnel-passage, else the recording studio's data-passage-id. The visit's "opened" is counted as
// soon as this script runs. Sent with fetch keepalive, so a count sent as the page is left still arrives;
// Django's CSRF check holds (the token from the page's data-csrf, else the csrftoken cookie).
(function () {
  "use strict";
  var STEPS = ["opened", "microphone_ready", "recording_started", "take_recorded", "submitted"];
  var sent = {};

  function passageId() {
    var marked = document.querySelector("[data-funnel-passage]");
    if (marked) return marked.dataset.funnelPassage;
    var studio = document.querySelector("[data-passage-id]");
    return studio ? studio.dataset.passageId : "";
  }

  function csrfToken() {
    var holder = document.querySelector("[data-csrf]");
    if (holder && holder.dataset.csrf) return holder.dataset.csrf;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  window.recordFunnel = function (step) {
    var passage = passageId();
    if (STEPS.indexOf(step) < 0 || !passage || sent[step] || !window.fetch) return;
    sent[step] = true;
    try {
      fetch("/api/funnel/", {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ passage: passage, step: step }),
      }).catch(function () {}); // a lost count is not worth a word to the reader
    } catch (error) {
      // An old browser without keepalive: the count is simply not made.
    }
  };

  window.recordFunnel("opened");
})();
