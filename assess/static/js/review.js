// ---------------------------------------------------------------------------------------------
// Drafts: what is typed in the review page's forms survives leaving the page.
//
// The review decision's comments (the general one and each question's), and each verified
// value form's value and reason, are kept in this tab's sessionStorage while they are typed,
// one item per field: "assess-draft:" + the path the form posts to + the field's name (with
// the question's code for a verified value form, whose fields share their names). The path the
// form posts to, not the page's own: after a refused submission the page is shown at that
// path, and it must find the same drafts. A file, not an inline script: the
// Content-Security-Policy allows scripts from this site only.
//
// A draft comes back when the page is loaded again and the field is empty (or still shows what
// the server showed when the typing began): saving a verified value loads the page again, and
// so does signing in again after the session ended (session.js).
//
// When is a draft finished with? Submitting a form marks its drafts as sent in this sign-in
// (window.AssessSession.started, the session's start time). On the next load:
// - sent in the same sign-in: the request reached the server with a live session (a session
//   that has ended never comes back), so this page is its outcome: saved (the field is empty
//   again) or refused (the server shows what was sent, kept again from there). The draft goes.
// - sent in an earlier sign-in: the request found the session ended and went to the sign-in
//   page; the draft comes back.
// A submission session.js stops (it knows the session has ended) is not marked at all.
(function () {
  "use strict";
  var store;
  try {
    store = window.sessionStorage;
  } catch (error) {
    return; // storage turned off: the page works as without this script
  }
  var fields = Array.prototype.slice.call(
    document.querySelectorAll(
      '#review-form textarea, textarea[form="review-form"], ' +
        'form.verify-form textarea, form.verify-form input[type="text"]'
    )
  ).filter(function (field) {
    return field.form && field.name;
  });

  function signIn() {
    return window.AssessSession ? window.AssessSession.started : null;
  }

  function keyOf(field) {
    var form = field.form;
    var code = form.querySelector('input[type="hidden"][name="code"]');
    // (getAttribute: form.action would be the decision form's buttons, named "action")
    var path = new URL(form.getAttribute("action") || "", window.location.href).pathname;
    return "assess-draft:" + path + "#" + (code ? code.value + "/" : "") + field.name;
  }

  function read(key) {
    try {
      var draft = JSON.parse(store.getItem(key) || "null");
      return draft && typeof draft.v === "string" ? draft : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, draft) {
    try {
      if (draft) store.setItem(key, JSON.stringify(draft));
      else store.removeItem(key);
    } catch (error) {
      // storage full or refused: nothing more to do
    }
  }

  // What the server shows in a field when nothing has been typed: a verified value form shows
  // the value saved; every other field is empty. A form refused with problems shows what was
  // sent, which counts as typed.
  function baseline(field) {
    var refused = field.form.querySelector('.text-danger, [aria-invalid="true"]');
    if (field.name !== "value" || refused) return "";
    return field.defaultValue;
  }

  function keep(field) {
    var typed = field.value;
    var was = baseline(field);
    write(keyOf(field), typed.trim() && typed !== was ? { v: typed, was: was, sent: null } : null);
  }

  // Drafts sent in this sign-in are done with, on whatever review page loads next (a decision
  // sent leaves a page without its form).
  Object.keys(store).forEach(function (key) {
    if (key.indexOf("assess-draft:") === 0) {
      var draft = read(key);
      if (!draft || (draft.sent && draft.sent === signIn())) write(key, null);
    }
  });
  if (!fields.length) return;

  fields.forEach(function (field) {
    var key = keyOf(field);
    var draft = read(key); // (one sent in this sign-in is gone already)
    if (draft && draft.v !== field.value && (field.value === "" || field.value === draft.was)) {
      field.value = draft.v;
      var details = field.closest("details");
      if (details) details.open = true;
    }
    keep(field);
    field.addEventListener("input", function () {
      keep(field);
    });
  });

  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return; // stopped (session.js: the session has ended)
    var started = signIn();
    fields.forEach(function (field) {
      if (field.form !== event.target) return;
      var key = keyOf(field);
      var draft = read(key);
      if (!draft) return;
      if (started) {
        draft.sent = started;
        write(key, draft);
      } else {
        write(key, null); // without session.js: forgotten when sent, as before
      }
    });
  });

  // Back to this page from the browser's cache: it was never replaced by the outcome of a
  // submission, so what it shows is still unsent.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) fields.forEach(keep);
  });
})();
// ------------------------------------------------------------------------- end of the drafts

// ---------------------------------------------------------------------------------------------
// A refused verified value: the focus goes to the field at fault.
//
// The refused form comes back at its question (it posts to the question's #q-CODE anchor), its
// field at fault marked aria-invalid and described by the error. The focus moves to that field,
// so that the keyboard and a screen reader start where the problem is, not at the top of the
// page. A group of checkboxes (a fieldset) gives the focus to its first box.
//
// Not at once: going to the #q-CODE anchor, the browser itself moves the focus (Chromium
// clears it, the question not being focusable) once the page is drawn with its stylesheets.
// The field takes it after the page has loaded and been drawn once more.
(function () {
  "use strict";
  var wrong = document.querySelector('form.verify-form [aria-invalid="true"]');
  if (!wrong) return;
  var field = wrong.tagName === "FIELDSET" ? wrong.querySelector("input") : wrong;
  if (!field) return;
  function focus() {
    window.requestAnimationFrame(function () {
      window.setTimeout(function () { field.focus(); }, 0);
    });
  }
  if (document.readyState === "complete") focus();
  else window.addEventListener("load", focus);
})();
// ------------------------------------------------------------ end of the refused value's focus
