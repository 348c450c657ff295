"""Importance sampler: unbiased, intervals cover the exact value at about the nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import crude_monte_carlo, importance_sample


def _small_rare_model() -> FailureModeModel:
    """8 layers, 14 modes (one hub), graded cells; P(stack fails) ~ 1.3e-4."""
    rng = np.random.default_rng(21)
    reach = rng.random((8, 14)) < 0.3
    reach[:, 0] = True
    p = np.where(reach, rng.choice([0.5, 0.9, 1.0], size=reach.shape), 0.0)
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(8)),
        modes=tuple(f"m{j}" for j in range(14)),
        q=np.exp(rng.uniform(np.log(1e-3), np.log(3e-2), 14)),
        p=p,
        r=rng.uniform(0.001, 0.01, 8),
    )


def test_interval_coverage_is_near_nominal_over_200_seeds() -> None:
    model = _small_rare_model()
    exact = stack_failure_probability(model).probability
    assert 1e-5 < exact < 1e-3
    covered = 0
    for seed in range(200):
        result = importance_sample(model, n=4_000, pilot=500, seed=seed)
        low, high = result.interval
        covered += low <= exact <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_mean_of_estimates_is_unbiased() -> None:
    model = _small_rare_model()
    exact = stack_failure_probability(model).probability
    results = [importance_sample(model, n=1_000, pilot=500, seed=s) for s in range(60)]
    estimates = np.array([r.estimate for r in results])
    standard_error_of_mean = estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert abs(estimates.mean() - exact) < 4 * standard_error_of_mean


def test_same_seed_same_result_and_metadata_recorded() -> None:
    model = _small_rare_model()
    a = importance_sample(model, n=500, seed=7)
    b = importance_sample(model, n=500, seed=7)
    assert a.estimate == b.estimate and a.standard_error == b.standard_error
    payload = a.to_dict()
    assert payload["seed"] == 7 and payload["n_samples"] == 500
    assert len(payload["tilted_q"]) == model.n_modes
    assert np.all(a.tilted_q >= model.q - 1e-15)  # failure only ever raises a mode's odds


def test_estimates_far_below_1e_minus_300_keep_their_log() -> None:
    n = 40
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n)),
        modes=tuple(f"m{i}" for i in range(n)),
        q=[1e-8] * n,
        p=np.eye(n),
        r=[1e-9] * n,
    )
    exact = stack_failure_probability(model)
    result = importance_sample(model, n=4_000, seed=0)
    assert result.log_estimate == pytest.approx(exact.log_probability, abs=0.1)


def test_crude_monte_carlo_agrees_on_a_common_event_and_sees_nothing_on_a_rare_one() -> None:
    common = FailureModeModel(
        layers=("A", "B"), modes=("X", "Y"), q=[0.4, 0.3], p=[[1.0, 0.5], [0.8, 1.0]], r=[0.1, 0.2]
    )
    exact = stack_failure_probability(common).probability
    crude = crude_monte_carlo(common, n=40_000, seed=1)
    assert abs(crude.estimate - exact) < 4 * crude.standard_error
    rare_model = FailureModeModel(
        layers=("A", "B", "C"), modes=("X", "Y", "Z"), q=[1e-3] * 3, p=np.eye(3), r=[0.0] * 3
    )
    rare = crude_monte_carlo(rare_model, n=20_000, seed=1)  # P = 1e-9: no failure in 20k draws
    assert rare.estimate == 0.0 and math.isinf(rare.relative_error)
