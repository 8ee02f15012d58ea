// Beside each date field of a Thai page, the day it holds as the pages write dates: day,
// month and the Buddhist Era year ("31 มี.ค. 2570"). Browsers draw <input type="date"> in
// their own calendar (often the Gregorian one, whatever the page's language), and the server
// takes Gregorian dates; the echo says which day that is, so 2026 is never mistaken for 2569.
(function () {
  "use strict";
  if (document.documentElement.lang !== "th" || typeof Intl === "undefined") return;
  var format;
  try {
    format = new Intl.DateTimeFormat("th-TH-u-ca-buddhist", {
      day: "numeric", month: "short", year: "numeric", timeZone: "UTC"
    });
  } catch (e) {
    return; // no Buddhist calendar in this browser: its own display stays
  }
  document.querySelectorAll('input[type="date"]').forEach(function (input) {
    var echo = document.createElement("div");
    echo.className = "form-text be-date";
    echo.setAttribute("aria-live", "polite");
    if (input.id) echo.id = input.id + "-be";
    input.insertAdjacentElement("afterend", echo);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + echo.id);
    function show() {
      var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.value);
      // As the pages write dates ("8 ม.ค. 2570"): a Thai reader takes the year for B.E.
      echo.textContent = parts
        ? format.format(new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3])))
        : "";
    }
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    show();
  });
})();
