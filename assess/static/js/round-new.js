// The new-round page: the warning that the chosen questionnaire's version names another
// fiscal year than the round's ("version 2569" for a round of 2570), kept in step with the
// two fields. The server writes it for the page as sent, and gives the versions' years and
// the message ("%(version)s", "%(year)s" to fill in) in #round-new-data.
(function () {
  "use strict";
  var data = document.getElementById("round-new-data");
  var warning = document.getElementById("version-year-warning");
  var questionnaire = document.getElementById("questionnaire");
  var fiscalYear = document.getElementById("fiscal_year");
  if (!data || !warning || !questionnaire || !fiscalYear) return;
  var page = JSON.parse(data.textContent);
  function update() {
    var id = questionnaire.value;
    var versionYear = page.years[id]; // none when the version names no year
    var year = parseInt(fiscalYear.value, 10);
    var differs = versionYear !== undefined && !isNaN(year) && versionYear !== year;
    warning.textContent = differs
      ? page.message.replace("%(version)s", page.versions[id]).replace("%(year)s", String(year))
      : "";
    warning.hidden = !differs;
  }
  questionnaire.addEventListener("change", update);
  fiscalYear.addEventListener("input", update);
  update();
})();
