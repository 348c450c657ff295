// ddrisk rating form: collects one rater's ratings and builds a rater file (ddrisk.raters/1).
// Catalog text is never turned into markup: the page was rendered with escaping, and this
// script only reads form values and writes text (textContent, Blob downloads).
"use strict";
(function () {
  var meta = JSON.parse(document.getElementById("ddrisk-form-data").textContent);
  var ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
  var status = document.getElementById("status");
  var output = document.getElementById("output");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "status bad" : "status good";
  }

  function collect() {
    var raterId = document.getElementById("rater-id").value.trim();
    var raterName = document.getElementById("rater-name").value.trim() || raterId;
    var problems = [];
    if (!ID_PATTERN.test(raterId) || raterId.length > 64) {
      problems.push("rater id: start with a letter; use letters, digits, '_', '-' or '.'");
    }
    var ratings = [];
    var rated = 0;
    var cells = document.querySelectorAll("[data-cell]");
    for (var i = 0; i < cells.length; i++) {
      var box = cells[i];
      var entry = { technique: box.getAttribute("data-technique"), failure_mode: box.getAttribute("data-mode") };
      var level = box.querySelector(".level").value;
      var probText = box.querySelector(".probability").value.trim();
      var confidence = box.querySelector(".confidence").value;
      var rationale = box.querySelector(".rationale").value.trim();
      if (level) { entry.level = level; }
      if (probText !== "") {
        var p = Number(probText);
        if (!isFinite(p) || p < 0 || p > 1) {
          problems.push(entry.technique + " x " + entry.failure_mode + ": probability must be in [0, 1]");
        } else {
          entry.probability = p;
        }
      }
      if (confidence) { entry.confidence = confidence; }
      if (rationale) { entry.rationale = rationale; }
      if (entry.level || entry.probability !== undefined) { rated++; }
      ratings.push(entry);
    }
    var doc = {
      format: meta.format,
      catalog: { id: meta.catalog_id, version: meta.catalog_version, sha256: meta.catalog_sha256 },
      rater: { id: raterId, name: raterName, kind: document.getElementById("rater-kind").value },
      ratings: ratings
    };
    var note = document.getElementById("sheet-note").value.trim();
    if (note) { doc.note = note; }
    return { doc: doc, problems: problems, rated: rated, total: ratings.length };
  }

  // YAML with every string as a JSON (double-quoted) scalar: valid YAML, and nothing a rater
  // types can change the document's structure.
  function yamlScalar(value) {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  }

  function toYaml(doc) {
    var lines = ["# ddrisk rater file written by the ddrisk rating form"];
    lines.push("format: " + yamlScalar(doc.format));
    lines.push("catalog:");
    ["id", "version", "sha256"].forEach(function (k) { lines.push("  " + k + ": " + yamlScalar(doc.catalog[k])); });
    lines.push("rater:");
    ["id", "name", "kind"].forEach(function (k) { lines.push("  " + k + ": " + yamlScalar(doc.rater[k])); });
    if (doc.note) { lines.push("note: " + yamlScalar(doc.note)); }
    lines.push("ratings:");
    doc.ratings.forEach(function (r) {
      var keys = ["technique", "failure_mode", "level", "probability", "confidence", "rationale"];
      var first = true;
      keys.forEach(function (k) {
        if (r[k] === undefined) { return; }
        lines.push((first ? "- " : "  ") + k + ": " + yamlScalar(r[k]));
        first = false;
      });
    });
    return lines.join("\n") + "\n";
  }

  function save(kind) {
    var result = collect();
    if (result.problems.length) {
      say("Not saved: " + result.problems.join("; "), true);
      return;
    }
    var text = kind === "json" ? JSON.stringify(result.doc, null, 2) + "\n" : toYaml(result.doc);
    output.value = text;
    var blob = new Blob([text], { type: kind === "json" ? "application/json" : "application/yaml" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = result.doc.rater.id + (kind === "json" ? ".json" : ".yaml");
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    say("Saved " + link.download + ": " + result.rated + " of " + result.total + " cells rated (blank cells stay blank).", false);
  }

  document.getElementById("save-yaml").addEventListener("click", function () { save("yaml"); });
  document.getElementById("save-json").addEventListener("click", function () { save("json"); });
  document.getElementById("form-ready").setAttribute("data-ready", "1");
})();
