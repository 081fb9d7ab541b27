// Event page and the front page's newest films: new animations slide in, removed ones disappear, the live counter follows the workers.
(function () {
  "use strict";
  var grid = document.getElementById("animation-grid");
  if (!grid) return;
  var eventId = grid.dataset.eventId;
  var template = document.getElementById("card-template");
  var counter = document.getElementById("in-progress");
  var emptyNote = document.getElementById("empty-note");
  var announcer = document.getElementById("live-announcer");
  var filters = new URLSearchParams(location.search);
  var firstPage = grid.dataset.firstPage === "true";
  // The front page shows only the newest few; the event page shows a whole page of them.
  var limit = parseInt(grid.dataset.limit || "0", 10);

  function trim() {
    while (limit && grid.children.length > limit) grid.lastElementChild.remove();
  }

  function matchesFilters(card) {
    if (filters.get("painting") && filters.get("painting") !== card.painting_id) return false;
    if (filters.get("language") && filters.get("language") !== card.language) return false;
    return true;
  }

  function cardElement(card) {
    var item = template.content.firstElementChild.cloneNode(true);
    item.dataset.animationId = card.id;
    item.querySelector("a").href = card.url;
    item.querySelector("img").src = card.poster_url;
    var title = item.querySelector(".card-title");
    title.textContent = card.passage_title;
    title.lang = card.language;
    var english = item.querySelector(".card-title-other");
    english.textContent = card.passage_title_en || "";
    english.hidden = !card.passage_title_en;
    item.querySelector(".card-painting").textContent = card.painting_title;
    item.querySelector(".card-reader").textContent = window.liveText("read_by", { reader: card.reader });
    var date = item.querySelector(".card-date");
    date.dateTime = card.published_at || "";
    date.textContent = card.published_on || "";
    return item;
  }

  function addCard(card, announce) {
    // Only the first page shows the newest films; later pages would shift under the reader's eyes.
    if (!firstPage || !matchesFilters(card)) return;
    if (grid.querySelector('[data-animation-id="' + card.id + '"]')) return;
    grid.prepend(cardElement(card));
    trim();
    if (window.formatDates) window.formatDates(grid.firstElementChild);
    emptyNote.hidden = true;
    if (announce) announcer.textContent = window.liveText("published", { title: card.passage_title });
  }

  function removeCard(animationId) {
    var item = grid.querySelector('[data-animation-id="' + animationId + '"]');
    if (!item) return;
    // Focus would be lost with the card: hand it to the grid so keyboard users keep their place.
    if (item.contains(document.activeElement)) { grid.tabIndex = -1; grid.focus(); }
    item.remove();
    emptyNote.hidden = grid.children.length > 0;
    announcer.textContent = window.liveText("removed");
  }

  // The curators' choice (issue 26) shows only public films: one withdrawn or taken down leaves it at once.
  function removeFeatured(animationId) {
    document.querySelectorAll('[data-featured-animation-id="' + animationId + '"]').forEach(function (item) {
      var section = item.closest("[data-featured]");
      item.remove();
      if (section && !section.querySelector("[data-featured-animation-id]")) section.hidden = true;
    });
  }

  function catchUp() {
    var query = new URLSearchParams();
    if (filters.get("painting")) query.set("painting", filters.get("painting"));
    if (filters.get("language")) query.set("language", filters.get("language"));
    fetch("/api/events/" + eventId + "/animations/?" + query.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (counter) counter.textContent = data.in_progress;
        if (!firstPage) return;
        // Redraw the first page as the server has it now, keeping the cards already shown.
        var fragment = document.createDocumentFragment();
        data.animations.forEach(function (card) {
          fragment.appendChild(grid.querySelector('[data-animation-id="' + card.id + '"]') || cardElement(card));
        });
        grid.replaceChildren(fragment);
        trim();
        emptyNote.hidden = grid.children.length > 0;
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  window.openLiveSocket("/ws/events/" + eventId + "/", {
    "animation.published": function (message) { addCard(message.animation, true); },
    "animation.removed": function (message) { removeCard(message.animation_id); removeFeatured(message.animation_id); },
    "animation.progress": function (message) { if (counter) counter.textContent = message.in_progress; },
    onReconnect: catchUp,
  });
})();
