/* session.js — the warning before a signed-in session ends (WCAG 2.2.1, Timing Adjustable).
 *
 * A session ends after SESSION_IDLE_MINUTES without a request, and at the latest a working day
 * after signing in (assess.auth.sessions). This script counts down from what the server says
 * is left: the page's #session-data (base.html), then the X-Session-Idle-Seconds header of
 * every reply to this page's own requests (autosave …) and the keep-alive's reply; other tabs
 * of this browser pass theirs on through localStorage. Deadlines are compared with the clock
 * at every tick, so a tab the browser slowed down or a computer that slept stays right.
 *
 * Shortly before the end a dialog asks: stay signed in (the keep-alive) or sign out. When the
 * time is up it says so and offers to sign in again, but it never leaves the page by itself:
 * what was typed stays on screen (and review.js keeps the review page's texts). While the
 * session is over, a form of the page is not sent (it would only reach the sign-in page):
 * the dialog shows again instead.
 *
 * Loaded on signed-in pages only, before the page's own scripts, whose fetches it watches.
 * window.AssessSession tells them which sign-in the page belongs to (review.js).
 */
(function () {
  "use strict";
  var dataElement = document.getElementById("session-data");
  if (!dataElement || typeof window.fetch !== "function") return;
  var data = JSON.parse(dataElement.textContent);
  var msg = data.messages;
  var SHARED_KEY = "assess-session-idle-deadline";
  var IDLE_HEADER = "X-Session-Idle-Seconds";

  // Deadlines in this browser's clock (ms since 1970). The idle one moves with activity; the
  // maximum age does not.
  var idleDeadline = Date.now() + data.idle_seconds * 1000;
  var maxDeadline = Date.now() + data.max_age_seconds * 1000;
  var warnMs = data.warn_seconds * 1000;
  // "running" (no dialog), "warning" (idle: can be extended), "limit" (the maximum age is
  // near: cannot be extended) or "ended".
  var state = "running";
  var limitDismissed = false; // the limit warning was closed: not shown again
  var announced = null; // the last time left announced to screen readers (60 or 30 s)
  var returnFocus = null;
  var dialog = null;
  var parts = {};

  window.AssessSession = { started: data.started };

  // -- the deadlines -----------------------------------------------------------------------

  // Other tabs hear of a new deadline through a storage event, which writing an item raises in
  // every other tab of this browser; removed at once, it leaves nothing behind in the storage
  // (where the answer page keeps its unsaved values).
  function share() {
    try {
      window.localStorage.setItem(SHARED_KEY, String(idleDeadline));
      window.localStorage.removeItem(SHARED_KEY);
    } catch (error) {
      // storage turned off: other tabs do not hear of this one
    }
  }

  /** The server's word: the session has ``seconds`` left before it ends for inactivity. */
  function idleLeft(seconds) {
    if (!isFinite(seconds)) return;
    idleDeadline = Date.now() + seconds * 1000;
    share();
    if (state === "ended" && seconds > 0) {
      // A reply from a live session (signed in again in another tab, and this page's
      // script sent its request again): the page works again.
      state = "running";
      if (dialog && dialog.open) dialog.close();
    }
    tick();
  }

  function tick() {
    if (state === "ended") return;
    var left = Math.min(idleDeadline, maxDeadline) - Date.now();
    if (left <= 0) {
      ended(true);
    } else if (left > warnMs) {
      if (state !== "running") {
        state = "running";
        if (dialog && dialog.open) dialog.close();
      }
    } else if (maxDeadline <= idleDeadline) {
      if (!limitDismissed) warn("limit", left);
    } else {
      warn("warning", left);
    }
  }

  // -- the dialog --------------------------------------------------------------------------

  function build() {
    if (dialog) return;
    dialog = document.createElement("dialog");
    dialog.className = "session-dialog";
    dialog.setAttribute("role", "alertdialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "session-dialog-title");
    dialog.setAttribute("aria-describedby", "session-dialog-text");
    // Structure only: every text goes in with textContent.
    dialog.innerHTML =
      '<h2 class="h5" id="session-dialog-title"></h2>' +
      '<p id="session-dialog-text" class="session-dialog-text"></p>' +
      '<div class="visually-hidden" aria-live="assertive" aria-atomic="true" ' +
      'data-role="live"></div>' +
      '<div class="session-dialog-actions">' +
      '<button type="button" class="btn btn-primary" data-action="stay"></button>' +
      '<a class="btn btn-primary" data-action="sign-in"></a>' +
      '<button type="button" class="btn btn-outline-secondary" data-action="close"></button>' +
      '<button type="button" class="btn btn-outline-secondary" data-action="sign-out"></button>' +
      "</div>";
    parts = {
      title: dialog.querySelector("h2"),
      text: dialog.querySelector("#session-dialog-text"),
      live: dialog.querySelector('[data-role="live"]'),
      stay: dialog.querySelector('[data-action="stay"]'),
      signIn: dialog.querySelector('[data-action="sign-in"]'),
      close: dialog.querySelector('[data-action="close"]'),
      signOut: dialog.querySelector('[data-action="sign-out"]'),
    };
    parts.stay.textContent = msg.stay;
    parts.signIn.textContent = msg.sign_in;
    parts.close.textContent = msg.close;
    parts.signOut.textContent = msg.sign_out;
    parts.stay.addEventListener("click", stay);
    parts.close.addEventListener("click", dismiss);
    parts.signOut.addEventListener("click", signOut);
    // Escape: stay signed in while that is possible, else close.
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      if (state === "warning") stay();
      else dismiss();
    });
    // Tab goes round the dialog's buttons (a modal dialog alone would let it out to the
    // browser's own controls).
    dialog.addEventListener("keydown", function (event) {
      if (event.key !== "Tab") return;
      var shown = Array.prototype.filter.call(
        dialog.querySelectorAll("button, a[href]"),
        function (element) {
          return !element.hidden;
        }
      );
      var first = shown[0];
      var last = shown[shown.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    dialog.addEventListener("close", function () {
      var target = returnFocus;
      returnFocus = null;
      if (target && target.isConnected && typeof target.focus === "function") target.focus();
    });
    document.body.appendChild(dialog);
  }

  function show(buttons) {
    build();
    ["stay", "signIn", "close", "signOut"].forEach(function (name) {
      parts[name].hidden = buttons.indexOf(name) < 0;
    });
    if (!dialog.open) {
      returnFocus = document.activeElement;
      dialog.showModal();
    }
    parts[buttons[0]].focus();
  }

  function clock(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  /** Open (or update) the warning: ``kind`` is "warning" or "limit", ``left`` in ms. */
  function warn(kind, left) {
    var seconds = Math.ceil(left / 1000);
    build();
    // The visible countdown changes every second; its element is the dialog's description,
    // not a live region, so screen readers are told only as the dialog opens (before it
    // opens, so that it is read then) and at one minute and at 30 seconds.
    parts.text.textContent = msg[kind === "warning" ? "idle" : "limit"].replace(
      "{time}",
      clock(left)
    );
    if (state !== kind) {
      state = kind;
      parts.title.textContent = msg.title;
      parts.live.textContent = "";
      announced = seconds <= 30 ? 30 : seconds <= 60 ? 60 : null;
      show(kind === "warning" ? ["stay", "signOut"] : ["close", "signOut"]);
    } else if (seconds <= 30 && announced !== 30) {
      announced = 30;
      parts.live.textContent = msg.half_minute;
    } else if (seconds <= 60 && announced === null) {
      announced = 60;
      parts.live.textContent = msg.one_minute;
    }
  }

  /**
   * The session is over. The dialog says so when ``say`` (the time is up, a form was about to
   * be sent) or when it is open anyway; a request of the page's own that found the session
   * over leaves the telling to that page's script (the answer page's banner and its "Retry
   * saving", which must stay within reach).
   */
  function ended(say) {
    var known = state === "ended";
    state = "ended";
    var open = dialog !== null && dialog.open;
    if (!say && !open) return;
    if (known && open) return;
    build();
    parts.title.textContent = msg.ended_title;
    parts.text.textContent = msg.ended;
    // The server names the page to come back to: this one, or, on a page shown in answer to
    // a form (whose address takes no GET), the page the form was sent from.
    var here = data.here === undefined ? location.pathname + location.search : data.here;
    parts.signIn.href = data.urls.login + (here ? "?next=" + encodeURIComponent(here) : "");
    show(["signIn", "close"]);
    // Newly opened, the dialog is announced with its title and text; one already open changed
    // under the reader, who is told (in two blocks: read as two sentences in either language).
    parts.live.textContent = "";
    if (open) {
      [msg.ended_title, msg.ended].forEach(function (text) {
        var line = document.createElement("div");
        line.textContent = text;
        parts.live.appendChild(line);
      });
    }
  }

  /** "Close": the limit warning (not shown again) or the ended dialog (the page stays). */
  function dismiss() {
    if (state === "limit") limitDismissed = true;
    dialog.close();
  }

  function headers() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return {
      "X-CSRFToken": meta ? meta.getAttribute("content") : "",
      "X-Requested-With": "fetch",
      Accept: "application/json",
    };
  }

  /**
   * The keep-alive: the session is marked seen now, and its reply moves the deadlines (watch
   * reads its header too). A 401, or a 400 (this page's token belongs to an earlier sign-in,
   * so its forms cannot be sent either: it must be loaded again), is the end.
   */
  function keepAlive() {
    return window
      .fetch(data.urls.keep_alive, {
        method: "POST",
        credentials: "same-origin",
        headers: headers(),
      })
      .then(function (res) {
        if (res.ok) {
          return res.json().then(function (reply) {
            maxDeadline = Date.now() + reply.max_age_seconds * 1000;
            idleLeft(reply.idle_seconds);
          });
        }
        if (res.status === 401 || res.status === 400) ended(true);
        return null;
      })
      .catch(function () {
        // offline: nothing is known; the dialog stays and the person may try again
      });
  }

  /** "Stay signed in" (and Escape while it is offered). */
  function stay() {
    parts.stay.disabled = true;
    keepAlive().then(function () {
      parts.stay.disabled = false;
    });
  }

  /** "Sign out": the navigation bar's sign-out form, as if its button were pressed. */
  function signOut() {
    var form = document.querySelector('form[action="' + data.urls.logout + '"]');
    if (form) form.submit();
  }

  // -- watching the page's requests and the other tabs -----------------------------------

  function watch(res) {
    var url;
    try {
      url = new URL(res.url, location.href);
    } catch (error) {
      return;
    }
    if (url.origin !== location.origin) return;
    if (res.status === 401) {
      ended(false); // a request of this page found the session over
      return;
    }
    var left = res.headers.get(IDLE_HEADER);
    if (left !== null && left !== "") idleLeft(Number(left));
  }

  // Wrapped once, so that every fetch of the page (survey.js's autosave …) counts as activity.
  if (!window.fetch.assessWatched) {
    var original = window.fetch;
    var watched = function () {
      var reply = original.apply(window, arguments);
      reply.then(watch, function () {});
      return reply;
    };
    watched.assessWatched = true;
    window.fetch = watched;
  }

  // Another tab's request moved the deadline (a storage event reaches the other tabs only).
  window.addEventListener("storage", function (event) {
    if (event.key !== SHARED_KEY || !event.newValue || state === "ended") return;
    var other = Number(event.newValue);
    if (other > idleDeadline) {
      idleDeadline = other;
      tick();
    }
  });

  // Back from the browser's cache, where no timer ran: as the page loaded afresh would, ask
  // the server (the person is here again, and the session may have ended meanwhile).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) keepAlive();
  });

  // A form sent while the session is over would only reach the sign-in page and lose what
  // was typed: the dialog shows again instead. (The navigation bar's forms, outside <main>,
  // work without a session: the language, signing out.)
  document.addEventListener(
    "submit",
    function (event) {
      if (state !== "ended") return;
      var form = event.target;
      if (!form.closest("main") || (form.getAttribute("method") || "").toLowerCase() !== "post") {
        return;
      }
      event.preventDefault();
      ended(true);
    },
    true
  );

  share();
  tick();
  window.setInterval(tick, 1000);
})();
