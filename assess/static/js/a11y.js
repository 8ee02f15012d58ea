/* Keyboard access to regions that scroll (WCAG 2.1.1): a wide table in a .table-responsive
   box, or any box marked data-scroll-region, that overflows becomes a focusable, named
   region, so arrow keys can scroll it; when it fits again it leaves the tab order. */
(function () {
  "use strict";
  var SELECTOR = ".table-responsive, [data-scroll-region]";

  function nameOf(box) {
    var section = box.closest("[aria-labelledby]");
    if (section) return { by: section.getAttribute("aria-labelledby") };
    var caption = box.querySelector("caption");
    if (caption) return { text: caption.textContent.trim() };
    var heading = box.closest("section, .card, main");
    heading = heading && heading.querySelector("h1, h2, h3, h4");
    return { text: heading ? heading.textContent.trim() : document.title };
  }

  function update() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-a11y-region", "");
        if (!box.hasAttribute("role")) box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
          var name = nameOf(box);
          if (name.by) box.setAttribute("aria-labelledby", name.by);
          else box.setAttribute("aria-label", name.text);
        }
      } else if (!scrolls && box.hasAttribute("data-a11y-region")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-a11y-region");
      }
    });
  }

  var timer = null;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
  window.addEventListener("resize", later);
  window.addEventListener("load", update);
})();
