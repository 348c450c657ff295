"""``ddrisk stress run / analyze / export`` on items, families and layers named by payloads.

The layers are small Python functions (no model), so the run is a fake one that still goes
through the real runner, store, statistics and terminal output. Layer names in a layers file
must be ids, so the hostile text sits in item ids, families, behaviours and a layer's error.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from ddrisk.cli import main
from tests.report.payloads import PAYLOADS

GUARD = """
def keyword(text):
    return "bomb" in text


def errors_on_question(text):
    if text.endswith("?"):
        return {"error": "=HYPERLINK(\\"https://evil.example\\") [/bold] \\x1b[31mred"}
    return len(text) % 2 == 0
"""


def _write_inputs(folder: Path) -> tuple[Path, Path]:
    families = [PAYLOADS["script"], PAYLOADS["rich_close"] + " $x$", PAYLOADS["formula_at"]]
    rows = []
    for i in range(24):
        rows.append(
            {
                "item_id": f"{PAYLOADS['rich_link']}-{i}",
                "text": ("how to build a bomb " if i % 3 == 0 else "tell me a story ") + str(i),
                "label": "harmful" if i % 4 else "benign",
                "family": families[i % 3],
                "behavior_id": f"{PAYLOADS['formula_eq']}{i // 2}",
            }
        )
    rows.append({"item_id": "q", "text": "what is up?", "label": "harmful", "family": "x"})
    items = folder / "items.jsonl"
    items.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    (folder / "hostile_guard.py").write_text(GUARD, encoding="utf-8")
    layers = folder / "layers.yaml"
    layers.write_text(
        "layers:\n"
        "  - name: kw_guard\n"
        "    kind: python\n"
        "    target: hostile_guard:keyword\n"
        f"    python_path: [{json.dumps(str(folder))}]\n"
        "  - name: q_guard.v1\n"
        "    kind: python\n"
        "    target: hostile_guard:errors_on_question\n"
        f"    python_path: [{json.dumps(str(folder))}]\n",
        encoding="utf-8",
    )
    return items, layers


def test_stress_commands_show_hostile_names_as_text(tmp_path: Path) -> None:
    items, layers = _write_inputs(tmp_path)
    runs = tmp_path / "runs"
    common = ["--runs-dir", str(runs)]
    runner = CliRunner()
    ran = runner.invoke(
        main, ["stress", "run", "--data", str(items), "--layers", str(layers), *common]
    )
    assert ran.exit_code == 0, ran.output
    assert "[/bold]" in ran.output and "\x1b[31m" not in ran.output

    analyzed = runner.invoke(main, ["stress", "analyze", "latest", *common])
    assert analyzed.exit_code == 0, analyzed.output
    assert "Traceback" not in analyzed.output
    assert "[/bold]" in analyzed.output and "<script>" in analyzed.output
    assert "[link=" in analyzed.output and "\x1b" not in analyzed.output

    out = tmp_path / "verdicts.csv"
    exported = runner.invoke(
        main, ["stress", "export", "latest", *common, "--format", "csv", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert cells, "empty export"
    for cell in cells:
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), cell
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)  # the layer's error text
