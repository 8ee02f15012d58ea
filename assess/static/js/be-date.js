// Beside each date field of a Thai page, the day it holds as the pages write dates: day,
// month and the Buddhist Era year ("31 มี.ค. 2570"). Browsers draw <input type="date"> in
// their own calendar (often the Gregorian one, whatever the page's language), and the server
// takes Gregorian dates; the echo says which day that is, so 2026 is never mistaken for 2569.
//
// A field whose server reads a Buddhist Era year typed into it as such (data-be-years: the
// years taken for B.E. ones; data-be-means: "means %(date)s" in the page's language) says
// which day a B.E. year gives: "2569-12-01" reads "หมายถึง 1 ธ.ค. 2569" on a Thai page and
// "means 1 Dec 2026" on an English one, where nothing is said otherwise.
(function () {
  "use strict";
  if (typeof Intl === "undefined") return;
  var BE_OFFSET = 543;
  var thai = document.documentElement.lang === "th";
  var options = {day: "numeric", month: "short", year: "numeric", timeZone: "UTC"};
  var format;
  try {
    if (thai) {
      format = new Intl.DateTimeFormat("th-TH-u-ca-buddhist", options).format;
    } else {
      // As the English pages write dates, "30 Sep 2026" (en-GB would say "Sept").
      var english = new Intl.DateTimeFormat("en-US", options);
      format = function (day) {
        var parts = {};
        english.formatToParts(day).forEach(function (p) { parts[p.type] = p.value; });
        return parts.day + " " + parts.month + " " + parts.year;
      };
    }
  } catch (e) {
    return; // no Buddhist calendar in this browser: its own display stays
  }
  document.querySelectorAll('input[type="date"]').forEach(function (input) {
    var means = input.getAttribute("data-be-means");
    var years = (input.getAttribute("data-be-years") || "").split(" ").map(Number);
    if (!thai && !means) return; // an English page has nothing to say about this field
    var echo = document.createElement("div");
    echo.className = "form-text be-date";
    echo.setAttribute("aria-live", "polite");
    if (input.id) echo.id = input.id + "-be";
    input.insertAdjacentElement("afterend", echo);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + echo.id);
    function show() {
      var parts = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(input.value);
      if (!parts) {
        echo.textContent = "";
        return;
      }
      var year = +parts[1];
      var buddhist = means !== null && year >= years[0] && year <= years[1];
      var day = format(
        new Date(Date.UTC(buddhist ? year - BE_OFFSET : year, +parts[2] - 1, +parts[3]))
      );
      // As the pages write dates ("8 ม.ค. 2570"): a Thai reader takes the year for B.E.
      echo.textContent = buddhist ? means.replace("%(date)s", day) : thai ? day : "";
    }
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    show();
  });
})();
