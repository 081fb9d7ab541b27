// Every page: the language menu switches as soon as a language is chosen (no separate button).
(function () {
  "use strict";
  var select = document.getElementById("language-select");
  if (!select) return;
  select.addEventListener("change", function () { select.form.submit(); });
})();
// Dates read the same everywhere (cards, film pages, live cards): the page's language, long form.
(function () {
  "use strict";
  var language = document.documentElement.lang || "en";
  window.formatDates = function (root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("time.local-date[datetime]"), function (node) {
      var value = node.getAttribute("datetime");
      if (!value) return;
      var date = new Date(value);
      if (isNaN(date.getTime())) return;
      try {
        node.textContent = new Intl.DateTimeFormat(language, { year: "numeric", month: "long", day: "numeric" }).format(date);
      } catch (error) { /* keep the server's ISO date */ }
    });
  };
  window.formatDates(document);
})();
