// The new users' passwords as a CSV file (email,password), made in the browser from the
// table on the page: the server keeps no password in clear, so it cannot send them again.
// UTF-8 with a byte-order mark and CRLF, as Excel reads it (the app's other CSV files too).
(function () {
  "use strict";
  function cell(text) {
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest('[data-action="download-passwords"]');
    if (!button) return;
    var lines = ["email,password"];
    document.querySelectorAll("#passwords tbody tr").forEach(function (row) {
      var email = row.querySelector('[data-column="email"]').textContent.trim();
      var password = row.querySelector('[data-column="password"]').textContent.trim();
      lines.push(cell(email) + "," + cell(password));
    });
    var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = button.getAttribute("data-filename") || "passwords.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  });
})();
