// A read-only websocket that reconnects with backoff and tells the page to catch up over HTTP.
(function () {
  "use strict";
  window.openLiveSocket = function (path, handlers) {
    var attempt = 0;
    var socket = null;
    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        var reconnected = attempt > 0;
        attempt = 0;
        document.documentElement.dataset.live = "open";
        if (reconnected && handlers.onReconnect) handlers.onReconnect();
      };
      socket.onmessage = function (event) {
        var message = JSON.parse(event.data);
        var handler = handlers[message.type];
        if (handler) handler(message);
      };
      socket.onclose = function () {
        document.documentElement.dataset.live = "closed";
        attempt += 1;
        var delay = Math.min(30000, 500 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() * 0.5);
        setTimeout(connect, delay);
      };
    }
    connect();
    return { close: function () { socket.onclose = null; socket.close(); } };
  };
})();
