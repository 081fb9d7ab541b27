// Every page: the language menu switches as soon as a language is chosen (no separate button).
(function () {
  "use strict";
  var select = document.getElementById("language-select");
  if (!select) return;
  select.addEventListener("change", function () { select.form.submit(); });
})();
// Dates of cards that arrive live, in the page's language (the server formats the others).
(function () {
  "use strict";
  var language = document.documentElement.lang || "en";
  var formatter = null;
  window.formatDates = function (root) {
    var nodes = (root || document).querySelectorAll("time.local-date[datetime]");
    if (!nodes.length) return;
    try {
      // One formatter for the page: building one costs tens of milliseconds on a phone.
      formatter = formatter || new Intl.DateTimeFormat(language, { year: "numeric", month: "short", day: "numeric" });
    } catch (error) { return; /* keep the server's ISO dates */ }
    Array.prototype.forEach.call(nodes, function (node) {
      var date = new Date(node.getAttribute("datetime"));
      if (!isNaN(date.getTime())) node.textContent = formatter.format(date);
    });
  };
  // Pages arrive with dates formatted by the server; only cards that arrive live are formatted here.
})();
