"""Importance sampler: unbiased, intervals cover the exact value at about the nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddrisk.risk import structure as st
from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import _stratified_statistics, crude_monte_carlo, importance_sample


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


def _random_model(seed: int, *, structure: st.Node | None = None) -> FailureModeModel:
    """6 layers, 12 modes reaching 1-4 layers each, graded cells; small enough for brute force."""
    rng = np.random.default_rng(seed)
    reach = rng.random((6, 12)) < 0.35
    p = np.where(reach, rng.choice([0.5, 0.8, 1.0], size=reach.shape), 0.0)
    layers = tuple("ABCDEF")
    return FailureModeModel(
        layers=layers,
        modes=tuple(f"m{j}" for j in range(12)),
        q=np.exp(rng.uniform(np.log(1e-3), np.log(0.1), 12)),
        p=p,
        r=rng.uniform(1e-3, 0.05, 6),
        structure=structure,
    )


def _brute_force(model: FailureModeModel) -> float:
    """Sum over every joint mode outcome of P(outcome) * P(stack fails | outcome)."""
    import itertools

    from ddrisk.risk.structure import conditioned_log_failure

    node = model.structure or st.all_miss(model.layers)
    index = {layer: i for i, layer in enumerate(model.layers)}
    x = np.array(list(itertools.product((False, True), repeat=model.n_modes)), dtype=bool)
    weight = np.prod(np.where(x, model.q[None, :], 1 - model.q[None, :]), axis=1)
    keep = (1 - model.r)[None, :] * np.prod(
        np.where(x[:, None, :], 1 - model.p[None, :, :], 1.0), axis=2
    )
    log_fail = np.log(1 - keep)
    return float(weight @ np.exp(conditioned_log_failure(node, log_fail, index)))


@pytest.mark.parametrize(
    "structure",
    [None, st.AnyRoute((st.AllMiss(("A", "B", "C")), st.Vote(2, ("D", "E", "F")), "A"))],
    ids=["all_miss", "routes_and_vote"],
)
def test_stratified_estimates_are_unbiased_against_brute_force(structure: st.Node | None) -> None:
    model = _random_model(5, structure=structure)
    truth = _brute_force(model)
    assert stack_failure_probability(model).probability == pytest.approx(truth, rel=1e-9)
    # two hubs conditioned on, the rest sampled: the mean over seeds must match the truth
    results = [
        importance_sample(model, n=400, pilot=64, seed=s, max_strata_bits=2) for s in range(80)
    ]
    assert all(r.n_strata == 4 for r in results)
    estimates = np.array([r.estimate for r in results])
    standard_error_of_mean = estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert abs(estimates.mean() - truth) < 4 * standard_error_of_mean
    # and each run's interval covers it in most seeds
    covered = sum(r.interval[0] <= truth <= r.interval[1] for r in results)
    assert covered >= 68


def test_conditioning_on_every_shared_mode_is_exact() -> None:
    model = _random_model(8)
    shared = int(((model.p > 0).sum(axis=0) > 1).sum())
    assert 0 < shared <= 10
    result = importance_sample(model, n=20_000, seed=0, max_strata_bits=10)
    assert result.n_strata == 2**shared and result.standard_error == 0.0
    assert "exact" in result.method and result.n_samples == 0
    assert result.estimate == pytest.approx(stack_failure_probability(model).probability, rel=1e-9)


def test_a_stratum_whose_draws_agree_still_reports_variance() -> None:
    # stratum 0: draws vary; stratum 1: two identical draws (sample variance 0)
    log_terms = np.log(np.array([1.0, 3.0, 2.0, 2.0, 5.0, 5.0]))
    stratum = np.array([0, 0, 0, 0, 1, 1])
    counts = np.array([4, 2])
    log_prob = np.log(np.array([0.5, 0.5]))
    stats = _stratified_statistics(log_terms, stratum, counts, log_prob, None)
    assert math.exp(stats.log_estimate) == pytest.approx(0.5 * 2.0 + 0.5 * 5.0)
    naive = math.sqrt(0.25 * np.var([1.0, 3.0, 2.0, 2.0], ddof=1) / 4)
    assert stats.standard_error > 1.2 * naive  # the agreeing stratum was charged the pooled CV
    # an all-zero stratum is charged the variance its upper bound allows
    zero = _stratified_statistics(
        np.array([0.0, 0.0, -np.inf, -np.inf]),
        np.array([0, 0, 1, 1]),
        np.array([2, 2]),
        log_prob,
        np.array([0.0, math.log(0.1)]),
    )
    assert zero.standard_error == pytest.approx(math.sqrt(0.25 * 0.01 / 8))


def test_same_seed_same_result_and_metadata_recorded() -> None:
    model = _small_rare_model()
    a = importance_sample(model, n=500, seed=7)
    b = importance_sample(model, n=500, seed=7)
    c = importance_sample(model, n=500, seed=8)
    assert a.estimate == b.estimate and a.standard_error == b.standard_error
    assert c.estimate != a.estimate
    payload = a.to_dict()
    assert payload["seed"] == 7 and payload["n_samples"] == 500
    assert payload["n_strata"] == a.n_strata > 1
    assert payload["conditioned_modes"] == list(a.conditioned_modes)
    assert "stratified" in str(payload["method"])
    assert np.asarray(payload["tilted_q"]).shape == (model.n_modes,)
    assert np.all((a.tilted_q >= 0) & (a.tilted_q <= 1))


def test_estimates_far_below_1e_minus_300_keep_their_log() -> None:
    n = 40
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n)),
        modes=tuple(f"m{i}" for i in range(n)),
        q=np.full(n, 1e-8),
        p=np.eye(n),
        r=np.full(n, 1e-9),
    )
    exact = stack_failure_probability(model)
    result = importance_sample(model, n=4_000, seed=0)
    assert result.log_estimate == pytest.approx(exact.log_probability, abs=0.1)


def test_sampled_estimates_far_below_1e_minus_300_keep_their_log() -> None:
    # a ring: mode j fails layer j for sure and layer j + 1 half the time, so every mode is
    # shared and, past the conditioned hubs, sampled; P ~ 1e-326 underflows as a float
    n = 40
    p = np.zeros((n, n))
    for j in range(n):
        p[j, j], p[(j + 1) % n, j] = 1.0, 0.5
    model = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n)),
        modes=tuple(f"m{i}" for i in range(n)),
        q=np.full(n, 1e-16),
        p=p,
        r=np.full(n, 1e-17),
    )
    exact = stack_failure_probability(model)
    assert exact.log_probability < math.log(1e-300)
    result = importance_sample(model, n=4_000, seed=0)
    assert result.n_strata > 1 and "layer-sequential" in result.method
    assert result.estimate == 0.0 and math.isfinite(result.relative_error)
    assert result.log_estimate == pytest.approx(exact.log_probability, abs=0.01)


def test_crude_monte_carlo_agrees_on_a_common_event_and_sees_nothing_on_a_rare_one() -> None:
    common = FailureModeModel(
        layers=("A", "B"),
        modes=("X", "Y"),
        q=np.array([0.4, 0.3]),
        p=np.array([[1.0, 0.5], [0.8, 1.0]]),
        r=np.array([0.1, 0.2]),
    )
    exact = stack_failure_probability(common).probability
    crude = crude_monte_carlo(common, n=40_000, seed=1)
    assert abs(crude.estimate - exact) < 4 * crude.standard_error
    rare_model = FailureModeModel(
        layers=("A", "B", "C"),
        modes=("X", "Y", "Z"),
        q=np.full(3, 1e-3),
        p=np.eye(3),
        r=np.zeros(3),
    )
    rare = crude_monte_carlo(rare_model, n=20_000, seed=1)  # P = 1e-9: no failure in 20k draws
    assert rare.estimate == 0.0 and math.isinf(rare.relative_error)
