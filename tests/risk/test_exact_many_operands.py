"""The DP engine on modes shared by more layers than one numpy.einsum call accepts (64)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel


def _wide_model(n_layers: int) -> FailureModeModel:
    p = np.zeros((n_layers, 3))
    p[:, 0] = 0.9
    p[:, 1] = 0.5
    p[::2, 2] = 1.0
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=("a", "b", "c"),
        q=np.array([0.01, 0.1, 0.05]),
        p=p,
        r=np.linspace(0.005, 0.02, n_layers),
    )


def _brute_force(model: FailureModeModel) -> float:
    """Sum over the 2^3 mode outcomes; layers are independent given the modes."""
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=model.n_modes):
        weight = float(np.prod([q if x else 1 - q for q, x in zip(model.q, outcome, strict=True)]))
        survive = (1 - model.r) * np.prod(
            [1 - model.p[:, j] for j, x in enumerate(outcome) if x] or [np.ones(model.n_layers)],
            axis=0,
        )
        total += weight * float(np.prod(1 - survive))
    return total


@pytest.mark.parametrize("n_layers", [64, 65, 150])
def test_dp_handles_modes_shared_by_more_layers_than_einsum_takes(n_layers: int) -> None:
    model = _wide_model(n_layers)
    result = compute_stack_failure(model, engine="exact")
    assert result.exact is not None and result.exact.method == "dp"
    assert result.probability == pytest.approx(_brute_force(model), rel=1e-12)


def test_gradients_through_folded_products_match_conditioning() -> None:
    """The reverse pass (importance) also folds its products; check it against two solves."""
    model = _wide_model(80)
    measures = importance_measures(model)
    for j in range(model.n_modes):
        for value, column in ((0.0, 0), (1.0, 1)):
            q = model.q.copy()
            q[j] = value
            conditioned = FailureModeModel(
                layers=model.layers, modes=model.modes, q=q, p=model.p, r=model.r
            )
            expected = _brute_force(conditioned)
            assert measures.mode_conditioned[j, column] == pytest.approx(expected, rel=1e-10)
