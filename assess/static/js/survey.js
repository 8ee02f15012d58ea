/* survey.js — the answer page: autosave, live show_if, evidence drop zones.
 *
 * Progressive enhancement: without this script the page is a plain form that saves one
 * dimension at a time. With it, each change is saved at once (strictly one request after
 * another, each using the revision the previous reply gave), conditional questions appear
 * and disappear as answers change, and nothing typed is lost silently: values not yet
 * saved are kept in localStorage until the server has them.
 *
 * No external libraries. The condition evaluator is exported for tests (Node).
 */
(function (root) {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // show_if (questionnaire-format.md, "Conditions"); the tree comes from routes.condition_json

  function isNA(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value) && value.na === true;
  }

  /** Equality of an answer and a literal: yes/no only equals yes/no, text only text. */
  function same(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") {
      return typeof a === "boolean" && typeof b === "boolean" && a === b;
    }
    if ((typeof a === "string") !== (typeof b === "string")) return false;
    return a === b;
  }

  function ordered(op, a, b) {
    if (typeof a !== "number" || typeof b !== "number") return false;
    if (op === "<") return a < b;
    if (op === "<=") return a <= b;
    if (op === ">") return a > b;
    return a >= b;
  }

  /** Evaluate a condition; valueOf(code) is null for a hidden, unanswered or N/A question. */
  function evaluate(node, valueOf) {
    switch (node.op) {
      case "and":
        return node.args.every(function (n) { return evaluate(n, valueOf); });
      case "or":
        return node.args.some(function (n) { return evaluate(n, valueOf); });
      case "not":
        return !evaluate(node.arg, valueOf);
      default:
        break;
    }
    var value = valueOf(node.ref);
    if (value === null || value === undefined) return false;
    switch (node.op) {
      case "answered":
        return true;
      case "contains":
        return Array.isArray(value) && value.some(function (v) { return same(v, node.value); });
      case "in":
        return node.values.some(function (l) { return same(value, l); });
      case "==":
        return same(value, node.value);
      case "!=":
        return !same(value, node.value);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return ordered(node.op, value, node.value);
      default:
        return false;
    }
  }

  function answered(value) {
    if (value === null || value === undefined || isNA(value)) return false;
    if (Array.isArray(value) && value.length === 0) return false;
    if (typeof value === "string" && value.trim() === "") return false;
    return true;
  }

  /** Visibility of every question, in file order: conditions = [[code, tree|null], …]. */
  function visibility(conditions, answers) {
    var visible = {};
    function valueOf(code) {
      if (!visible[code]) return null;
      var value = answers[code];
      return answered(value) ? value : null;
    }
    conditions.forEach(function (pair) {
      visible[pair[0]] = pair[1] === null || evaluate(pair[1], valueOf);
    });
    return visible;
  }

  var api = { evaluate: evaluate, visibility: visibility, same: same, isNA: isNA };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
    return;
  }
  root.AssessSurvey = api;
  if (typeof document === "undefined") return;
  var dataElement = document.getElementById("survey-data");
  if (!dataElement) return;
  init(JSON.parse(dataElement.textContent));

  // ---------------------------------------------------------------------------------------
  // The page

  function init(data) {
    var msg = data.messages;
    var form = document.getElementById("answers-form");
    var cards = new Map();
    document.querySelectorAll(".question-card[data-code]").forEach(function (card) {
      cards.set(card.dataset.code, card);
    });
    var revision = data.revision;
    var confirmed = Object.assign({}, data.answers); // what the server has
    var pending = new Map(); // code → value, not sent yet (in order)
    var inflight = null; // {code, value} being sent
    var blocked = null; // null | "session" | "offline" | "closed"
    var conflicts = new Map(); // code → the user's value refused as stale
    var timers = new Map();
    var storeKey = "assess-unsaved:" + data.round + ":" + data.agency;
    var savedAll = false;

    // -- small helpers ------------------------------------------------------------------

    function norm(value) {
      return value === undefined ? null : value;
    }
    function equal(a, b) {
      return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
    }
    function byId(id) {
      return document.getElementById(id);
    }
    function token() {
      var meta = document.querySelector('meta[name="csrf-token"]');
      return meta ? meta.getAttribute("content") : "";
    }
    function setToken(value) {
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (meta) meta.setAttribute("content", value);
      document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
        input.value = value;
      });
    }
    function headers(extra) {
      return Object.assign(
        { "X-CSRFToken": token(), "X-Requested-With": "fetch", Accept: "application/json" },
        extra || {}
      );
    }
    /** The page's language goes with every request, so replies speak it too. */
    function withLang(url) {
      var lang = document.documentElement.lang;
      if (!lang) return url;
      return url + (url.indexOf("?") === -1 ? "?" : "&") + "lang=" + encodeURIComponent(lang);
    }
    function show(id, visible) {
      var element = byId(id);
      if (element) element.hidden = !visible;
    }
    function questionText(code) {
      return data.questions[code] ? data.questions[code].t : code;
    }

    // -- localStorage: values typed but not yet confirmed by the server -----------------

    function loadStore() {
      try {
        var parsed = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
        return parsed && typeof parsed === "object" ? parsed : {};
      } catch (err) {
        return {};
      }
    }
    function writeStore(store) {
      try {
        if (Object.keys(store).length) window.localStorage.setItem(storeKey, JSON.stringify(store));
        else window.localStorage.removeItem(storeKey);
      } catch (err) {
        /* private mode or full: the banners still tell the user */
      }
    }
    function keep(code, value) {
      var store = loadStore();
      store[code] = { v: norm(value), at: Date.now() };
      writeStore(store);
    }
    function forget(code, value) {
      var store = loadStore();
      if (Object.prototype.hasOwnProperty.call(store, code) &&
          (arguments.length < 2 || equal(store[code].v, value))) {
        delete store[code];
        writeStore(store);
      }
    }

    // -- reading and writing a question's inputs ------------------------------------------

    function readValue(card) {
      var type = card.dataset.type;
      if (type === "level" || type === "choice" || type === "yesno") {
        var checked = card.querySelector('input[type="radio"]:checked');
        return checked ? JSON.parse(checked.dataset.json) : null;
      }
      if (type === "multi") {
        var values = Array.prototype.map.call(
          card.querySelectorAll('input[type="checkbox"][data-json]:checked'),
          function (input) { return JSON.parse(input.dataset.json); }
        );
        if (values.some(isNA)) return { na: true };
        return values.length ? values : null;
      }
      var na = card.querySelector("input[data-na]");
      if (na && na.checked) return { na: true };
      var input = card.querySelector("input[data-number], textarea");
      if (type === "number") {
        // Thai digits (๐–๙), as a Thai keyboard types them, are read as 0–9; characters a
        // copy brings along unseen (zero-width, soft hyphen) are dropped, no-break spaces are
        // spaces. As the server reads it (answers.typed_number).
        var raw = input.value
          .replace(/[\u00AD\u200B-\u200D\u2060\uFEFF]/g, "")
          .replace(/[\u00A0\u202F]/g, " ")
          .trim()
          .replace(/[\u0E50-\u0E59]/g, function (digit) {
            return String(digit.charCodeAt(0) - 0x0E50);
          });
        if (raw === "") return null;
        // Thousands may be grouped by commas or spaces (1,250.5); a comma anywhere else is
        // not a decimal point (1,5 is refused, never read as 15). As the server reads it.
        if (/^[-+]?\d{1,3}([,\s]\d{3})+(\.\d*)?$/.test(raw)) raw = raw.replace(/[,\s]/g, "");
        if (!/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(raw)) {
          throw new Error(raw.indexOf(",") >= 0 ? msg.decimal_comma : msg.number);
        }
        // Past 15 digits a JavaScript number is no longer the one typed (it would save
        // 19.99999999999999999 as 20): refused here, as the server refuses it.
        if (digits(raw) > data.max_digits) throw new Error(msg.digits);
        return Number(raw);
      }
      return input.value.trim() === "" ? null : input.value;
    }

    // The most digits of a plain decimal's value: significant, whole or decimal places.
    function digits(raw) {
      var parts = /^[-+]?(\d*)(?:\.(\d*))?$/.exec(raw);
      var whole = parts[1].replace(/^0+/, "");
      var places = (parts[2] || "").replace(/0+$/, "");
      var significant = (whole + places).replace(/^0+/, "");
      return Math.max(significant.length, whole.length, places.length);
    }

    function writeValue(card, value) {
      value = norm(value);
      card.querySelectorAll("input[data-json]").forEach(function (input) {
        var own = JSON.parse(input.dataset.json);
        var on;
        if (value === null) on = false;
        else if (isNA(own)) on = isNA(value);
        else if (Array.isArray(value)) on = value.some(function (v) { return same(v, own); });
        else on = same(value, own);
        input.checked = on;
      });
      var input = card.querySelector("input[data-number], textarea");
      if (input) {
        var na = card.querySelector("input[data-na]");
        if (na) na.checked = isNA(value);
        input.disabled = isNA(value);
        input.value = value === null || isNA(value) ? "" : String(value);
      }
      syncClear(card);
    }

    /** The "Clear answer" button shows while the question's inputs hold an answer. */
    function syncClear(card) {
      var button = card.querySelector('button[data-action="clear"]');
      if (!button) return;
      var has;
      try {
        has = readValue(card) !== null;
      } catch (err) {
        has = true; // something typed, even if not a number yet
      }
      if (!has && document.activeElement === button) {
        // The button disappears: keep the keyboard focus in the question.
        var first = card.querySelector(".answer input:not([disabled]), .answer textarea:not([disabled])");
        if (first) first.focus();
      }
      button.hidden = !has;
    }

    function labelOf(card, input) {
      var label = card.querySelector('label[for="' + input.id + '"]');
      if (!label) return "";
      var strong = label.querySelector(".fw-semibold");
      return (strong ? strong.textContent : label.firstChild.textContent).trim();
    }

    function describe(code, value) {
      value = norm(value);
      if (value === null) return msg.empty;
      if (isNA(value)) return msg.na;
      var card = cards.get(code);
      var list = Array.isArray(value) ? value : [value];
      if (card && card.querySelector("input[data-json]")) {
        var inputs = Array.prototype.slice.call(card.querySelectorAll("input[data-json]"));
        return list.map(function (v) {
          var found = inputs.find(function (i) { return same(JSON.parse(i.dataset.json), v); });
          return found ? labelOf(card, found) : String(v);
        }).join(", ");
      }
      return list.map(String).join(", ");
    }

    // -- per-question feedback ---------------------------------------------------------------

    function setState(code, kind, text, withRetry) {
      var card = cards.get(code);
      if (!card) return;
      var element = card.querySelector('[data-role="state"]');
      element.className = "save-state mt-1" + (kind ? " " + kind : "");
      element.textContent = text || "";
      delete element.dataset.refused;
      if (withRetry) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-link btn-sm p-0 ms-2 align-baseline";
        button.textContent = msg.retry;
        button.addEventListener("click", retryAll);
        element.appendChild(button);
      }
    }

    /** A question's error, shown under it and tied to what holds the answer (the typed
     *  control, or else the group of options): aria-invalid, and the error's id added to its
     *  aria-describedby beside the ids already there (the hint). Both go when it is fixed. */
    function setError(code, text) {
      var card = cards.get(code);
      if (!card) return;
      var element = card.querySelector('[data-role="error"]');
      element.textContent = text || "";
      var input = card.querySelector("input[data-number], textarea");
      if (input) input.classList.toggle("is-invalid", Boolean(text));
      var target = input || card.querySelector("fieldset.answer");
      if (target && element.id) tieError(target, element.id, Boolean(text));
      // The refusal the live state announced no longer stands either.
      var state = card.querySelector('[data-role="state"]');
      if (!text && state.dataset.refused) setState(code, "", "");
    }

    function tieError(target, id, invalid) {
      var ids = (target.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (one) {
        return one && one !== id;
      });
      if (invalid) ids.push(id);
      if (ids.length) target.setAttribute("aria-describedby", ids.join(" "));
      else target.removeAttribute("aria-describedby");
      if (invalid) target.setAttribute("aria-invalid", "true");
      else target.removeAttribute("aria-invalid");
    }

    /** A value refused (here or by the server): the error under the question, and in its
     *  live state which question and why, not only "Not saved", for a screen reader to say.
     *  The words come from the page (the form's data-msg-invalid: {code} and {message}). */
    function refuse(code, text) {
      var card = cards.get(code);
      if (!card) return;
      setError(code, text);
      var words = form && form.dataset.msgInvalid;
      var said = !text ? msg.not_saved
        : words ? words.replace("{code}", code).replace("{message}", function () { return text; })
          : msg.not_saved + ": " + code + ": " + text;
      setState(code, "error", said);
      card.querySelector('[data-role="state"]').dataset.refused = "1";
    }

    // -- visibility, completeness, missing, preview ----------------------------------------

    function effective() {
      var answers = Object.assign({}, confirmed);
      if (inflight) answers[inflight.code] = inflight.value;
      pending.forEach(function (value, code) { answers[code] = value; });
      return answers;
    }

    function applyVisible(visible) {
      cards.forEach(function (card, code) {
        if (Object.prototype.hasOwnProperty.call(visible, code)) card.hidden = !visible[code];
      });
    }

    function updateVisibility() {
      applyVisible(visibility(data.conditions, effective()));
    }

    // The same markup as the level_badge macro: the code is shown, its name is read.
    function levelBadge(item) {
      var has = item && item.level;
      var badge = document.createElement("span");
      badge.className = "level-badge" + (has ? " level-" + item.index : "");
      badge.title = has ? item.name : msg.no_level;
      var shown = document.createElement("span");
      shown.setAttribute("aria-hidden", "true");
      shown.textContent = has ? item.level : "–";
      var read = document.createElement("span");
      read.className = "visually-hidden";
      read.textContent = has
        ? msg.level.replace("{code}", item.level).replace("{name}", item.name || "")
        : msg.no_level;
      badge.append(shown, read);
      return badge;
    }

    function missingItem(code, evidence) {
      var item = document.createElement("li");
      if (evidence) {
        var badge = document.createElement("span");
        badge.className = "badge text-bg-warning me-1";
        badge.textContent = msg.evidence;
        item.appendChild(badge);
      }
      var link = document.createElement("a");
      link.href = data.questions[code] ? data.questions[code].href : "#q-" + code;
      link.textContent = questionText(code);
      item.appendChild(link);
      var dim = data.questions[code] && data.dims[data.questions[code].d];
      if (dim) {
        var where = document.createElement("span");
        where.className = "text-muted";
        where.textContent = " · " + dim;
        item.appendChild(where);
      }
      return item;
    }

    function applyState(reply, adoptRevision) {
      if (adoptRevision !== false && typeof reply.revision === "number") {
        revision = reply.revision;
        var field = form && form.querySelector('input[name="revision"]');
        if (field) field.value = String(revision);
      }
      var box = byId("completeness");
      if (box && typeof reply.completeness === "number") {
        var pct = reply.completeness;
        var bar = box.querySelector(".progress-bar");
        if (bar) {
          bar.style.width = pct + "%";
          bar.classList.toggle("bg-success", pct >= 100);
        }
        var meter = box.querySelector('[role="progressbar"]');
        if (meter) meter.setAttribute("aria-valuenow", String(pct));
        var label = box.querySelector(".score");
        if (label) label.textContent = pct.toFixed(1) + "%";
      }
      Object.keys(reply.dimensions || {}).forEach(function (code) {
        var ring = document.querySelector('[data-ring="' + code + '"]');
        if (!ring) return;
        var value = reply.dimensions[code];
        ring.style.setProperty("--p", String(value));
        ring.setAttribute("data-label", Math.round(value) + "%");
      });
      var list = document.querySelector('[data-role="missing-list"]');
      if (list && reply.missing) {
        var items = reply.missing.map(function (c) { return missingItem(c, false); })
          .concat((reply.missing_evidence || []).map(function (c) { return missingItem(c, true); }));
        if (!items.length) {
          var done = document.createElement("li");
          done.className = "text-success list-unstyled";
          done.textContent = msg.nothing_missing;
          items.push(done);
        }
        list.replaceChildren.apply(list, items);
        var count = document.querySelector('[data-role="missing-count"]');
        if (count) count.textContent = String(reply.missing.length + (reply.missing_evidence || []).length);
      }
      if (reply.visible) {
        if (!pending.size && !inflight) applyVisible(reply.visible);
        else updateVisibility();
      }
      var badge = document.querySelector("#response-status .status-badge");
      if (badge && reply.status && data.statuses[reply.status]) {
        badge.className = "badge status-badge status-" + reply.status;
        badge.textContent = data.statuses[reply.status];
      }
      if (reply.preview) {
        var preview = reply.preview;
        var targets = Object.assign({ overall: preview.overall }, preview.dimensions);
        Object.keys(targets).forEach(function (code) {
          var score = document.querySelector('[data-preview-score="' + code + '"]');
          if (score) score.textContent = targets[code].score;
          var level = document.querySelector('[data-preview-level="' + code + '"]');
          if (level) level.replaceChildren(levelBadge(targets[code]));
          var name = document.querySelector('[data-preview-name="' + code + '"]');
          if (name) name.textContent = targets[code].name || "";
        });
      }
    }

    // -- the save queue ---------------------------------------------------------------------

    function intended(code) {
      if (pending.has(code)) return pending.get(code);
      if (inflight && inflight.code === code) return inflight.value;
      return norm(confirmed[code]);
    }

    function edited(card) {
      var code = card.dataset.code;
      clearTimeout(timers.get(code));
      timers.delete(code);
      var value;
      try {
        value = readValue(card);
      } catch (err) {
        refuse(code, err.message);
        return;
      }
      setError(code, "");
      if (equal(value, intended(code))) {
        if (!pending.has(code) && !(inflight && inflight.code === code)) forget(code);
        updateVisibility();
        return;
      }
      enqueue(code, value);
    }

    function enqueue(code, value) {
      pending.set(code, value);
      keep(code, value);
      savedAll = false;
      if (blocked) {
        stateForBlocked(code);
      } else {
        setState(code, "", msg.saving);
      }
      updateVisibility();
      pump();
    }

    function requeue(sent) {
      if (pending.has(sent.code)) return; // a newer value waits already
      var again = new Map([[sent.code, sent.value]]);
      pending.forEach(function (value, code) { again.set(code, value); });
      pending = again;
    }

    function summary(text) {
      var element = byId("save-summary");
      if (element) element.textContent = text || "";
    }

    function pump() {
      if (inflight || blocked) return;
      if (!pending.size) {
        if (savedAll) summary(msg.all_saved);
        return;
      }
      var first = pending.entries().next().value;
      pending.delete(first[0]);
      inflight = { code: first[0], value: first[1] };
      var body = { revision: revision, answers: {} };
      body.answers[inflight.code] = inflight.value;
      fetch(withLang(data.urls.save), {
        method: "POST",
        credentials: "same-origin",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
      })
        .then(function (res) {
          return res.json().then(
            function (reply) { return { status: res.status, reply: reply }; },
            function () { return { status: res.status, reply: null }; }
          );
        }, function () { return { status: 0, reply: null }; })
        .then(function (result) {
          var sent = inflight;
          inflight = null;
          handle(sent, result.status, result.reply);
          pump();
        });
    }

    function handle(sent, status, reply) {
      if (status === 200 && reply) {
        if (sent.value === null) delete confirmed[sent.code];
        else confirmed[sent.code] = sent.value;
        if (!pending.has(sent.code)) {
          forget(sent.code, sent.value);
          setState(sent.code, "saved", msg.saved.replace("{time}", reply.saved_at));
        }
        applyState(reply);
        return;
      }
      if (status === 409 && reply && reply.error === "stale") {
        stale(sent, reply);
        return;
      }
      if (status === 422 && reply) {
        // Refused, and still the person's: it stays in the browser's store, so a reload or
        // another visit offers it back (with the reason again) instead of losing it.
        refuse(sent.code, (reply.details && reply.details[sent.code]) || reply.message);
        updateVisibility();
        return;
      }
      requeue(sent);
      if (status === 401 || (status === 400 && reply && reply.error === "csrf")) {
        block("session");
      } else if (status === 409 && reply && reply.error === "closed") {
        block("closed", reply.message);
      } else {
        block("offline");
      }
    }

    function stateForBlocked(code) {
      if (blocked === "session") setState(code, "error", msg.session, false);
      else if (blocked === "closed") setState(code, "error", msg.closed, false);
      else setState(code, "error", msg.offline, true);
    }

    function block(kind, message) {
      blocked = kind;
      show("session-banner", kind === "session");
      show("offline-banner", kind === "offline");
      if (kind === "closed") {
        var banner = byId("closed-banner");
        banner.querySelector('[data-role="message"]').textContent = message || msg.closed;
        banner.hidden = false;
        var fieldset = form && form.querySelector("fieldset");
        if (fieldset) fieldset.disabled = true;
      }
      pending.forEach(function (value, code) { stateForBlocked(code); });
    }

    function retryAll() {
      if (blocked === "closed") return;
      var start = function () {
        blocked = null;
        show("session-banner", false);
        show("offline-banner", false);
        pending.forEach(function (value, code) { setState(code, "", msg.saving); });
        pump();
      };
      if (blocked !== "session") {
        start();
        return;
      }
      fetch(data.urls.csrf, { credentials: "same-origin", headers: headers() })
        .then(function (res) { return res.json(); })
        .then(function (reply) {
          if (reply && reply.csrf_token) setToken(reply.csrf_token);
          start();
        }, function () { block("offline"); });
    }

    // The response changed since this page last saved (another tab, a colleague): the
    // revision is the whole response's. Only a question whose saved value changed since this
    // page knew it, to something else than the person's, is a conflict for them to settle;
    // their other values are sent again on the new revision (two people answering different
    // questions do not get in each other's way).
    function stale(sent, reply) {
      var mine = new Map([[sent.code, sent.value]]);
      pending.forEach(function (value, code) { mine.set(code, value); });
      pending.clear();
      var known = confirmed;
      confirmed = Object.assign({}, reply.answers || {});
      var resend = new Map();
      mine.forEach(function (value, code) {
        if (equal(value, confirmed[code])) {
          forget(code);
          setState(code, "", "");
        } else if (equal(known[code], confirmed[code])) {
          resend.set(code, value);
        } else {
          conflicts.set(code, value);
        }
      });
      // Describe the user's values before the inputs show the server's.
      var lines = [];
      conflicts.forEach(function (value, code) {
        lines.push([code, describe(code, value)]);
      });
      var changedHere = false;
      cards.forEach(function (card, code) {
        if (resend.has(code)) return; // what the person typed stays, to be sent again
        if (!equal(known[code], confirmed[code])) changedHere = true;
        writeValue(card, confirmed[code]);
        setError(code, "");
      });
      conflicts.forEach(function (value, code) { setState(code, "error", msg.conflict); });
      var list = document.querySelector('[data-role="conflict-list"]');
      if (list) {
        list.replaceChildren.apply(list, lines.map(function (line) {
          var item = document.createElement("li");
          var strong = document.createElement("strong");
          strong.textContent = questionText(line[0]) + ": ";
          item.appendChild(strong);
          item.appendChild(document.createTextNode(line[1]));
          return item;
        }));
      }
      var wrap = document.querySelector('[data-role="conflict-wrap"]');
      if (wrap) wrap.hidden = conflicts.size === 0;
      // Told when a value on this page changed under the person, not for other pages' answers.
      if (conflicts.size || changedHere) show("conflict-banner", true);
      applyState(reply); // the new revision, which the values sent again use
      resend.forEach(function (value, code) { enqueue(code, value); });
      updateVisibility();
    }

    function resolve(useMine) {
      var chosen = conflicts;
      conflicts = new Map();
      show("conflict-banner", false);
      chosen.forEach(function (value, code) {
        if (useMine) {
          var card = cards.get(code);
          if (card) writeValue(card, value);
          enqueue(code, value);
        } else {
          forget(code);
          setState(code, "", "");
        }
      });
      updateVisibility();
    }

    // -- evidence -----------------------------------------------------------------------------

    function evidenceNote(card, text, isError) {
      var element = card.querySelector('[data-role="evidence-error"]');
      if (!element) return;
      element.className = "small " + (isError ? "text-danger" : "text-muted");
      element.textContent = text || "";
    }

    function sendEvidence(card, url, body) {
      return fetch(withLang(url), { method: "POST", credentials: "same-origin", headers: headers(), body: body })
        .then(function (res) {
          return res.json().then(
            function (reply) { return { status: res.status, reply: reply }; },
            function () { return { status: res.status, reply: null }; }
          );
        }, function () { return { status: 0, reply: null }; })
        .then(function (result) {
          var reply = result.reply;
          if (result.status === 200 && reply) {
            card.querySelector('[data-role="evidence-list"]').innerHTML = reply.html;
            applyState(reply, false);
            evidenceNote(card, "");
            return true;
          }
          if (result.status === 401 || (result.status === 400 && reply && reply.error === "csrf")) {
            block("session");
          }
          var why = result.status === 0 ? msg.offline : (reply && (reply.message || reply.error)) || "";
          evidenceNote(card, msg.upload_failed + " " + why, true);
          return false;
        });
    }

    function uploadFiles(card, files) {
      var code = card.dataset.code;
      var chain = Promise.resolve();
      Array.prototype.forEach.call(files, function (file) {
        chain = chain.then(function () {
          if (data.max_bytes && file.size > data.max_bytes) {
            evidenceNote(card, msg.upload_failed + " " + msg.too_large.replace("{name}", file.name), true);
            return false;
          }
          evidenceNote(card, msg.uploading.replace("{name}", file.name));
          var body = new FormData();
          body.append("code", code);
          body.append("file", file, file.name);
          return sendEvidence(card, data.urls.evidence, body);
        });
      });
      return chain;
    }

    function attach(card) {
      var file = card.querySelector('input[type="file"]');
      var url = card.querySelector('input[type="url"]');
      var chain = Promise.resolve();
      if (file && file.files.length) {
        var chosen = Array.prototype.slice.call(file.files);
        file.value = "";
        chain = uploadFiles(card, chosen);
      }
      if (url && url.value.trim()) {
        chain = chain.then(function () {
          var body = new FormData();
          body.append("code", card.dataset.code);
          body.append("url", url.value.trim());
          return sendEvidence(card, data.urls.evidence, body).then(function (ok) {
            if (ok) url.value = "";
          });
        });
      }
      return chain;
    }

    // -- wiring ---------------------------------------------------------------------------------

    var restoreBanner = byId("restore-banner");
    function offerRestore() {
      var store = loadStore();
      var left = [];
      Object.keys(store).forEach(function (code) {
        if (!data.questions[code] || equal(store[code].v, confirmed[code])) forget(code);
        else left.push([code, store[code].v]);
      });
      if (!left.length || !restoreBanner) return;
      var list = restoreBanner.querySelector('[data-role="restore-list"]');
      list.replaceChildren.apply(list, left.map(function (pair) {
        var item = document.createElement("li");
        var strong = document.createElement("strong");
        strong.textContent = questionText(pair[0]) + ": ";
        item.appendChild(strong);
        item.appendChild(document.createTextNode(describe(pair[0], pair[1])));
        return item;
      }));
      var restore = restoreBanner.querySelector('[data-action="restore"]');
      if (!data.editable && restore) restore.hidden = true;
      restoreBanner.hidden = false;
      if (restore) restore.addEventListener("click", function () {
        restoreBanner.hidden = true;
        left.forEach(function (pair) {
          var card = cards.get(pair[0]);
          if (card) writeValue(card, pair[1]);
          enqueue(pair[0], pair[1]);
        });
      });
      restoreBanner.querySelector('[data-action="discard"]').addEventListener("click", function () {
        restoreBanner.hidden = true;
        left.forEach(function (pair) { forget(pair[0]); });
      });
    }

    offerRestore();
    if (!data.editable || !form) return;

    var note = byId("autosave-note");
    if (note) note.hidden = false;

    function exclusive(card, box) {
      if (!box.checked) return;
      var boxes = card.querySelectorAll('input[type="checkbox"][data-json]');
      var only = box.hasAttribute("data-exclusive");
      boxes.forEach(function (other) {
        if (other !== box && (only || other.hasAttribute("data-exclusive"))) other.checked = false;
      });
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      var card = target.closest(".question-card");
      if (!card) return;
      if (target.type === "file") {
        var files = Array.prototype.slice.call(target.files);
        target.value = "";
        uploadFiles(card, files);
        return;
      }
      if (target.type === "url") return;
      if (target.matches('input[type="checkbox"][data-json]')) exclusive(card, target);
      if (target.matches("input[data-na]")) {
        var input = card.querySelector("input[data-number], textarea");
        if (input) input.disabled = target.checked;
      }
      syncClear(card);
      edited(card);
    });

    form.addEventListener("input", function (event) {
      var target = event.target;
      if (!target.matches("input[data-number], textarea")) return;
      var card = target.closest(".question-card");
      var code = card.dataset.code;
      syncClear(card);
      try {
        keep(code, readValue(card));
      } catch (err) {
        /* not a number yet: saved (or refused) once typing stops */
      }
      clearTimeout(timers.get(code));
      timers.set(code, setTimeout(function () { edited(card); }, 1200));
    });

    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || target.tagName !== "INPUT") return;
      if (target.type === "radio" || target.type === "checkbox") return;
      event.preventDefault(); // never let Enter "click" the first button of the form
      var card = target.closest(".question-card");
      if (!card) return;
      if (target.type === "url") attach(card);
      else edited(card);
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (!button || !form.contains(button)) return;
      var card = button.closest(".question-card");
      if (button.dataset.action === "attach") {
        event.preventDefault();
        attach(card);
      } else if (button.dataset.action === "clear") {
        // Through the save queue like any change: null clears the answer.
        event.preventDefault();
        writeValue(card, null);
        edited(card);
      } else if (button.dataset.action === "remove") {
        event.preventDefault();
        if (window.confirm(msg.remove_confirm)) sendEvidence(card, button.dataset.url, new FormData());
      }
    });

    form.addEventListener("submit", function (event) {
      // With the script every answer goes through the save queue.
      event.preventDefault();
      savedAll = true;
      summary("");
      cards.forEach(function (card) { edited(card); });
      if (blocked) retryAll();
      else pump();
    });

    // The whole evidence block takes drops, even while its drop zone is folded away.
    document.querySelectorAll(".evidence[data-evidence]").forEach(function (block) {
      var zone = block.querySelector(".dropzone");
      if (!zone) return;
      var fold = block.querySelector("details");
      block.addEventListener("dragover", function (event) {
        event.preventDefault();
        if (fold) fold.open = true;
        zone.classList.add("dragover");
      });
      block.addEventListener("dragleave", function (event) {
        if (!block.contains(event.relatedTarget)) zone.classList.remove("dragover");
      });
      block.addEventListener("drop", function (event) {
        event.preventDefault();
        zone.classList.remove("dragover");
        var files = event.dataTransfer && event.dataTransfer.files;
        if (files && files.length) uploadFiles(block.closest(".question-card"), files);
      });
    });
    // A file dropped beside a drop zone must not replace the page.
    ["dragover", "drop"].forEach(function (type) {
      window.addEventListener(type, function (event) {
        if (!(event.target.closest && event.target.closest(".evidence"))) event.preventDefault();
      });
    });

    document.querySelectorAll('[data-action="retry"]').forEach(function (button) {
      button.addEventListener("click", retryAll);
    });
    var useMine = document.querySelector('[data-action="use-mine"]');
    if (useMine) useMine.addEventListener("click", function () { resolve(true); });
    var keepCurrent = document.querySelector('[data-action="keep-current"]');
    if (keepCurrent) keepCurrent.addEventListener("click", function () { resolve(false); });

    function flushTimers() {
      timers.forEach(function (timer, code) {
        clearTimeout(timer);
        var card = cards.get(code);
        if (card) edited(card);
      });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") flushTimers();
    });
    window.addEventListener("online", function () {
      if (blocked === "offline") retryAll();
    });
    // Leaving with an answer not saved: one waiting or on its way, or one the page or the
    // server refused (still on screen, the stored one unchanged: it would be lost).
    function refusedShown() {
      return Boolean(document.querySelector('[data-role="state"][data-refused]'));
    }
    window.addEventListener("beforeunload", function (event) {
      flushTimers();
      if (pending.size || inflight || refusedShown()) {
        event.preventDefault();
        event.returnValue = msg.leave;
        return msg.leave;
      }
      return undefined;
    });
  }
})(typeof window !== "undefined" ? window : globalThis);
