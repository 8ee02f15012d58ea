// The review page keeps the comments typed for the review decision (the general comment and
// each question's) while the reviewer does other things on the page: saving a verified value,
// or having it refused, loads the page again, and what was typed comes back from this tab's
// storage until the decision is sent. A file, not an inline script: the
// Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var store;
  try {
    store = window.sessionStorage;
  } catch (error) {
    return; // storage turned off: the page works as without this script
  }
  var key = "assess-review-draft:" + form.getAttribute("action");
  var fields = Array.prototype.slice.call(
    document.querySelectorAll('#review-form textarea, textarea[form="review-form"]')
  );
  var kept = {};
  try {
    kept = JSON.parse(store.getItem(key) || "{}") || {};
  } catch (error) {
    kept = {};
  }

  function keep() {
    var draft = {};
    fields.forEach(function (field) {
      if (field.value.trim()) draft[field.name] = field.value;
    });
    try {
      if (Object.keys(draft).length) store.setItem(key, JSON.stringify(draft));
      else store.removeItem(key);
    } catch (error) {
      // storage full or refused: nothing more to do
    }
  }

  fields.forEach(function (field) {
    // What the server shows (a decision refused, with what was typed) comes first.
    if (!field.value && typeof kept[field.name] === "string") {
      field.value = kept[field.name];
      var details = field.closest("details");
      if (details) details.open = true;
    }
    field.addEventListener("input", keep);
  });
  keep();
  form.addEventListener("submit", function () {
    store.removeItem(key);
  });
})();
