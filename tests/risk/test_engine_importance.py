"""Importance measures: gradient pass == conditioning == finite differences; sensible ranking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.risk.exact import enumerate_modes, stack_failure_probability
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel


def _with(model: FailureModeModel, *, q=None, r=None) -> FailureModeModel:
    return FailureModeModel(
        layers=model.layers,
        modes=model.modes,
        q=model.q if q is None else q,
        p=model.p,
        r=model.r if r is None else r,
    )


@st.composite
def interior_models(draw) -> FailureModeModel:
    n_layers = draw(st.integers(1, 5))
    n_modes = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    p = np.where(
        rng.random((n_layers, n_modes)) < 0.6, rng.choice([0.3, 0.8, 1.0], (n_layers, n_modes)), 0.0
    )
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=rng.uniform(0.05, 0.6, n_modes),
        p=p,
        r=rng.uniform(0.01, 0.3, n_layers),
    )


@settings(max_examples=60, deadline=None)
@given(interior_models())
def test_birnbaum_matches_central_finite_differences(model: FailureModeModel) -> None:
    measures = importance_measures(model)
    modes = measures.to_frame("modes")
    layers = measures.to_frame("layers")
    h = 1e-5
    for j in range(model.n_modes):
        up, down = model.q.copy(), model.q.copy()
        up[j] += h
        down[j] -= h
        slope = (enumerate_modes(_with(model, q=up)) - enumerate_modes(_with(model, q=down))) / (
            2 * h
        )
        assert modes.birnbaum[j] == pytest.approx(slope, rel=1e-6, abs=1e-10)
    for i in range(model.n_layers):
        up, down = model.r.copy(), model.r.copy()
        up[i] += h
        down[i] -= h
        slope = (enumerate_modes(_with(model, r=up)) - enumerate_modes(_with(model, r=down))) / (
            2 * h
        )
        assert layers.birnbaum[i] == pytest.approx(slope, rel=1e-6, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(interior_models())
def test_gradient_pass_equals_conditioning(model: FailureModeModel) -> None:
    fast = importance_measures(model)
    slow = importance_measures(model, method="conditioning")
    for kind in ("modes", "layers"):
        a, b = fast.to_frame(kind), slow.to_frame(kind)
        for column in (
            "p_if_impossible",
            "p_if_certain",
            "fussell_vesely",
            "risk_achievement_worth",
        ):
            np.testing.assert_allclose(a[column], b[column], rtol=1e-9, atol=1e-15)


def test_definitions_on_a_hand_model() -> None:
    # A and B share mode X (certain hit); B also has its own mode Y. P = q_X + (1-q_X) r_A q_Y.
    model = FailureModeModel(
        layers=("A", "B"), modes=("X", "Y"), q=[0.1, 0.2], p=[[1.0, 0.0], [1.0, 1.0]], r=[0.05, 0.0]
    )
    measures = importance_measures(model)
    p = 0.1 + 0.9 * 0.05 * 0.2
    assert measures.probability == pytest.approx(p)
    modes = measures.to_frame("modes").set_index("mode")
    assert modes.loc["X", "p_if_certain"] == pytest.approx(1.0)
    assert modes.loc["X", "p_if_impossible"] == pytest.approx(0.05 * 0.2)
    assert modes.loc["X", "fussell_vesely"] == pytest.approx((p - 0.01) / p)
    assert modes.loc["Y", "risk_achievement_worth"] == pytest.approx((0.1 + 0.9 * 0.05) / p)
    assert modes.loc["Y", "risk_reduction_worth"] == pytest.approx(p / 0.1)
    layers = measures.to_frame("layers").set_index("layer")
    assert layers.loc["A", "p_if_certain"] == pytest.approx(0.1 + 0.9 * 0.2)
    assert layers.loc["A", "p_if_impossible"] == pytest.approx(0.1)
    assert layers.loc["B", "birnbaum"] == pytest.approx(0.9 * 0.05 * (1 - 0.2))
    assert list(measures.research_priorities()["mode"]) == ["X", "Y"]
    payload = measures.to_dict()
    assert payload["research_priorities"] == ["X", "Y"]
    assert payload["modes"][0]["mode"] == "X"


def test_events_at_exactly_zero_or_one_are_conditioned_correctly() -> None:
    # q = 0, q = 1 and r = 1 are removed by preprocessing; the measures must still be right.
    model = FailureModeModel(
        layers=("A", "B", "C"),
        modes=("never", "always", "sometimes"),
        q=[0.0, 1.0, 0.3],
        p=[[1.0, 0.5, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
        r=[0.1, 0.0, 1.0],
    )
    measures = importance_measures(model)
    for j in range(3):
        for x in (0.0, 1.0):
            q = model.q.copy()
            q[j] = x
            expected = enumerate_modes(_with(model, q=q))
            assert measures.mode_conditioned[j, int(x)] == pytest.approx(expected, abs=1e-15)
    for i in range(3):
        for x in (0.0, 1.0):
            r = model.r.copy()
            r[i] = x
            expected = enumerate_modes(_with(model, r=r))
            assert measures.layer_conditioned[i, int(x)] == pytest.approx(expected, abs=1e-15)
    assert measures.probability == pytest.approx(stack_failure_probability(model).probability)
