// The scorecard form, enhanced: evidence characters counted as you type, the draft saved
// as you write, and the language warnings of each save shown under their field. Without
// this file the form still works: "Save draft" and "Submit scorecard" post it.
(function () {
  "use strict";
  var form = document.querySelector("form.scorecard-form");
  if (!form) return;
  var minimum = parseInt(form.dataset.minEvidence, 10) || 0;
  var status = form.querySelector(".autosave-status");
  var saveUrl = form.dataset.autosave;
  var timer = null;
  var saving = false;
  var again = false;

  function count(textarea) {
    var counter = document.getElementById(textarea.dataset.counter);
    if (!counter) return;
    var length = textarea.value.trim().length;
    counter.textContent = length + " characters; a score needs at least " + minimum + ".";
    counter.classList.toggle("short", length < minimum);
  }

  function fieldId(warningField) {
    if (warningField === "summary") return "summary";
    var match = /^ratings\[(\d+)\]/.exec(warningField);
    if (!match) return null;
    var competency = form.querySelector('[name="ratings-' + match[1] + '-competency"]');
    return competency ? "evidence-" + competency.value : null;
  }

  function showWarnings(warnings) {
    var lists = form.querySelectorAll("[data-warnings-for]");
    var byTarget = {};
    lists.forEach(function (list) { byTarget[list.dataset.warningsFor] = []; });
    warnings.forEach(function (w) {
      var id = fieldId(w.field);
      if (id && byTarget[id]) byTarget[id].push(w);
    });
    lists.forEach(function (list) {
      var target = document.getElementById(list.dataset.warningsFor);
      var text = target ? target.value : "";
      list.replaceChildren();
      byTarget[list.dataset.warningsFor].forEach(function (w) {
        var p = document.createElement("p");
        p.className = "warning";
        var label = document.createElement("strong");
        label.textContent = "Wording:";
        var mark = document.createElement("mark");
        mark.textContent = text.slice(w.start, w.end) || w.phrase;
        p.append(label, " “…" + text.slice(Math.max(0, w.start - 40), w.start), mark,
          text.slice(w.end, w.end + 40) + "…” — " + w.suggestion);
        list.append(p);
      });
    });
  }

  function save() {
    if (!saveUrl) return;
    if (saving) { again = true; return; }
    saving = true;
    status.textContent = "Saving…";
    fetch(saveUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) {
          status.textContent = "Draft saved at " + result.body.saved_at + ".";
          showWarnings(result.body.warnings || []);
        } else {
          status.textContent = "Not saved: " + (result.body.detail || "try Save draft.");
        }
      })
      .catch(function () {
        status.textContent = "Not saved (no connection?). Your text is still here; try Save draft.";
      })
      .finally(function () {
        saving = false;
        if (again) { again = false; save(); }
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  }

  form.querySelectorAll("textarea[data-counter]").forEach(function (textarea) {
    count(textarea);
    textarea.addEventListener("input", function () { count(textarea); });
  });
  if (saveUrl) {
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
})();
