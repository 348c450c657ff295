"""The effective number of independent layers: n for n independent layers, 1 for identical
perfectly correlated ones, and the same definition in every output that prints it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.risk.dependence import compare_dependence_models
from ddrisk.risk.effective import (
    EFFECTIVE_LAYERS_DEFINITION,
    effective_from_probability,
    effective_independent_layers,
)
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.model import FailureModeModel


@pytest.mark.parametrize("marginals", [[0.05, 0.5], [0.1, 0.2, 0.3], [0.01] * 4, [0.9, 0.02]])
def test_independent_layers_count_exactly(marginals):
    log_p = float(np.sum(np.log(marginals)))
    assert effective_independent_layers(log_p, marginals) == pytest.approx(len(marginals), 1e-12)


@pytest.mark.parametrize("n, m", [(2, 0.3), (5, 0.1), (10, 0.5)])
def test_identical_perfectly_correlated_layers_count_once(n, m):
    assert effective_from_probability(m, [m] * n) == pytest.approx(1.0, 1e-12)


def test_middle_case():
    # Ten layers at 0.1 that all fail with probability 1e-3 are worth three independent ones.
    assert effective_from_probability(1e-3, [0.1] * 10) == pytest.approx(3.0)
    # Unequal marginals: the geometric mean is sqrt(0.05 * 0.5) = 0.158; P = 0.05 (the smaller
    # marginal, perfectly correlated) is worth ln 0.05 / ln 0.158 = 1.63 layers.
    assert effective_from_probability(0.05, [0.05, 0.5]) == pytest.approx(
        math.log(0.05) / math.log(math.sqrt(0.025))
    )


def test_undefined_and_infinite():
    assert math.isnan(effective_independent_layers(math.log(0.5), []))
    assert math.isnan(effective_from_probability(0.0, [0.0, 0.5]))  # a layer that never fails
    assert math.isnan(effective_from_probability(1.0, [1.0, 1.0]))  # layers that always fail
    assert effective_from_probability(0.0, [0.1, 0.2]) == math.inf


def _model(p: np.ndarray, q: list[float]) -> FailureModeModel:
    layers = tuple(f"L{i}" for i in range(p.shape[0]))
    modes = tuple(f"m{j}" for j in range(p.shape[1]))
    return FailureModeModel(layers=layers, modes=modes, q=q, p=p, r=[0.0] * len(layers))


def test_engine_and_dependence_models_use_the_definition():
    independent = compute_stack_failure(_model(np.eye(3), [0.1, 0.2, 0.4]))
    assert independent.effective_layers == pytest.approx(3.0)
    shared = compute_stack_failure(_model(np.ones((4, 1)), [0.2]))
    assert shared.effective_layers == pytest.approx(1.0)
    assert shared.to_dict()["effective_layers_definition"] == EFFECTIVE_LAYERS_DEFINITION
    rows = {r.model: r for r in compare_dependence_models(_model(np.eye(3), [0.1, 0.2, 0.4])).rows}
    assert rows["independence"].effective_layers == pytest.approx(3.0)
    # Perfect correlation on unequal marginals: P = min marginal, more than one layer's worth.
    expected = 3 * math.log(0.1) / math.log(0.1 * 0.2 * 0.4)
    assert rows["perfect correlation"].effective_layers == pytest.approx(expected)


def test_every_output_states_the_definition():
    runner = CliRunner()
    terminal = runner.invoke(main, ["risk", "--stack", "RLHF,RE"])
    assert terminal.exit_code == 0, terminal.output
    assert EFFECTIVE_LAYERS_DEFINITION in " ".join(terminal.output.split())
    data = json.loads(runner.invoke(main, ["risk", "--stack", "RLHF,RE", "--json"]).output)
    assert data["result"]["effective_layers_definition"] == EFFECTIVE_LAYERS_DEFINITION
    assert data["dependence"]["effective_layers_definition"] == EFFECTIVE_LAYERS_DEFINITION


def test_the_report_states_the_definition(builtin):
    from ddrisk.report.risk_sections import risk_headline, risk_input_for_stack

    headline = risk_headline(risk_input_for_stack(builtin, ["RLHF", "RE"]))
    assert EFFECTIVE_LAYERS_DEFINITION in headline.statement
    assert "1.43 effective independent layers out of 2" in headline.statement
