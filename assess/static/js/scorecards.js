/* scorecards.js — the bulk scorecard export on the central office's round page.
 *
 * Progressive enhancement of scorecards/_bulk.html: while a job is queued or running, poll
 * its JSON status, move the progress bar, show the server's message (in the page's
 * language), the Cancel button, and the download link when it is done. A reply that is
 * not OK (or no reply) is said on the page and the status asked again, less and less
 * often, until it answers. Without this script the page shows the state it was loaded with.
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
  var outdated = box.querySelector("[data-outdated]");
  var pollError = box.querySelector("[data-poll-error]");
  var link = box.querySelector("[data-download]");
  var previous = box.querySelector("[data-previous]");
  var previousLink = box.querySelector("[data-previous-link]");
  var previousOutdated = box.querySelector("[data-previous-outdated]");
  var start = box.querySelector("[data-start]");
  var cancel = box.querySelector("[data-cancel-form]");
  var texts = box.querySelector("[data-messages]");

  /** Polling: every 1.5 s; after a failure 2, 4, 8… s, at most a minute. */
  var EVERY = 1500;
  var MAX_DELAY = 60000;
  var failures = 0;

  function hide(element, hidden) {
    if (element) element.classList.toggle("d-none", hidden);
  }

  function show(state) {
    if (!state.job) return false;
    area.classList.remove("d-none");
    var share = state.total ? (100 * state.done) / state.total : (state.status === "done" ? 100 : 0);
    bar.style.width = share.toFixed(1) + "%";
    meter.setAttribute("aria-valuenow", state.done);
    meter.setAttribute("aria-valuemax", state.total);
    var busy = state.status === "queued" || state.status === "running";
    bar.classList.toggle("progress-bar-striped", busy);
    bar.classList.toggle("progress-bar-animated", busy);
    if (start) start.disabled = busy;
    hide(cancel, !busy);
    message.textContent = state.message || "";
    message.classList.toggle("text-danger", state.status === "failed");
    hide(outdated, !state.outdated);
    if (state.download_url) {
      link.href = state.download_url;
      link.classList.remove("d-none");
    } else {
      link.classList.add("d-none");
    }
    if (previous) {
      var before = state.previous;
      hide(previous, !before);
      if (before) {
        previousLink.href = before.download_url;
        previousLink.textContent = (texts.getAttribute("data-previous") || "")
          .replace("%(when)s", before.made_at || "");
        hide(previousOutdated, !before.outdated);
      }
    }
    return busy;
  }

  function failed(status) {
    failures += 1;
    var delay = Math.min(MAX_DELAY, 1000 * Math.pow(2, failures));
    pollError.textContent = (texts.getAttribute("data-poll-error") || "")
      .replace("%(status)s", status).replace("%(seconds)s", String(Math.round(delay / 1000)));
    pollError.classList.remove("d-none");
    window.setTimeout(poll, delay);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json", "X-Requested-With": "fetch" },
                 credentials: "same-origin", cache: "no-store" })
      .then(function (reply) {
        if (!reply.ok) {
          failed("HTTP " + reply.status);
          return;
        }
        return reply.json().then(function (state) {
          failures = 0;
          pollError.classList.add("d-none");
          pollError.textContent = "";
          if (show(state)) window.setTimeout(poll, EVERY);
        }, function () { failed("JSON"); });
      }, function () { failed("—"); });
  }

  var current = box.getAttribute("data-state");
  if (current === "queued" || current === "running") poll();
})();
