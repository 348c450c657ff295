"""Inclusion-exclusion over layers: brute force, the mode DP, its accuracy check, importance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddrisk.risk import layer_inclusion
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.exact import BudgetExceeded, enumerate_modes, stack_failure_probability
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.optimize import layer_marginal_values
from ddrisk.risk.structure import Vote


def _model(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> FailureModeModel:
    n_layers, n_modes = p.shape
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=r,
    )


def _random(seed: int, n_layers: int, n_modes: int, *, density: float) -> FailureModeModel:
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.01, 0.6, n_modes)
    p = rng.uniform(0.0, 1.0, (n_layers, n_modes)) * (rng.random((n_layers, n_modes)) < density)
    p[rng.random((n_layers, n_modes)) < 0.1] = 1.0
    r = rng.uniform(0.0, 0.3, n_layers)
    return _model(q, p, r)


def _dense(seed: int, n_layers: int, n_modes: int, *, floor: float = 0.05) -> FailureModeModel:
    """Every cell positive, as the extended catalog with p(not prone) = 0.05 gives."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.05, 0.2, n_modes)
    p = np.where(rng.random((n_layers, n_modes)) < 0.3, rng.uniform(0.3, 0.9), floor)
    r = np.full(n_layers, 0.05)
    return _model(q, p, r)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("density", [0.3, 1.0])
def test_equals_brute_force_on_random_models(seed: int, density: float) -> None:
    model = _random(seed, n_layers=2 + seed % 5, n_modes=9, density=density)
    result = stack_failure_probability(model, method="inclusion-exclusion")
    assert result.method in ("inclusion-exclusion", "dp")  # "dp" only if nothing is left
    assert result.probability == pytest.approx(enumerate_modes(model), rel=1e-10, abs=1e-300)


def test_certain_modes_cells_and_layers_are_preprocessed() -> None:
    q = np.array([1.0, 0.3, 0.0, 0.2])
    p = np.array([[0.5, 1.0, 0.4, 0.2], [0.0, 0.7, 1.0, 0.3], [0.2, 0.0, 0.0, 1.0]])
    model = _model(q, p, np.array([0.0, 0.1, 1.0]))
    value = stack_failure_probability(model, method="inclusion-exclusion").probability
    assert value == pytest.approx(enumerate_modes(model), rel=1e-12)


def test_auto_uses_it_on_dense_stacks_and_it_matches_brute_force() -> None:
    model = _dense(3, n_layers=5, n_modes=16)
    result = compute_stack_failure(model)
    assert (result.engine, result.method) == ("exact", "inclusion-exclusion")
    assert result.probability == pytest.approx(enumerate_modes(model), rel=1e-10)


def test_auto_keeps_the_dp_where_it_is_cheaper() -> None:
    # Independent layers: the DP width is 1, the layer expansion would need 2**8 terms.
    model = _model(np.full(8, 0.1), np.eye(8), np.zeros(8))
    result = stack_failure_probability(model)
    assert result.method == "dp"
    assert result.probability == pytest.approx(1e-8, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_equals_the_mode_dp_where_the_dp_is_fast(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_layers, n_modes = 10, 14
    p = np.zeros((n_layers, n_modes))
    for i in range(n_layers):  # a band: each layer sees a few neighbouring modes
        p[i, i : i + 4] = rng.uniform(0.2, 1.0, 4)
    model = _model(rng.uniform(0.05, 0.4, n_modes), p, rng.uniform(0, 0.1, n_layers))
    by_dp = stack_failure_probability(model, method="dp")
    by_layers = stack_failure_probability(model, method="inclusion-exclusion")
    assert by_layers.method == "inclusion-exclusion"
    assert by_layers.log_probability == pytest.approx(by_dp.log_probability, rel=1e-11)


def test_cancellation_check_refuses_tiny_probabilities_and_auto_falls_back() -> None:
    # Six layers, each with its own rare mode, plus faint shared cells: P(all fail) ~ 1e-24
    # while the alternating terms are of order 1, so no double-precision sum can resolve it.
    n = 6
    p = np.eye(n) + 1e-3 * (1 - np.eye(n))
    model = _model(np.full(n, 1e-4), p, np.zeros(n))
    with pytest.raises(BudgetExceeded, match="cancels"):
        stack_failure_probability(model, method="inclusion-exclusion")
    direct = layer_inclusion.expand_layers(model.q, model.p, model.r)
    assert direct is None
    result = stack_failure_probability(model)  # width 6 > 6 layers is false: DP anyway
    assert result.method == "dp"
    assert result.probability == pytest.approx(enumerate_modes(model), rel=1e-10)


def test_auto_notes_a_refused_expansion_and_uses_the_dp(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 6
    p = np.eye(n) + 1e-3 * (1 - np.eye(n))
    model = _model(np.full(n, 1e-4), p, np.zeros(n))
    monkeypatch.setattr(layer_inclusion, "prefer_layers", lambda *args, **kwargs: True)
    result = stack_failure_probability(model)
    assert result.method == "dp"
    assert any("cancels" in note for note in result.notes)
    assert result.probability == pytest.approx(enumerate_modes(model), rel=1e-10)


def test_error_bound_covers_the_actual_error() -> None:
    # Moderate cancellation: the bound must be at least the observed error against brute force.
    for seed in range(5):
        model = _dense(seed, n_layers=7, n_modes=12, floor=0.02)
        out = layer_inclusion.expand_layers(model.q, model.p, model.r, tolerance=1.0)
        assert out is not None
        error = abs(math.exp(out.log_probability) / enumerate_modes(model) - 1)
        assert error <= max(out.relative_error_bound, 1e-15)
        assert out.relative_error_bound < 1e-10


def test_forced_method_refuses_too_many_layers_and_structures() -> None:
    big = _dense(0, n_layers=layer_inclusion.MAX_LAYERS + 1, n_modes=2)
    with pytest.raises(BudgetExceeded, match="inclusion-exclusion"):
        stack_failure_probability(big, method="inclusion-exclusion")
    small = _dense(0, n_layers=3, n_modes=4)
    voted = FailureModeModel(
        layers=small.layers,
        modes=small.modes,
        q=small.q,
        p=small.p,
        r=small.r,
        structure=Vote(2, small.layers),
    )
    with pytest.raises(ValueError, match="all-miss"):
        stack_failure_probability(voted, method="inclusion-exclusion")


def _no_layers(*args: object, **kwargs: object) -> bool:
    return False


@pytest.mark.parametrize("seed", range(3))
def test_importance_measures_equal_the_dp_gradient(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _dense(seed, n_layers=4, n_modes=11)
    with_layers = importance_measures(model)
    monkeypatch.setattr(layer_inclusion, "prefer_layers", _no_layers)
    with_dp = importance_measures(model)
    by_conditioning = importance_measures(model, method="conditioning")
    assert (with_layers.method, with_dp.method) == ("inclusion-exclusion-gradient", "dp-gradient")
    for reference in (with_dp, by_conditioning):
        assert with_layers.probability == pytest.approx(reference.probability, rel=1e-11)
        np.testing.assert_allclose(
            with_layers.mode_conditioned, reference.mode_conditioned, rtol=1e-10
        )
        np.testing.assert_allclose(
            with_layers.layer_conditioned, reference.layer_conditioned, rtol=1e-10
        )


def test_importance_falls_back_where_a_conditioned_value_cancels() -> None:
    # r_i = 0 for a layer whose only strong mode is m0: P(q_0 = 0) is tiny and cancels.
    q = np.array([0.3, 0.2, 0.25, 0.1])
    p = np.array([[1.0, 1e-6, 1e-6, 1e-6], [0.5, 0.6, 0.4, 0.3], [0.4, 0.2, 0.7, 0.5]])
    model = _model(q, p, np.zeros(3))
    out = layer_inclusion.expand_layers(model.q, model.p, model.r, conditioned=True)
    assert out is not None and out.mode_ratios is not None
    assert np.isnan(out.mode_ratios[0, 0])
    measures = importance_measures(model)
    q0 = q.copy()
    q0[0] = 0.0
    assert measures.mode_conditioned[0, 0] == pytest.approx(
        enumerate_modes(model.with_parameters(q=q0)), rel=1e-9
    )


def test_marginal_values_use_it() -> None:
    model = _dense(7, n_layers=5, n_modes=14)
    values = layer_marginal_values(model)
    assert [value.layer for value in values] == list(model.layers)
    for value in values:
        rest = [layer for layer in model.layers if layer != value.layer]
        assert value.probability_without == pytest.approx(
            enumerate_modes(model.subset(rest)), rel=1e-10
        )
        assert value.probability_with == pytest.approx(enumerate_modes(model), rel=1e-10)
