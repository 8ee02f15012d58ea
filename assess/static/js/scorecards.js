/* scorecards.js — the bulk scorecard export on the central office's round page.
 *
 * Progressive enhancement of scorecards/_bulk.html: while a job is queued or running, poll
 * its JSON status, move the progress bar, and show the download link when it is done.
 * Without this script the page shows the state it was loaded with.
 */
(function () {
  "use strict";

  var box = document.getElementById("scorecards-bulk");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector("[role=progressbar]");
  var area = box.querySelector("[data-progress-area]");
  var message = box.querySelector("[data-message]");
  var link = box.querySelector("[data-download]");
  var start = box.querySelector("[data-start]");
  var texts = box.querySelector("[data-messages]");

  function say(state) {
    var text = texts.getAttribute("data-" + state.status) || "";
    text = text.replace("%(done)s", state.done).replace("%(total)s", state.total)
      .replace("%(error)s", state.error || "");
    message.textContent = text;
    message.className = "small mt-1 mb-0" + (state.status === "failed" ? " text-danger" : "");
  }

  function show(state) {
    if (!state.job) return;
    area.classList.remove("d-none");
    var share = state.total ? (100 * state.done) / state.total : (state.status === "done" ? 100 : 0);
    bar.style.width = share.toFixed(1) + "%";
    meter.setAttribute("aria-valuenow", state.done);
    meter.setAttribute("aria-valuemax", state.total);
    var busy = state.status === "queued" || state.status === "running";
    bar.classList.toggle("progress-bar-striped", busy);
    bar.classList.toggle("progress-bar-animated", busy);
    if (start) start.disabled = busy;
    say(state);
    if (state.download_url) {
      link.href = state.download_url;
      link.classList.remove("d-none");
    } else {
      link.classList.add("d-none");
    }
    return busy;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json", "X-Requested-With": "fetch" },
                 credentials: "same-origin" })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (state) {
        if (state && show(state)) window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  var current = box.getAttribute("data-state");
  if (current === "queued" || current === "running") poll();
})();
