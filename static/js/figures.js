// The figures of a painting (curation): a face in the strip shows where it stands on the painting (the
// overview scrolls to it, box and card marked), and a box on the painting shows its card.
(function () {
  "use strict";
  var overview = document.getElementById("painting-overview");
  if (!overview) return;
  // A handscroll is browsed at a height, zoomed in steps; the image's sizes follow, so the browser takes
  // the smallest of the painting's copies that is sharp at that height, never the full scan for nothing.
  var zoom = document.getElementById("overview-zoom");
  var image = overview.querySelector("img.painting");
  if (zoom && image) {
    var heights = [240, 420, 840, 1600];
    var level = 1;
    var ratio = Number(overview.dataset.width) / Number(overview.dataset.height);
    var show = function (next) {
      var centre = (overview.scrollLeft + overview.clientWidth / 2) / Math.max(1, overview.scrollWidth);
      level = Math.max(0, Math.min(heights.length - 1, next));
      var height = Math.min(heights[level], Number(overview.dataset.height));
      overview.style.setProperty("--overview-height", height + "px");
      image.sizes = Math.round(height * ratio) + "px";
      overview.scrollLeft = centre * overview.scrollWidth - overview.clientWidth / 2;
      zoom.querySelector("[data-zoom=out]").disabled = level === 0;
      zoom.querySelector("[data-zoom=in]").disabled = level === heights.length - 1 || heights[level] >= Number(overview.dataset.height);
    };
    zoom.addEventListener("click", function (event) {
      var button = event.target.closest("[data-zoom]");
      if (button) show(level + (button.dataset.zoom === "in" ? 1 : -1));
    });
  }
  function mark(boxId, cardId) {
    document.querySelectorAll(".is-current").forEach(function (element) { element.classList.remove("is-current"); });
    var box = document.getElementById(boxId), card = document.getElementById(cardId);
    if (box) {
      box.classList.add("is-current");
      if (overview.hasAttribute("data-deep-zoom")) {
        // Deep zoom: the viewer pans to the box (it is drawn, not scrolled), and the page to the viewer.
        overview.scrollIntoView({ block: "nearest", behavior: "smooth" });
        overview.dispatchEvent(new CustomEvent("deepzoom:show", { detail: { element: box } }));
      } else {
        box.scrollIntoView({ block: "nearest", inline: "center", behavior: "smooth" });
      }
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
