// Event page: new animations slide in, removed ones disappear, the live counter follows the workers.
(function () {
  "use strict";
  var grid = document.getElementById("animation-grid");
  if (!grid) return;
  var eventId = grid.dataset.eventId;
  var template = document.getElementById("card-template");
  var counter = document.getElementById("in-progress");
  var emptyNote = document.getElementById("empty-note");
  var filters = new URLSearchParams(location.search);

  function matchesFilters(card) {
    if (filters.get("painting") && filters.get("painting") !== card.painting_id) return false;
    if (filters.get("language") && filters.get("language") !== card.language) return false;
    return !filters.get("page") || filters.get("page") === "1";
  }

  function addCard(card) {
    if (grid.querySelector('[data-animation-id="' + card.id + '"]') || !matchesFilters(card)) return;
    var item = template.content.firstElementChild.cloneNode(true);
    item.dataset.animationId = card.id;
    item.querySelector("a").href = card.url;
    var image = item.querySelector("img");
    image.src = card.poster_url;
    image.alt = window.SHUOHUA.animatedPainting + " " + card.painting_title;
    item.querySelector(".card-title").textContent = card.passage_title;
    item.querySelector(".card-meta").textContent = card.painting_title + " · " + window.SHUOHUA.readBy + " " + card.reader;
    grid.prepend(item);
    emptyNote.hidden = true;
  }

  function removeCard(animationId) {
    var item = grid.querySelector('[data-animation-id="' + animationId + '"]');
    if (item) item.remove();
    emptyNote.hidden = grid.children.length > 0;
  }

  function catchUp() {
    fetch("/api/events/" + eventId + "/animations/" + location.search)
      .then(function (response) { return response.json(); })
      .then(function (data) {
        counter.textContent = data.in_progress;
        var live = new Set(data.animations.map(function (card) { return card.id; }));
        Array.prototype.forEach.call(grid.querySelectorAll("[data-animation-id]"), function (item) {
          if (!live.has(item.dataset.animationId)) item.remove();
        });
        data.animations.slice().reverse().forEach(addCard);
      });
  }

  window.openLiveSocket("/ws/events/" + eventId + "/", {
    "animation.published": function (message) { addCard(message.animation); },
    "animation.removed": function (message) { removeCard(message.animation_id); },
    "animation.progress": function (message) { counter.textContent = message.in_progress; },
    onReconnect: catchUp,
  });
})();
