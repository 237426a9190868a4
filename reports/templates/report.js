// ismap-scan report.html filters. Inlined into the page and allowed by its CSP by SHA-256; no network.
// Filterable rows (.f) carry data-v (verdict), data-sev, data-svc, data-acct, data-rgn and data-n (the
// number of results the row stands for). FAIL/ERROR rows sit inside a per-check <details class="chk">,
// which is hidden when none of its rows is shown.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#rows .f"));
  var checks = Array.prototype.slice.call(document.querySelectorAll("#rows > .chk:not(.f)"));
  var keys = { status: "v", severity: "sev", service: "svc", account: "acct", region: "rgn" };
  var shownEl = document.getElementById("n-shown");
  var emptyEl = document.getElementById("no-rows");
  var texts = null; // lower-cased row texts (with their check's title and ID), built on the first search

  function rowText(row) {
    var group = row.parentNode && row.parentNode.closest ? row.parentNode.closest(".chk") : null;
    var head = group && group !== row ? group.querySelector("summary").textContent : "";
    return (head + " " + row.textContent).toLowerCase();
  }

  function apply() {
    var want = {};
    Object.keys(keys).forEach(function (name) { want[keys[name]] = form.elements[name].value; });
    var q = form.elements.q.value.trim().toLowerCase();
    if (q && texts === null) { texts = rows.map(rowText); }
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = true;
      for (var k in want) {
        if (want[k] && row.dataset[k] !== want[k]) { ok = false; break; }
      }
      if (ok && q) { ok = texts[i].indexOf(q) !== -1; }
      row.hidden = !ok;
      if (ok) { shown += parseInt(row.dataset.n || "1", 10); }
    });
    checks.forEach(function (group) {
      group.hidden = group.querySelector(".f:not([hidden])") === null;
    });
    shownEl.textContent = String(shown);
    emptyEl.hidden = shown !== 0;
  }

  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  document.getElementById("clear-filters").addEventListener("click", function () { form.reset(); apply(); });
  // "show findings" links in the control view filter the findings by check ID.
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-check]") : null;
    if (!link) { return; }
    form.reset();
    form.elements.q.value = link.getAttribute("data-check");
    apply();
  });
  // A link may carry filters: report.html#filter?status=FAIL&account=111122223333&q=s3
  function fromHash() {
    var hash = window.location.hash || "";
    if (hash.indexOf("#filter?") !== 0) { return; }
    var params = new URLSearchParams(hash.slice(8));
    form.reset();
    params.forEach(function (value, name) {
      var field = form.elements[name];
      if (field && (keys[name] || name === "q")) { field.value = value; }
    });
  }
  window.addEventListener("hashchange", function () { fromHash(); apply(); });
  fromHash();
  apply();
})();
