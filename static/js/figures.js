// The figures of a painting (curation): a face in the strip shows where it stands on the painting (the
// overview scrolls to it, box and card marked), and a box on the painting shows its card.
(function () {
  "use strict";
  var overview = document.getElementById("painting-overview");
  if (!overview) return;
  function mark(boxId, cardId) {
    document.querySelectorAll(".is-current").forEach(function (element) { element.classList.remove("is-current"); });
    var box = document.getElementById(boxId), card = document.getElementById(cardId);
    if (box) {
      box.classList.add("is-current");
      box.scrollIntoView({ block: "nearest", inline: "center", behavior: "smooth" });
    }
    if (card) card.classList.add("is-current");
  }
  document.querySelectorAll(".figure-thumb").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var card = link.closest(".figure-card");
      mark(link.dataset.box, card && card.id);
    });
  });
  overview.querySelectorAll(".face-box").forEach(function (box) {
    box.addEventListener("click", function (event) {
      event.preventDefault();
      var cardId = box.getAttribute("href").slice(1);
      mark(box.id, cardId);
      var card = document.getElementById(cardId);
      if (card) {
        card.scrollIntoView({ block: "nearest", behavior: "smooth" });
        var input = card.querySelector("input[name=name]");
        if (input) input.focus({ preventScroll: true });
      }
    });
  });
})();
