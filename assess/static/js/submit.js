/* submit.js — the submit page tells of answers this browser holds but the server does not.
 *
 * The answer page (survey.js) keeps each answer it could not save yet (offline, the session
 * ended, a tab closed meanwhile) in localStorage, under "assess-unsaved:<round>:<agency>", and
 * offers to restore them when it opens again. A submission takes only what the server holds,
 * so, when such answers wait, this page says which and sends the person to save them first.
 */
(function () {
  "use strict";
  var alert = document.getElementById("unsaved-here");
  if (!alert) return;
  var waiting = {};
  try {
    waiting = JSON.parse(window.localStorage.getItem(alert.dataset.key) || "{}") || {};
  } catch (error) {
    return; // storage turned off or unreadable: nothing is known
  }
  var codes = Object.keys(waiting).sort();
  if (!codes.length) return;
  alert.querySelector('[data-role="codes"]').textContent = codes.join(", ");
  alert.hidden = false;
})();
