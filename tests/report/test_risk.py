"""The risk section: the risk API's numbers for a stack, with model, parameters hash and engine."""

from __future__ import annotations

import json

import pytest

from ddrisk.analysis import analyze
from ddrisk.report.build import build_report
from ddrisk.report.risk_sections import risk_input_for_stack
from ddrisk.risk.dependence import MEANINGS

FIXED = "2025-10-13T00:00:00Z"


@pytest.fixture(scope="module")
def risk(builtin):
    return risk_input_for_stack(builtin, ["DEBATE", "RE"], seed=5)


@pytest.fixture(scope="module")
def report(builtin, risk):
    analysis = analyze(builtin, stack=["DEBATE", "RE"], seed=5)
    return build_report(catalog=builtin, analysis=analysis, risk=risk, created=FIXED)


def test_risk_input_runs_the_public_risk_api(risk, builtin):
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.parameters import resolve_parameters

    model = resolve_parameters(builtin, ["DEBATE", "RE"]).model
    assert risk.result.probability == compute_stack_failure(model, seed=5).probability
    assert risk.parameters.layers == ("DEBATE", "RE")
    assert risk.parameters.catalog_hash == builtin.content_hash
    assert list(risk.curve.n_layers) == [1, 2]
    assert risk.importance is not None
    assert risk.uncertainty is None  # the default parameters are point values


def test_risk_section_shows_the_engine_numbers(report, risk):
    html = report.html()
    section = html[html.index('<section id="risk">') : html.index('<section id="provenance">')]
    result = risk.result
    assert f"P(stack fails) = {result.probability:.3g}" in section
    assert f"{result.independence_prediction:.3g}" in section
    assert f"{result.correlation_penalty:.3g}×" in section
    assert f"{result.effective_layers:.3g} effective independent layers" in section
    for model in MEANINGS:
        assert f">{model}<" in section
    assert f"parameters sha256:{risk.parameters.parameters_hash}" in section
    assert "seed 5" in section and "beta 0.1" in section and "rho 0.5" in section
    top = risk.importance.research_priorities()["mode"].iloc[0]
    assert f">{top}<" in section
    assert "risk_curve" in {b.name for b in report.figure_blocks()}
    summary = html[html.index('<section id="summary">') : html.index('<section id="matrix">')]
    assert "Risk of the stack DEBATE + RE" in summary
    assert f"P(stack fails) = {result.probability:.3g}" in summary
    assert f"parameters sha256:{risk.parameters.parameters_hash}" in summary


def test_risk_json_and_provenance(report, risk):
    text = report.json()
    data = json.loads(text)
    assert data["risk"]["result"]["probability"] == risk.result.probability
    assert data["risk"]["parameters"]["parameters_sha256"] == risk.parameters.parameters_hash
    assert data["provenance"]["risk"]["stack"] == ["DEBATE", "RE"]
    assert data["provenance"]["risk"]["seed"] == 5
    assert "elapsed_seconds" not in text  # timings would make rebuilds differ


def test_report_with_risk_is_byte_stable(builtin, report, monkeypatch):
    analysis = analyze(builtin, stack=["DEBATE", "RE"], seed=5)
    again = build_report(
        catalog=builtin,
        analysis=analysis,
        risk=risk_input_for_stack(builtin, ["DEBATE", "RE"], seed=5),
        created=FIXED,
    )
    assert again.html() == report.html()
    assert again.json() == report.json()
    assert again.markdown() == report.markdown()


def test_cli_stack_adds_the_risk_section(tmp_path):
    from click.testing import CliRunner

    from ddrisk.cli.report_cmd import report as command

    target = tmp_path / "r.json"
    result = CliRunner().invoke(
        command, ["--stack", "RLHF,RE", "--format", "json", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["risk"]["parameters"]["layers"] == ["RLHF", "RE"]
    assert data["risk"]["result"]["engine"] == "exact"


def test_uncertain_parameters_add_percentiles_and_tornado(builtin, tmp_path):
    from ddrisk.io.parameters import build_parameters

    params_file = tmp_path / "params.yaml"
    params_file.write_text('q: {default: 0.1, AL-GEN: "beta(2, 8)"}\n', encoding="utf-8")
    risk = risk_input_for_stack(
        builtin,
        ["DEBATE", "RE"],
        params=build_parameters(params_file=params_file),
        seed=2,
        n_draws=300,
    )
    assert risk.uncertainty is not None
    report = build_report(
        catalog=builtin, analysis=analyze(builtin, stack=["DEBATE", "RE"]), risk=risk, created=FIXED
    )
    html = report.html()
    summary = risk.uncertainty.to_dict()
    assert "Tornado" in html and ">q.AL-GEN<" in html and "beta(2, 8)" in html
    assert f"{summary['probability']['p95']:.3g}" in html
    assert f"{summary['n_draws']} draws, seed 2" in html


def test_cli_params_need_a_stack(tmp_path):
    from click.testing import CliRunner

    from ddrisk.cli import main
    from ddrisk.cli.report_cmd import report as command

    if "report" not in main.commands:
        main.add_command(command)
    params_file = tmp_path / "params.yaml"
    params_file.write_text("q: {default: 0.2}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--params", str(params_file)])
    assert result.exit_code == 2
    assert "risk parameters need a stack" in result.stderr
