// The Plotly of assess: its core (scatter traces, axes, shapes, annotations, legends, the
// mode bar and its PNG download) and the four other trace types the charts draw
// (assess/reports/charts.py, assess/survey/results_page.py). A chart of another type needs
// its module here, and a new build (README.md beside this file).
var Plotly = require("plotly.js/lib/core");

Plotly.register([
  require("plotly.js/lib/bar"),
  require("plotly.js/lib/box"),
  require("plotly.js/lib/heatmap"),
  require("plotly.js/lib/scatterpolar"),
]);

module.exports = Plotly;
