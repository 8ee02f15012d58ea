/* Results dashboards: draw each chart of the page with Plotly (served by the app).
 *
 * A chart holder is an element with data-chart="ID-OF-ITS-SPEC", the spec a
 * <script type="application/json"> with the figure assess/reports/charts.py made. Charts are
 * drawn only once the Sarabun web font has loaded: Plotly measures its labels when it lays a
 * chart out, and labels measured in a fallback face would be cut or overlap once Sarabun
 * arrives. The mode bar keeps its PNG download (each chart is downloadable; its CSV is a
 * link beside it); its tooltips speak the page's language. A holder with
 * data-alternative="table" has its data in a table on the page: its drawing is hidden from
 * screen readers (aria-hidden), which read the table. When everything is drawn,
 * <html data-charts-drawn="N"> tells tests (and anyone) that the page is complete.
 */
(function () {
  "use strict";

  var FONT = "Sarabun, 'Noto Sans Thai', Tahoma, sans-serif";
  /* A holder narrower than this (a phone) gets the charts fitted to it (fitNarrow…). */
  var NARROW = 560;
  var holders = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  if (!holders.length) {
    return;
  }

  function fontsLoaded() {
    if (!document.fonts || !document.fonts.load) {
      return Promise.resolve();
    }
    // Ask for both faces the charts use (Thai and Latin ranges, regular and semibold)
    // explicitly: SVG text drawn later would otherwise be the first to need them.
    var wanted = ["400 13px Sarabun", "600 13px Sarabun"].map(function (face) {
      return document.fonts.load(face, "กขคabc123");
    });
    return Promise.all(wanted).then(function () { return document.fonts.ready; });
  }

  function locale() {
    var element = document.getElementById("chart-locale");
    if (!element || !window.Plotly) {
      return null;
    }
    var lang = document.documentElement.lang || "th";
    if (lang === "en") {
      return null;
    }
    try {
      window.Plotly.register({
        moduleType: "locale",
        name: lang,
        dictionary: JSON.parse(element.textContent),
        format: {}
      });
      return lang;
    } catch (error) {
      return null; // Plotly's own English tooltips are better than none.
    }
  }

  /* A radar in a narrow holder (a phone): the dimensions' names would not fit around it,
   * so its axis shows their numbers (the dimension table numbers its rows the same way;
   * hovering still names them) and the margins kept for the names go to the chart. */
  function fitNarrowRadar(holder, data, layout) {
    if (!layout.polar || !data.length || !data[0].theta) {
      return;
    }
    var theta = data[0].theta;
    var names = theta.length > 1 && theta[0] === theta[theta.length - 1] ? theta.slice(0, -1) : theta;
    layout.polar.angularaxis = Object.assign({}, layout.polar.angularaxis || {}, {
      tickmode: "array",
      tickvals: names,
      ticktext: names.map(function (name, index) { return String(index + 1); })
    });
    layout.margin = Object.assign({}, layout.margin || {}, { l: 30, r: 30, t: 30 });
    layout.height = Math.min(layout.height || 480, holder.clientWidth + 90);
  }

  /* A legend above the chart, in a narrow holder (a phone): its entries stack one under
   * another and run over the title and the plot, so it goes below the plot's ticks. A note
   * written above the plot (the trend's) would run past the holder's edge: it becomes the
   * title's second line, which starts at the holder's edge. */
  function fitNarrowLegend(data, layout) {
    if (layout.polar) {
      return;
    }
    // One entry a row, under the ticks (and the axis's title when it has one), in a bottom
    // margin made to hold them: a margin Plotly pushed would move the plot, and the legend
    // with it.
    var entries = data.filter(function (trace) {
      return trace.showlegend !== false && trace.name && trace.type !== "heatmap";
    });
    if (entries.length && layout.legend && layout.legend.y >= 1 && layout.showlegend !== false) {
      // A line's entry (its line and marker) stands taller than a bar's swatch.
      var rows = entries.reduce(function (height, trace) {
        return height + (trace.type === "scatter" ? 30 : 22);
      }, 0);
      var titled = layout.xaxis && layout.xaxis.title && layout.xaxis.title.text;
      var below = titled ? 64 : 36;
      var margin = Object.assign({}, layout.margin || {});
      margin.b = Math.max(margin.b || 0, below + rows + 16);
      var plot = (layout.height || 450) - (margin.t || 0) - margin.b;
      layout.margin = margin;
      layout.legend = Object.assign({}, layout.legend, {
        orientation: "v", x: 0, xanchor: "left", y: -below / plot, yanchor: "top"
      });
    }
    if (layout.title && layout.title.text && layout.annotations) {
      var notes = layout.annotations.filter(function (note) {
        return note.xref === "paper" && note.yref === "paper" && note.y >= 1 && !note.x;
      });
      notes.forEach(function (note) {
        layout.title = Object.assign({}, layout.title, {
          text: layout.title.text + "<br><span style='font-size:12px'>" + note.text + "</span>"
        });
      });
      layout.annotations = layout.annotations.filter(function (note) {
        return notes.indexOf(note) < 0;
      });
    }
  }

  /* A heatmap in a narrow holder (a phone): its colour bar would take half the width, and
   * the scores written in its cells would run over each other, and the dimensions' names
   * slanted over the columns past the last one. Each cell keeps its colour (hovering it
   * still tells the agency, the dimension, the score and the level), and the names stand
   * upright. */
  function fitNarrowHeatmap(data, layout) {
    if (!data.length || data[0].type !== "heatmap") {
      return;
    }
    data[0].showscale = false;
    data[0].texttemplate = "";
    layout.margin = Object.assign({}, layout.margin || {}, { r: 10 });
    layout.xaxis = Object.assign({}, layout.xaxis || {}, { tickangle: -90 });
  }

  /* Thai vowels written before their consonant (เ แ โ ใ ไ): one left at the end of a cut
   * name belongs to a syllable that was cut away. */
  var LEADING_VOWEL = /[\u0e40-\u0e44]$/;
  /* Thai marks written above or below the letter before them: never parted from it. */
  var COMBINING_MARK = /^[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]$/;

  /* A function that splits a text into pieces a cut may fall between: words (Thai words
   * too, which no space separates: the browser's Intl.Segmenter knows them), or letters,
   * each with its marks. Null for words when the browser has no segmenter. */
  function splitter(granularity) {
    if (window.Intl && Intl.Segmenter) {
      var segmenter = new Intl.Segmenter(document.documentElement.lang || "th", { granularity: granularity });
      return function (text) {
        return Array.from(segmenter.segment(text), function (part) { return part.segment; });
      };
    }
    if (granularity === "word") {
      return null;
    }
    return function (text) {
      var letters = [];
      Array.from(text).forEach(function (char) {
        if (letters.length && COMBINING_MARK.test(char)) {
          letters[letters.length - 1] += char;
        } else {
          letters.push(char);
        }
      });
      return letters;
    };
  }

  /* The first ``count`` pieces, as a cut name ends: no space, no leading vowel at the end. */
  function kept(parts, count) {
    var text = parts.slice(0, count).join("").trim();
    while (LEADING_VOWEL.test(text)) {
      text = text.slice(0, -1).trim();
    }
    return text;
  }

  /* A chart that names its rows on the y axis (bars, boxes, a heatmap) in a narrow holder
   * (a phone): names as wide as on a desktop would leave the rows a sliver, so each name is
   * cut to two fifths of the holder with an ellipsis (after a whole word where one fits,
   * else after whole letters: a Thai letter keeps its marks, and a leading vowel is not left
   * at the end) and the left margin shrinks to match. Hovering a row still names it in full. */
  function fitNarrowRows(holder, data, layout) {
    var width = holder.clientWidth;
    var margin = layout.margin || {};
    var room = Math.floor(width * 0.4) - 24;
    if (layout.polar || !margin.l || margin.l <= room + 24) {
      return;
    }
    var seen = new Set();
    data.forEach(function (trace) {
      if (trace.orientation === "h" || trace.type === "heatmap") {
        (trace.y || []).forEach(function (name) { seen.add(String(name)); });
      }
    });
    if (!seen.size) {
      return;
    }
    var names = Array.from(seen);
    var context = document.createElement("canvas").getContext("2d");
    context.font = ((layout.font && layout.font.size) || 13) + "px " + FONT;
    var words = splitter("word");
    var letters = splitter("grapheme");
    function longest(parts) {
      for (var count = parts.length - 1; count > 0; count--) {
        var shorter = kept(parts, count);
        if (shorter && context.measureText(shorter + "…").width <= room) {
          return shorter + "…";
        }
      }
      return null;
    }
    function cut(name) {
      if (context.measureText(name).width <= room) {
        return name;
      }
      // Whole words, unless they keep far less than whole letters would (a long first
      // word: only the rank "1." would be left).
      var byLetters = longest(letters(name)) || "…";
      var byWords = words && longest(words(name));
      return byWords && byWords.length * 2 >= byLetters.length ? byWords : byLetters;
    }
    layout.yaxis = Object.assign({}, layout.yaxis || {}, {
      tickmode: "array",
      tickvals: names,
      ticktext: names.map(cut)
    });
    layout.margin = Object.assign({}, margin, { l: room + 24 });
  }

  function hideDrawing(holder) {
    holder.querySelectorAll(".main-svg").forEach(function (svg) {
      svg.setAttribute("aria-hidden", "true");
    });
  }

  function draw(holder, lang) {
    var spec = JSON.parse(document.getElementById(holder.getAttribute("data-chart")).textContent);
    var layout = spec.layout || {};
    layout.font = Object.assign({ family: FONT }, layout.font || {});
    if (holder.clientWidth < NARROW) {
      var data = spec.data || [];
      fitNarrowRadar(holder, data, layout);
      fitNarrowLegend(data, layout);
      fitNarrowHeatmap(data, layout);
      fitNarrowRows(holder, data, layout);
    }
    var config = {
      responsive: true,
      displaylogo: false,
      // Never offer to upload an agency's figures to Plotly's cloud (its "Share chart"
      // button and dialog), nor to edit them there.
      showSendToCloud: false,
      showEditInChartStudio: false,
      modeBarButtonsToRemove: [
        "select2d", "lasso2d", "toggleSpikelines", "sendDataToCloud", "editInChartStudio"
      ],
      toImageButtonOptions: {
        format: "png",
        filename: holder.getAttribute("data-filename") || "chart",
        scale: 2
      }
    };
    if (lang) {
      config.locale = lang;
    }
    holder.textContent = "";
    return window.Plotly.newPlot(holder, spec.data || [], layout, config).then(function () {
      if (holder.hasAttribute("data-alternative")) {
        // The page gives the chart's data as a table: screen readers read that, not the
        // drawing's unlabelled shapes (the mode bar's buttons stay theirs). Plotly may draw
        // its layers again (a resize): they are hidden again each time.
        hideDrawing(holder);
        holder.on("plotly_afterplot", function () { hideDrawing(holder); });
      }
      holder.setAttribute("data-drawn", "true");
    });
  }

  function start() {
    if (!window.Plotly) {
      holders.forEach(function (holder) {
        holder.setAttribute("data-drawn", "failed");
      });
      return;
    }
    var lang = locale();
    fontsLoaded()
      .catch(function () { return null; }) // draw anyway, in whatever face there is
      .then(function () {
        return Promise.all(holders.map(function (holder) { return draw(holder, lang); }));
      })
      .then(function () {
        document.documentElement.setAttribute("data-charts-drawn", String(holders.length));
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
