// "Back" links: return to the previous page (keeping what was typed in its form) when there
// is one; otherwise the link's own address. A file, not an inline handler: the
// Content-Security-Policy allows scripts from this site only.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('[data-action="history-back"]');
  if (!link || window.history.length < 2) return;
  event.preventDefault();
  window.history.back();
});
