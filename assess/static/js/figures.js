/* Draw the Plotly figures of a page: every element with a data-figure attribute holding the
   figure's JSON ({data, layout}). Drawn once the Thai web font has loaded, so Plotly measures
   labels in Sarabun and not in a fallback font. */
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      var layout = Object.assign({ font: { family: "Sarabun, sans-serif" } }, figure.layout || {});
      window.Plotly.newPlot(el, figure.data, layout, {
        responsive: true, displaylogo: false,
        toImageButtonOptions: { format: "png", filename: el.getAttribute("data-filename") || "chart", scale: 2 }
      });
      el.setAttribute("data-drawn", "true");
    });
  }
  var ready = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  ready.then(draw, draw);
})();
