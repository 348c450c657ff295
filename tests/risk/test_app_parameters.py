"""Parameters: documented defaults, override precedence, files and their one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ddrisk.catalog import Catalog
from ddrisk.catalog.model import Level
from ddrisk.cli._parse import parameters_from_cli
from ddrisk.errors import InputError
from ddrisk.io.parameters import build_parameters
from ddrisk.io.parameters import read_parameter_file as load_parameter_file
from ddrisk.risk.distributions import BetaDistribution, FixedValue
from ddrisk.risk.evidence import apply_stress_counts, parse_stress_counts
from ddrisk.risk.parameters import (
    DEFAULT_P,
    DEFAULT_Q,
    DEFAULT_RESIDUAL,
    RiskParameters,
    resolve_parameters,
)
from tests.conftest import make_catalog


def with_cell_probability(
    catalog: Catalog, technique: str, mode: str, probability: float
) -> Catalog:
    ratings = [
        r.model_copy(update={"probability": probability})
        if (r.technique, r.failure_mode) == (technique, mode)
        else r
        for r in catalog.ratings
    ]
    return type(catalog)(**{**dict(catalog), "ratings": ratings})


def test_defaults_follow_the_catalog_levels(builtin):
    resolved = resolve_parameters(builtin, ["RLHF", "DEBATE", "RE"])
    model = resolved.model
    modes = list(model.modes)
    assert np.all(model.q == DEFAULT_Q) and np.all(model.r == DEFAULT_RESIDUAL)
    assert model.p[0, modes.index("DEC-AL")] == DEFAULT_P[Level.PRONE] == 0.9
    assert model.p[1, modes.index("S-TAX")] == DEFAULT_P[Level.UNCLEAR] == 0.5
    assert model.p[2, modes.index("CAP-DEV")] == DEFAULT_P[Level.NOT_PRONE] == 0.05
    data = resolved.to_dict()
    assert data["p"]["RLHF"]["DEC-AL"] == {"value": 0.9, "level": "prone", "parameter": "p.prone"}
    assert data["parameters"]["q.default"]["source"] == "built-in default"
    json.dumps(data)  # JSON-safe
    assert len(data["parameters_sha256"]) == 64


def test_specific_settings_beat_general_ones():
    catalog = with_cell_probability(
        make_catalog([["prone", "prone"], ["not_prone", "unclear"]]), "T0", "M1", 0.3
    )
    cli = parameters_from_cli(
        q=["0.2", "M1=0.4"], p_prone="0.8", p=["T1:M0=0.6"], residual=["0.01", "T1=0.02"]
    )
    model = resolve_parameters(catalog, ["T0", "T1"], build_parameters(cli=cli)).model
    np.testing.assert_array_equal(model.q, [0.2, 0.4])
    # T0xM0 prone -> level default 0.8; T0xM1 has its own probability 0.3 in the catalog;
    # T1xM0 explicit cell override; T1xM1 unclear default.
    np.testing.assert_array_equal(model.p, [[0.8, 0.3], [0.6, 0.5]])
    np.testing.assert_array_equal(model.r, [0.01, 0.02])
    cell_override = parameters_from_cli(p=["T0:M1=0.9"])
    assert (
        resolve_parameters(catalog, ["T0"], build_parameters(cli=cell_override)).model.p[0, 1]
        == 0.9
    )


def test_command_line_beats_file_beats_defaults(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("q: {default: 0.3, M0: 0.25}\np: {prone: 0.7}\nresidual: {default: 0.2}\n")
    catalog = make_catalog([["prone", "not_prone"]])
    params = build_parameters(params_file=path, cli=parameters_from_cli(q=["M0=0.5"]))
    resolved = resolve_parameters(catalog, ["T0"], params)
    np.testing.assert_array_equal(resolved.model.q, [0.5, 0.3])
    assert resolved.model.p[0, 0] == 0.7 and resolved.model.r[0] == 0.2
    sources = resolved.to_dict()["parameters"]
    assert sources["q.M0"]["source"] == "command line"
    assert (
        sources["q.default"]["source"] == str(path)
        and sources["q.default"]["where"] == "line 1 (q.default)"
    )
    assert sources["p.not_prone"]["source"] == "built-in default"


def test_json_parameter_file_and_case_insensitive_ids(tmp_path):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"q": {"m0": "beta(1, 3)"}, "p": {"cells": {"t0": {"M0": 0.33}}}}))
    resolved = resolve_parameters(
        make_catalog([["prone"]]), ["T0"], build_parameters(params_file=path)
    )
    assert resolved.model.q[0] == pytest.approx(0.25)  # the point model uses the mean
    assert resolved.model.p[0, 0] == 0.33
    assert resolved.uncertain_parameters == ("q.M0",)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("q: {default: 1.5}\n", "line 1 (q.default)", "not a probability"),
        ("q:\n  default: 'beta(0, 1)'\n", "line 2 (q.default)", "beta needs a > 0"),
        (
            "p:\n  unclear: 0.5\n  prone: 'normal(0, 1)'\n",
            "line 3 (p.prone)",
            "unknown distribution",
        ),
        ("residual: {default: [0.1]}\n", "line 1 (residual.default)", "input should be"),
        ("q: {default: yes}\n", "line 1 (q.default)", "valid number"),
        ("\n\nqq: {}\n", "line 3 (qq)", "unknown key"),
        ("p:\n  cells:\n    T0: 0.5\n", "line 3 (p.cells.T0)", "valid dictionary"),
        ("- 1\n- 2\n", "top level", "must be a mapping"),
        ("q: {default: 0.1\n", "line 2", "malformed yaml"),
    ],
)
def test_bad_parameter_files_raise_located_errors(tmp_path, text, where, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_parameter_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}") and problem in message.lower()
    assert "fix:" in message and "\n" not in message


def test_unknown_ids_are_reported_where_they_were_written(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("q: {CAP-DVE: 0.2}\n")
    catalog = make_catalog([["prone"]])
    with pytest.raises(
        InputError,
        match=r"p.yaml: line 1 \(q.CAP-DVE\): unknown failure mode 'CAP-DVE'; fix: use one of: M0",
    ):
        resolve_parameters(catalog, ["T0"], build_parameters(params_file=path))
    with pytest.raises(InputError, match=r"command line: --residual X=0.1: unknown technique 'X'"):
        resolve_parameters(
            catalog, ["T0"], build_parameters(cli=parameters_from_cli(residual=["X=0.1"]))
        )
    with pytest.raises(InputError, match="expected TECHNIQUE:MODE=VALUE"):
        parameters_from_cli(p=["T0=0.5"])
    with pytest.raises(InputError, match="missing name before"):
        parameters_from_cli(q=["=0.5"])
    with pytest.raises(InputError, match=r"absent.yaml: no such file"):
        load_parameter_file(tmp_path / "absent.yaml")


def test_model_for_maps_named_parameters_to_every_entry(builtin):
    resolved = resolve_parameters(builtin, ["RLHF", "RE"])
    theta = np.array([d.mean for d in resolved.distributions])
    prone = resolved.parameter_names.index("p.prone")
    theta[prone] = 0.5
    model = resolved.model_for(theta)
    prone_cells = np.array(resolved.levels) == "prone"
    assert np.all(model.p[prone_cells] == 0.5) and np.all(model.p[~prone_cells] == 0.05)
    frame = resolved.to_frame()
    assert len(frame) == 7 + 2 * 7 + 2 and set(frame["kind"]) == {"q", "p", "r"}


def test_stress_counts_become_beta_posteriors():
    catalog = make_catalog([["prone", "not_prone"], ["unclear", "prone"]])
    params = RiskParameters().merged(parameters_from_cli(residual=["T1=beta(2, 18)"]))
    counts = parse_stress_counts(
        {
            "T0": {"failures": 3, "n": 10},
            "T1": {"failures": 1, "n": 20},
            "t1": {"failures": 5, "n": 5, "mode": "M0"},
        }
    )
    updated, updates = apply_stress_counts(params, counts, catalog)
    by_target = {u.target: u for u in updates}
    # T0's residual prior: point 0.05 worth 2 pseudo-observations -> Beta(0.1, 1.9) -> +3/10.
    assert by_target["residual.T0"].prior.a == pytest.approx(0.1)
    assert by_target["residual.T0"].posterior == BetaDistribution(
        pytest.approx(3.1), pytest.approx(8.9)
    )
    # T1 had a Beta prior: kept as is and updated conjugately.
    assert by_target["residual.T1"].posterior == BetaDistribution(3.0, 37.0)
    # Mode-targeted counts update the cell (prior from the 'unclear' level default 0.5).
    assert by_target["p.cells.T1.M0"].posterior == BetaDistribution(6.0, 1.0)
    model = resolve_parameters(catalog, ["T0", "T1"], updated).model
    assert model.r[1] == pytest.approx(3 / 40) and model.p[1, 0] == pytest.approx(6 / 7)
    assert isinstance(RiskParameters().r_default.value, FixedValue)
