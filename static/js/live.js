// A read-only websocket that reconnects with backoff and tells the page to catch up over HTTP.
// The server never reads from it: everything a page sends goes through the HTTP API.
(function () {
  "use strict";
  window.openLiveSocket = function (path, handlers) {
    var attempt = 0;
    var socket = null;
    var stopped = false;
    var everOpened = false;
    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        // Anything published while the socket was down is fetched over HTTP, so nothing is lost.
        var reconnected = everOpened;
        everOpened = true;
        attempt = 0;
        document.documentElement.dataset.live = "open";
        if (reconnected && handlers.onReconnect) handlers.onReconnect();
      };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        var handler = handlers[message.type];
        if (handler) handler(message);
      };
      socket.onclose = function (event) {
        document.documentElement.dataset.live = "closed";
        // 4404 is "no such event": retrying cannot help.
        if (stopped || event.code === 4404) return;
        attempt += 1;
        // Exponential backoff with jitter, so a room of screens does not reconnect in one burst.
        var delay = Math.min(30000, 500 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() * 0.5);
        document.documentElement.dataset.liveRetries = String(attempt);
        setTimeout(connect, delay);
      };
    }
    connect();
    return { close: function () { stopped = true; socket.close(); } };
  };

  // Text from json_script with %(name)s placeholders, filled in.
  window.liveText = function (key, values) {
    var element = document.getElementById("live-text");
    var text = element ? (JSON.parse(element.textContent)[key] || "") : "";
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(values[name]);
    });
    return text;
  };
})();
