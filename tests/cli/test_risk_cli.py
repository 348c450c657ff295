"""CLI: ddrisk risk / optimize / export mef — real output, stable JSON, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.cli.risk_cmds import COMMANDS
from ddrisk.io.catalog import load_catalog
from ddrisk.io.mef import mef_to_model, validate_mef
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.optimize import optimize_stack
from ddrisk.risk.parameters import resolve_parameters
from tests.risk.support import brute_force_probability, mef_schema_paths


@pytest.fixture(scope="module")
def run():
    for command in COMMANDS:
        if command.name not in main.commands:
            main.add_command(command)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_risk_prints_model_parameters_and_every_section(run):
    result = run("risk", "--stack", "RLHF,RE")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "failure-mode common-cause model (Marshall-Olkin shocks)",
        "dung-mai-2025@",
        "q.default",
        "built-in default",
        "P(stack fails) = 0.1864",
        "independence prediction",
        "correlation penalty",
        "effective independent layers",
        "Gaussian copula",
        "beta-factor",
        "research priority",
        "Fussell-Vesely",
    ):
        assert expected in out, expected


def test_risk_json_is_complete_and_matches_the_api(run):
    result = run(
        "risk", "--stack", "RLHF,RE,SCIAI", "--json", "--q", "DEC-AL=0.3", "--residual", "RE=0.02"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "ddrisk.risk/1"
    assert set(data) == {
        "format",
        "schema",
        "ddrisk_version",
        "model",
        "catalog",
        "stack",
        "structure",
        "engine",
        "parts",
        "notes",
        "parameters",
        "result",
        "layers",
        "dependence",
        "curve",
        "importance",
        "importance_note",
        "evidence",
        "uncertainty",
    }
    catalog = load_catalog()
    from ddrisk.cli._parse import parameters_from_cli
    from ddrisk.io.parameters import build_parameters

    params = build_parameters(cli=parameters_from_cli(q=["DEC-AL=0.3"], residual=["RE=0.02"]))
    model = resolve_parameters(catalog, ["RLHF", "RE", "SCIAI"], params).model
    assert data["result"]["probability"] == pytest.approx(brute_force_probability(model), rel=1e-12)
    assert data["parameters"]["q"]["DEC-AL"] == {"value": 0.3, "parameter": "q.DEC-AL"}
    assert data["parameters"]["parameters"]["q.DEC-AL"]["source"] == "command line"
    assert data["catalog"]["sha256"] == catalog.content_hash
    models = [row["model"] for row in data["dependence"]["models"]]
    assert models == [
        "independence",
        "perfect correlation",
        "failure-mode model",
        "beta-factor",
        "Gaussian copula",
    ]
    assert data["importance"]["research_priorities"][0] in catalog.failure_mode_ids
    assert [layer["layer"] for layer in data["layers"]] == ["RLHF", "RE", "SCIAI"]
    assert data["uncertainty"] is None and data["evidence"] is None


def test_risk_with_uncertainty_counts_and_figure(run, tmp_path):
    counts = tmp_path / "counts.json"
    counts.write_text(
        json.dumps(
            {"layers": {"RLHF": {"failures": 20, "n": 50}}, "joint": {"failures": 3, "n": 50}}
        )
    )
    figure = tmp_path / "curve.png"
    args = [
        "risk",
        "--stack",
        "RLHF,RE",
        "--q",
        "beta(2,18)",
        "--uncertainty",
        "200",
        "--seed",
        "5",
    ]
    result = run(*args, "--counts", str(counts), "--figure", str(figure), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert figure.stat().st_size > 1000
    assert data["uncertainty"]["n_draws"] == 200 and data["uncertainty"]["seed"] == 5
    assert data["uncertainty"]["tornado"][0]["parameter"] == "q.default"
    update = data["evidence"]["updates"][0]
    assert update["target"] == "residual.RLHF" and update["posterior"] == "beta(20.1, 31.9)"
    assert data["evidence"]["joint"]["posterior"] == "beta(3.5, 47.5)"
    assert data["parameters"]["residual"]["RLHF"]["value"] == pytest.approx(20.1 / 52)
    again = json.loads(run(*args, "--counts", str(counts), "--json").stdout)
    assert again["uncertainty"] == data["uncertainty"]  # same seed, same numbers
    text = run(*args, "--counts", str(counts)).stdout
    assert "Tornado" in text and "Stress-test evidence" in text and "Uncertainty: 200" in text


def test_paper_example(run):
    result = run("risk", "--paper-example")
    assert result.exit_code == 0
    assert "0.1^10 = 1e-10" in result.stdout and "min marginal = 0.1" in result.stdout
    data = json.loads(run("risk", "--paper-example", "--json", "--n-layers", "4").stdout)
    assert data["paper_example"]["independent"] == pytest.approx(1e-4)
    assert data["curve"]["series"]["perfect correlation"] == [0.1] * 4


def test_sampling_engine_reports_an_interval(run):
    """21 modes: more shared modes than the sampler's strata hold, so something is sampled."""
    args = ("risk", "--catalog", "ddrisk-extended-2026", "--stack", "RLHF,RE,DEBATE,IDA")
    data = json.loads(run(*args, "--engine", "sample", "--json").stdout)
    low, high = data["result"]["interval_95"]
    assert data["result"]["engine"] == "sample" and low < data["result"]["probability"] < high
    assert data["result"]["sampling"]["n_samples"] == 20_000
    exact = json.loads(run(*args, "--engine", "exact", "--json").stdout)["result"]["probability"]
    assert low < exact < high
    assert "95 % interval" in run(*args, "--engine", "sample").stdout


def test_sampling_engine_says_when_nothing_was_left_to_sample(run):
    """7 modes all fit in the strata: the 'sampled' value is exact and says so."""
    data = json.loads(run("risk", "--stack", "RLHF,RE", "--engine", "sample", "--json").stdout)
    result = data["result"]
    assert result["engine"] == "sample" and result["sampling"]["n_samples"] == 0
    assert result["interval_95"] == [result["probability"], result["probability"]]
    assert "no mode left to sample, so the value is exact" in result["method"]


def test_optimize_matches_the_api(run):
    data = json.loads(run("optimize", "--max-layers", "2", "--json").stdout)
    [result] = data["results"]
    expected = optimize_stack(load_catalog(), max_layers=2)
    assert result["stack"] == list(expected.stack) == ["RE", "SCIAI"]
    assert result["probability"] == pytest.approx(expected.probability)
    assert result["marginal_values"][0]["layer"] == "RE"
    frontier = json.loads(run("optimize", "--json").stdout)["results"]
    assert [len(r["stack"]) for r in frontier] == [1, 2, 3, 4, 5, 6, 7]
    probabilities = [r["probability"] for r in frontier]
    assert probabilities == sorted(probabilities, reverse=True)
    budget = run("optimize", "--budget", "3", "--cost", "low=1.5")
    assert budget.exit_code == 0 and "budget <= 3" in budget.stdout and "low 1.5" in budget.stdout


def test_export_mef_round_trips(run, tmp_path):
    target = tmp_path / "stack.xml"
    result = run(
        "export", "mef", "--stack", "RLHF,DEBATE,RE", "-o", str(target), "--p-prone", "0.8"
    )
    assert result.exit_code == 0 and "wrote" in result.stdout
    xml = target.read_text()
    catalog = load_catalog()
    from ddrisk.cli._parse import parameters_from_cli
    from ddrisk.io.parameters import build_parameters

    model = resolve_parameters(
        catalog, ["RLHF", "DEBATE", "RE"], build_parameters(cli=parameters_from_cli(p_prone="0.8"))
    ).model
    assert brute_force_probability(mef_to_model(xml)) == pytest.approx(
        compute_stack_failure(model).probability, rel=1e-12
    )
    schemas = mef_schema_paths()
    if schemas:
        assert validate_mef(xml, schema_path=schemas[0]) == []
    assert run("export", "mef", "--stack", "RE").stdout.startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["risk"], "--stack: no stack given"),
        (["risk", "--stack", "RLHF,XX"], "unknown id 'XX'"),
        (
            ["risk", "--stack", "RLHF", "--q", "CAP-DVE=0.3"],
            "--q CAP-DVE=0.3: unknown failure mode",
        ),
        (["risk", "--stack", "RLHF", "--q", "1.5"], "--q 1.5: 1.5 is not a probability"),
        (["risk", "--stack", "RLHF", "--p-prone", "beta(0,1)"], "beta needs a > 0"),
        (["risk", "--stack", "RLHF", "--p", "RLHF=0.3"], "expected TECHNIQUE:MODE=VALUE"),
        (["risk", "--stack", "RLHF", "--residual", "NOPE=0.1"], "unknown technique 'NOPE'"),
        (["risk", "--stack", "RLHF", "--beta", "2"], "--beta: 2 is out of range"),
        (["risk", "--stack", "RLHF", "--rho", "abc"], "--rho: 'abc' is not a number"),
        (["risk", "--stack", "RLHF", "--seed", "-1"], "--seed: -1 is out of range"),
        (["risk", "--stack", "RLHF", "--uncertainty", "2.5"], "is not a whole number"),
        (["risk", "--stack", "RLHF", "--params", "missing.yaml"], "missing.yaml: no such file"),
        (["optimize", "--max-layers", "0"], "--max-layers: 0 is out of range"),
        (["optimize", "--cost", "gold=1"], "unknown safety-tax level 'gold'"),
        (["optimize", "--budget", "x"], "--budget: 'x' is not a number"),
        (["export", "mef"], "--stack: no stack given"),
    ],
)
def test_bad_input_is_one_line_exit_2(run, args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddrisk: error: ") and message in lines[0], lines
    assert "Traceback" not in result.output


def test_bad_parameter_and_counts_files_are_one_line_errors(run, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("p:\n  prone: 0.9\n  sometimes: 0.4\n")
    result = run("risk", "--stack", "RLHF", "--params", str(params))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"ddrisk: error: {params}: line 3 (p.sometimes): unknown key; "
        "fix: use q, p (prone, unclear, not_prone, cells) and residual"
    )
    params.write_text("q: {default: 0.2, EM-MIZ: 0.1}\n")
    result = run("risk", "--stack", "RLHF", "--params", str(params))
    assert (
        result.exit_code == 2
        and f"{params}: line 1 (q.EM-MIZ): unknown failure mode 'EM-MIZ'" in result.stderr
    )
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"RLHF": {"failures": 9, "n": 4}}))
    result = run("risk", "--stack", "RLHF", "--counts", str(counts))
    assert result.exit_code == 2 and "failures 9 > n 4" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _strict_json(text: str):
    def reject(constant: str):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


def test_json_stays_valid_when_a_layer_never_fails(run):
    # RE with its two prone modes switched off and no residual never fails: P = 0, ratios infinite.
    args = [
        "risk",
        "--stack",
        "RE,SCIAI",
        "--q",
        "DEC-AL=0",
        "--q",
        "AL-GEN=0",
        "--residual",
        "RE=0",
    ]
    data = _strict_json(run(*args, "--p-not-prone", "0", "--json").stdout)
    assert data["result"]["probability"] == 0.0
    assert data["layers"][0]["marginal"] == 0.0
    _strict_json(run("optimize", "--q", "0", "--residual", "0", "--json").stdout)


def test_optimize_candidates_and_figures(run, tmp_path):
    data = json.loads(
        run("optimize", "--candidates", "RLHF,RLAIF,W2S", "--layers", "2", "--json").stdout
    )
    assert set(data["results"][0]["stack"]) <= {"RLHF", "RLAIF", "W2S"}
    frontier = json.loads(run("optimize", "--candidates", "RE,IDA", "--json").stdout)["results"]
    assert [r["stack"] for r in frontier] == [["RE"], ["RE", "IDA"]]
    figure = tmp_path / "paper.svg"
    result = run("risk", "--paper-example", "--figure", str(figure))
    assert result.exit_code == 0 and figure.read_text().startswith("<?xml")


def test_stack_curve_figure_has_every_model(builtin):
    from ddrisk.report.risk_figures import plot_dependence_curve
    from ddrisk.risk.dependence import stack_curve

    model = resolve_parameters(builtin, ["RLHF", "RE", "SCIAI", "IDA"]).model
    figure = plot_dependence_curve(stack_curve(model))
    axes = figure.axes[0]
    assert [line.get_label() for line in axes.get_lines()] == [
        "independence",
        "perfect correlation",
        "failure-mode model",
        "beta-factor (beta = 0.1)",
        "Gaussian copula (rho = 0.5)",
    ]
    assert axes.get_yscale() == "log"
    failure_mode = axes.get_lines()[2].get_ydata()
    assert failure_mode[-1] == pytest.approx(compute_stack_failure(model).probability)


def test_optimize_old_layers_spelling_still_works_hidden(run):
    """`--max-layers` is the name (one meaning per option name); `--layers N` is a hidden alias."""
    new = json.loads(run("optimize", "--max-layers", "2", "--json").stdout)
    old = json.loads(run("optimize", "--layers", "2", "--json").stdout)
    assert new["results"] == old["results"]
    assert "--layers " not in run("optimize", "--help").stdout
