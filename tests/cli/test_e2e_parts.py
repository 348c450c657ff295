"""``ddrisk risk --parts``: compute only what is asked for, import only what that needs.

SCRAM's ``--probability true`` computes the top-event probability and nothing else; ``ddrisk
risk --parts probability`` is the like-for-like run. These tests check that the parts left out
are absent (not silently computed), that the parts kept equal the full report's, that the
option also comes from ``DDRISK_RISK_PARTS``, and that the probability-only run never imports
pandas or SciPy (checked in a fresh interpreter's ``sys.modules``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.io.catalog import load_catalog
from ddrisk.risk.assessment import PARTS, assess_stack, check_parts
from ddrisk.risk.distributions import Z95
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel

STACK = "RLHF,RE,DEBATE,SCIAI"


def _risk(*args: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner().invoke(main, ["risk", "--stack", STACK, "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_probability_only_leaves_the_other_parts_out_and_agrees_with_the_full_report() -> None:
    full = _risk()
    only = _risk("--parts", "probability")
    assert full["parts"] == list(PARTS) and only["parts"] == ["probability"]
    assert only["result"]["probability"] == full["result"]["probability"]
    assert only["result"]["layer_marginals"] == full["result"]["layer_marginals"]
    assert only["importance"] is None and "not requested" in only["importance_note"]
    assert only["dependence"] is None and only["curve"] is None
    assert all(layer["marginal_value"] is None for layer in only["layers"])
    assert set(only["engine"]["parts"]) == {"P(stack fails)"}


def test_each_part_equals_the_full_reports() -> None:
    full = _risk()
    with_importance = _risk("--parts", "probability,importance")
    assert with_importance["importance"] == {
        **full["importance"],
        "elapsed_seconds": with_importance["importance"]["elapsed_seconds"],
    }
    assert with_importance["curve"] is None
    values = _risk("--parts", "marginal-values")
    assert values["importance"] is None  # computed for the values, not reported
    assert [v["marginal_value"] for v in values["layers"]] == [
        v["marginal_value"] for v in full["layers"]
    ]
    curve = _risk("--parts", "curve,dependence")
    assert curve["curve"] == full["curve"] and curve["dependence"] == full["dependence"]


def test_parts_come_from_the_environment_and_bad_names_are_one_line_errors() -> None:
    only = _risk(env={"DDRISK_RISK_PARTS": "probability"})
    assert only["parts"] == ["probability"]
    bad = CliRunner().invoke(main, ["risk", "--stack", STACK, "--parts", "probability,speed"])
    assert bad.exit_code == 2
    assert bad.output.count("\n") == 1 and "unknown part(s) speed" in bad.output
    with pytest.raises(ValueError, match="unknown part"):
        check_parts(["nope"])
    assert check_parts(["curve"]) == ("probability", "curve")


def test_terminal_output_without_the_optional_parts() -> None:
    result = CliRunner().invoke(main, ["risk", "--stack", STACK, "--parts", "probability"])
    assert result.exit_code == 0, result.output
    assert "P(stack fails) = " in result.output and "not requested" in result.output
    assert "Dependence models" not in result.output


def test_api_parts_match_the_cli() -> None:
    risk = assess_stack(load_catalog(), STACK.split(","), parts=["probability"])
    assert risk.values is None and risk.dependence is None and risk.curve is None
    assert risk.to_dict()["parts"] == ["probability"]


def test_probability_only_imports_neither_pandas_nor_scipy() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from ddrisk.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main(['risk', '--stack', '{STACK}', '--json', '--parts', 'probability'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code in (0, None), done.code\n"
        "assert '\"probability\"' in out.getvalue()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'scipy'))\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
    # and the full report does need SciPy (the copula), which shows the check can fail
    full = code.replace(", '--parts', 'probability'", "")
    done = subprocess.run([sys.executable, "-c", full], capture_output=True, text=True, check=True)
    assert "scipy.special" in done.stdout


def test_written_out_normal_quantile_equals_scipys() -> None:
    from scipy import special

    assert float(special.ndtri(0.95)) == Z95


def test_pandas_free_priority_order_equals_the_frame_ranking() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        n_layers, n_modes = int(rng.integers(2, 6)), int(rng.integers(2, 8))
        p = np.where(
            rng.random((n_layers, n_modes)) < 0.6, rng.uniform(0.1, 1, (n_layers, n_modes)), 0
        )
        q = rng.choice([0.0, 0.01, 0.1, 0.1, 0.3], n_modes)  # ties and irrelevant modes
        model = FailureModeModel(
            layers=tuple(f"L{i}" for i in range(n_layers)),
            modes=tuple(f"m{j}" for j in range(n_modes)),
            q=q,
            p=p,
            r=rng.uniform(0, 0.1, n_layers),
        )
        measures = importance_measures(model)
        assert measures.priority_order() == list(measures.research_priorities()["mode"])
        record = measures.to_dict()
        frame = measures.to_frame("modes")
        assert [row["mode"] for row in record["modes"]] == list(frame["mode"])
        for row, (_, expected) in zip(record["modes"], frame.iterrows(), strict=True):
            for key in ("birnbaum", "fussell_vesely", "risk_achievement_worth"):
                value = expected[key]
                assert row[key] == (None if value != value else pytest.approx(float(value)))
