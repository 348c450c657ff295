"""Exact engine: DP, BDD and brute-force enumeration agree; structure and stability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.errors import DdriskError
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.exact import (
    BudgetExceeded,
    enumerate_modes,
    stack_failure_probability,
)
from ddrisk.risk.model import FailureModeModel

PROBABILITIES = st.sampled_from([0.0, 1.0, 0.5, 0.9, 0.01, 0.3, 1e-4])


@st.composite
def small_models(draw, max_layers: int = 6, max_modes: int = 9) -> FailureModeModel:
    """Random small models with graded cells and exact 0/1 probabilities mixed in."""
    n_layers = draw(st.integers(1, max_layers))
    n_modes = draw(st.integers(1, max_modes))
    unit = st.one_of(PROBABILITIES, st.floats(0.0, 1.0))
    q = draw(st.lists(unit, min_size=n_modes, max_size=n_modes))
    p = draw(
        st.lists(
            st.lists(
                st.one_of(PROBABILITIES, st.just(0.0), st.just(1.0)),
                min_size=n_modes,
                max_size=n_modes,
            ),
            min_size=n_layers,
            max_size=n_layers,
        )
    )
    r = draw(st.lists(st.one_of(st.just(0.0), unit), min_size=n_layers, max_size=n_layers))
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=r,
    )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


@settings(max_examples=150, deadline=None)
@given(small_models())
def test_dp_and_bdd_equal_brute_force_enumeration(model: FailureModeModel) -> None:
    reference = enumerate_modes(model)
    dp = stack_failure_probability(model, method="dp")
    bdd = stack_failure_probability(model, method="bdd")
    assert _close(dp.probability, reference), (dp.probability, reference)
    assert _close(bdd.probability, reference), (bdd.probability, reference)
    assert 0.0 <= dp.probability <= 1.0


@settings(max_examples=40, deadline=None)
@given(small_models(max_layers=8, max_modes=12))
def test_exact_never_below_independence_and_never_above_weakest_layer(
    model: FailureModeModel,
) -> None:
    # Shared modes are positively associated (Harris/FKG): joint failure is at least the product
    # of marginals and at most the smallest marginal.
    result = compute_stack_failure(model, engine="exact")
    with np.errstate(divide="ignore"):  # a certain cell makes log(1 - q p) = -inf; harmless
        marginals = model.layer_failure_probabilities()
    assert result.probability >= np.prod(marginals) * (1 - 1e-9) - 1e-300
    assert result.probability <= marginals.min() * (1 + 1e-9) + 1e-300


def _paper_model(shared: bool) -> FailureModeModel:
    layers = tuple(f"L{i}" for i in range(10))
    if shared:
        return FailureModeModel(
            layers=layers, modes=("m",), q=[0.1], p=np.ones((10, 1)), r=[0.0] * 10
        )
    modes = tuple(f"m{i}" for i in range(10))
    return FailureModeModel(layers=layers, modes=modes, q=[0.1] * 10, p=np.eye(10), r=[0.0] * 10)


@pytest.mark.parametrize("method", ["dp", "bdd", "enumerate"])
def test_paper_arithmetic_ten_layers_at_one_in_ten(method: str) -> None:
    independent = stack_failure_probability(_paper_model(shared=False), method=method)
    shared = stack_failure_probability(_paper_model(shared=True), method=method)
    assert independent.probability == pytest.approx(1e-10, rel=1e-12)
    assert shared.probability == pytest.approx(0.1, rel=1e-12)


def test_paper_arithmetic_through_the_engine_summary() -> None:
    result = compute_stack_failure(_paper_model(shared=True))
    assert result.layer_marginals == pytest.approx([0.1] * 10)
    assert result.independence_prediction == pytest.approx(1e-10)
    assert result.correlation_penalty == pytest.approx(1e9)
    assert result.effective_layers == pytest.approx(1.0)
    independent = compute_stack_failure(_paper_model(shared=False))
    assert independent.correlation_penalty == pytest.approx(1.0)
    assert independent.effective_layers == pytest.approx(10.0)


def test_forty_private_modes_reach_1e_minus_320_in_log_space() -> None:
    n = 40
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n)),
        modes=tuple(f"m{i}" for i in range(n)),
        q=[1e-8] * n,
        p=np.eye(n),
        r=[0.0] * n,
    )
    for method in ("dp", "bdd"):
        result = stack_failure_probability(model, method=method)
        assert result.log_probability == pytest.approx(n * math.log(1e-8), rel=1e-12)
        assert result.n_components == n
    engine = compute_stack_failure(model)
    assert engine.log_probability == pytest.approx(-736.827, abs=1e-3)
    assert engine.log_independence_prediction == pytest.approx(engine.log_probability)


def test_tiny_probability_inside_one_component_keeps_relative_accuracy() -> None:
    # A chain: layer i is hit by modes i and i+1. No decomposition applies; P ~ 1e-336, below
    # the smallest double, must still come out accurately in log space.
    n_layers = 42
    n_modes = n_layers + 1
    p = np.zeros((n_layers, n_modes))
    for i in range(n_layers):
        p[i, i] = p[i, i + 1] = 1.0
    q = np.full(n_modes, 1e-16)
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=[0.0] * n_layers,
    )
    # The only smallest cover is the 21 odd modes; every other cover has more modes, so its
    # share is below 1e-14 and log P = 21 log q + 22 log(1 - q) to rounding.
    expected = 21 * math.log(1e-16) + 22 * math.log1p(-1e-16)
    for method in ("dp", "bdd"):
        result = stack_failure_probability(model, method=method)
        assert result.probability == 0.0  # below the smallest subnormal double
        assert result.log_probability == pytest.approx(expected, rel=1e-13)
    assert result.n_components == 1


def test_graded_cells_match_hand_computation() -> None:
    # One mode, two layers, cells 0.5 and 0.8, residuals 0.1 and 0.
    model = FailureModeModel(
        layers=("A", "B"), modes=("X",), q=[0.2], p=[[0.5], [0.8]], r=[0.1, 0.0]
    )
    expected = 0.2 * (1 - 0.9 * 0.5) * 0.8
    for method in ("dp", "bdd", "enumerate"):
        assert stack_failure_probability(model, method=method).probability == pytest.approx(
            expected
        )


def test_components_multiply_and_irrelevant_modes_are_ignored() -> None:
    model = FailureModeModel(
        layers=("A", "B", "C"),
        modes=("X", "Y", "unused"),
        q=[0.3, 0.4, 0.9],
        p=[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        r=[0.0, 0.0, 0.1],
    )
    result = stack_failure_probability(model)
    assert result.n_components == 2
    assert result.probability == pytest.approx(0.3 * (0.4 + 0.6 * 0.1))


def test_layer_without_any_way_to_fail_gives_zero() -> None:
    model = FailureModeModel(
        layers=("A", "B"), modes=("X",), q=[0.5], p=[[1.0], [0.0]], r=[0.0, 0.0]
    )
    result = stack_failure_probability(model)
    assert result.probability == 0.0
    assert result.log_probability == -math.inf


def test_budget_exceeded_is_a_ddrisk_error_and_auto_falls_back_to_bdd() -> None:
    rng = np.random.default_rng(3)
    p = (rng.random((12, 14)) < 0.5).astype(float)
    p[:, 0] = 1.0
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(12)),
        modes=tuple(f"m{j}" for j in range(14)),
        q=rng.uniform(0.05, 0.3, 14),
        p=p,
        r=[0.01] * 12,
    )
    with pytest.raises(BudgetExceeded) as caught:
        stack_failure_probability(model, method="dp", state_budget=4)
    assert isinstance(caught.value, DdriskError)
    fallback = stack_failure_probability(model, method="auto", state_budget=4)
    assert fallback.method == "bdd"
    assert fallback.probability == pytest.approx(enumerate_modes(model), rel=1e-9)
    with pytest.raises(BudgetExceeded):
        stack_failure_probability(model, method="bdd", node_budget=3)


def test_engine_auto_switches_to_sampling_and_says_so() -> None:
    rng = np.random.default_rng(5)
    p = (rng.random((8, 10)) < 0.6).astype(float)
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(8)),
        modes=tuple(f"m{j}" for j in range(10)),
        q=rng.uniform(0.1, 0.4, 10),
        p=p,
        r=[0.05] * 8,
    )
    exact = compute_stack_failure(model, engine="exact")
    auto = compute_stack_failure(model, engine="auto", state_budget=2, node_budget=2, seed=11)
    assert exact.note is None and exact.standard_error is None
    assert auto.engine == "sample"
    assert auto.note is not None and "budget" in auto.note
    assert auto.interval is not None and auto.standard_error is not None
    assert abs(auto.probability - exact.probability) < 5 * auto.standard_error
    with pytest.raises(BudgetExceeded):
        compute_stack_failure(model, engine="exact", state_budget=2, node_budget=2)
    payload = auto.to_dict()
    assert payload["seed"] == 11 and payload["parameters"]["q"] == list(model.q)
    assert len(payload["model_hash"]) == 64


def test_enumeration_refuses_large_models() -> None:
    n = 30
    model = FailureModeModel(
        layers=("A",),
        modes=tuple(f"m{j}" for j in range(n)),
        q=[0.1] * n,
        p=np.ones((1, n)),
        r=[0.0],
    )
    with pytest.raises(BudgetExceeded):
        enumerate_modes(model)
    assert stack_failure_probability(model).probability == pytest.approx(1 - 0.9**n)
