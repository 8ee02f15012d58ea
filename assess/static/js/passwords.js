// The new users' passwords as a CSV file (email,password,name,role,agency,agency_name), made
// in the browser from the rows on the page: the server keeps no password in clear, so it
// cannot send them again. UTF-8 with a byte-order mark and CRLF, as Excel reads it (as the
// app's other CSV files). Until it is downloaded, leaving the page asks first.
(function () {
  "use strict";
  var COLUMNS = ["email", "password", "name", "role", "agency", "agency_name"];
  var button = document.querySelector('[data-action="download-passwords"]');
  if (!button) return;
  var downloaded = false;

  function cell(text) {
    text = String(text == null ? "" : text);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  button.addEventListener("click", function () {
    var lines = [COLUMNS.join(",")];
    document.querySelectorAll("#passwords tbody tr[data-csv]").forEach(function (row) {
      var record = JSON.parse(row.getAttribute("data-csv"));
      lines.push(COLUMNS.map(function (column) { return cell(record[column]); }).join(","));
    });
    var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = button.getAttribute("data-filename") || "passwords.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    downloaded = true;
  });

  window.addEventListener("beforeunload", function (event) {
    if (downloaded) return;
    event.preventDefault();
    event.returnValue = button.getAttribute("data-leave") || "";
  });
})();
