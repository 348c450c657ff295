"""Dependence models: the paper's arithmetic, limits, and agreement with independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ddrisk.risk.dependence import (
    BETA_FACTOR,
    COPULA,
    FAILURE_MODE,
    INDEPENDENCE,
    MEANINGS,
    PERFECT,
    beta_factor_all_fail,
    comonotone_all_fail,
    compare_dependence_models,
    compare_on_marginals,
    gaussian_copula_all_fail,
    identical_layers_curve,
    independent_all_fail,
    paper_example,
    stack_curve,
)
from ddrisk.risk.model import FailureModeModel
from tests.risk.support import brute_force_probability, small_models

SETTINGS = settings(max_examples=40, deadline=None)
marginal_lists = st.lists(st.floats(1e-6, 0.999), min_size=1, max_size=12)


def test_paper_arithmetic_is_reproduced():
    example = paper_example()
    assert example.independent == pytest.approx(1e-10, rel=1e-14)
    assert example.perfectly_correlated == 0.1
    curve = identical_layers_curve(0.1, 10)
    np.testing.assert_allclose(
        curve.series[INDEPENDENCE], [0.1**n for n in range(1, 11)], rtol=1e-14
    )
    assert np.all(curve.series[PERFECT] == 0.1)
    frame = curve.to_frame()
    assert list(frame.columns) == ["n_layers", INDEPENDENCE, PERFECT, BETA_FACTOR, COPULA]
    assert frame[INDEPENDENCE].iloc[-1] == pytest.approx(1e-10)


@SETTINGS
@given(marginal_lists, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_every_model_lies_between_independence_and_perfect_correlation(marginals, beta, rho):
    low, high = independent_all_fail(marginals), comonotone_all_fail(marginals)
    assert high == min(marginals)
    for value in (beta_factor_all_fail(marginals, beta), gaussian_copula_all_fail(marginals, rho)):
        assert low * (1 - 1e-9) <= value <= high * (1 + 1e-9)


@SETTINGS
@given(marginal_lists)
def test_parameter_limits(marginals):
    independent, perfect = independent_all_fail(marginals), comonotone_all_fail(marginals)
    assert beta_factor_all_fail(marginals, 0.0) == pytest.approx(independent, rel=1e-9)
    assert beta_factor_all_fail(marginals, 1.0) == pytest.approx(perfect, rel=1e-12)
    assert gaussian_copula_all_fail(marginals, 0.0) == pytest.approx(independent, rel=1e-12)
    assert gaussian_copula_all_fail(marginals, 1.0) == perfect
    # Approaching rho = 1 from below converges to the comonotone value.
    gaps = [perfect - gaussian_copula_all_fail(marginals, 1 - eps) for eps in (1e-2, 1e-4, 1e-8)]
    tolerance = 1e-10 * perfect
    assert gaps[0] + tolerance >= gaps[1] and gaps[1] + tolerance >= gaps[2] >= -tolerance
    assert gaps[2] <= 1e-3 * perfect


@SETTINGS
@given(marginal_lists, st.floats(0.0, 1.0))
def test_beta_factor_keeps_each_marginal_and_is_a_one_mode_failure_model(marginals, beta):
    m = np.array(marginals)
    common = beta * m.min()
    independent_parts = 1 - (1 - m) / (1 - common)
    np.testing.assert_allclose(
        1 - (1 - common) * (1 - independent_parts), m, rtol=1e-12, atol=1e-15
    )
    if len(m) <= 6:
        # The beta-factor model is the failure-mode model with one mode hitting every layer.
        one_mode = FailureModeModel(
            layers=tuple(f"L{i}" for i in range(len(m))),
            modes=("common",),
            q=[common],
            p=np.ones((len(m), 1)),
            r=np.clip(independent_parts, 0, 1),
        )
        assert beta_factor_all_fail(m, beta) == pytest.approx(
            brute_force_probability(one_mode), rel=1e-9, abs=1e-300
        )


@pytest.mark.parametrize(("n", "marginal", "rho"), [(3, 0.2, 0.4), (5, 0.3, 0.5), (6, 0.5, 0.8)])
def test_copula_matches_scipy_multivariate_normal(n, marginal, rho):
    cov = np.full((n, n), rho) + (1 - rho) * np.eye(n)
    mvn = stats.multivariate_normal(np.zeros(n), cov, abseps=1e-6, releps=1e-5, seed=1)
    reference = mvn.cdf(np.full(n, stats.norm.ppf(marginal)))
    assert gaussian_copula_all_fail([marginal] * n, rho) == pytest.approx(reference, rel=1e-4)


def test_copula_matches_direct_simulation_for_twenty_layers():
    # 20 layers: check against a large seeded simulation of the latent normals.
    rng = np.random.default_rng(7)
    n, marginal, rho, draws = 20, 0.5, 0.8, 400_000
    common = rng.standard_normal(draws)[:, None]
    latent = math.sqrt(rho) * common + math.sqrt(1 - rho) * rng.standard_normal((draws, n))
    simulated = np.mean(np.all(latent < stats.norm.ppf(marginal), axis=1))
    stderr = math.sqrt(simulated * (1 - simulated) / draws)
    assert abs(gaussian_copula_all_fail([marginal] * n, rho) - simulated) < 4 * stderr


def test_copula_stays_accurate_far_in_the_tail():
    # rho = 0 reduces to the product exactly, even at 1e-150, and small rho stays continuous.
    assert gaussian_copula_all_fail([1e-3] * 50, 0.0) == pytest.approx(1e-150, rel=1e-12)
    tiny = gaussian_copula_all_fail([1e-3] * 50, 1e-9)
    assert tiny == pytest.approx(1e-150, rel=1e-3)


@SETTINGS
@given(small_models(max_layers=4, max_modes=4), st.floats(0.0, 1.0), st.floats(0.0, 0.99))
def test_comparison_uses_one_set_of_marginals(model, beta, rho):
    exact = brute_force_probability(model)
    comparison = compare_dependence_models(
        model, beta=beta, rho=rho, failure_mode_probability=exact
    )
    marginals = model.layer_failure_probabilities()
    assert [row.model for row in comparison.rows] == [
        INDEPENDENCE,
        PERFECT,
        FAILURE_MODE,
        BETA_FACTOR,
        COPULA,
    ]
    assert comparison.row(INDEPENDENCE).probability == pytest.approx(
        np.prod(marginals), rel=1e-12, abs=1e-300
    )
    assert comparison.row(PERFECT).probability == pytest.approx(marginals.min())
    assert comparison.row(FAILURE_MODE).probability == exact
    # Positive association (a monotone function of independent events) keeps the failure-mode
    # model between independence and perfect correlation.
    assert (
        np.prod(marginals) * (1 - 1e-9) - 1e-300 <= exact <= marginals.min() * (1 + 1e-9) + 1e-300
    )
    for row in comparison.rows:
        assert row.meaning == MEANINGS[row.model]
    if comparison.implied_beta is not None and 0 < comparison.implied_beta < 1:
        assert beta_factor_all_fail(marginals, comparison.implied_beta) == pytest.approx(
            exact, rel=1e-6
        )
    if comparison.implied_rho is not None and 0 < comparison.implied_rho < 1:
        assert gaussian_copula_all_fail(marginals, comparison.implied_rho) == pytest.approx(
            exact, rel=1e-6
        )


def test_stack_curve_and_serialisation(builtin, monkeypatch):
    from ddrisk.risk import dependence
    from ddrisk.risk.parameters import resolve_parameters

    monkeypatch.setattr(
        dependence, "_failure_mode_probability", lambda m, *_: brute_force_probability(m)
    )
    model = resolve_parameters(builtin, ["RLHF", "RE", "SCIAI"]).model
    curve = stack_curve(model)
    assert curve.layers == ("RLHF", "RE", "SCIAI")
    fm = curve.series[FAILURE_MODE]
    assert fm[0] == pytest.approx(model.layer_failure_probabilities()[0])
    assert np.all(np.diff(fm) <= 0)  # adding a layer never raises P(all fail)
    assert fm[-1] == pytest.approx(brute_force_probability(model))
    data = curve.to_dict()
    assert set(data["series"]) == {INDEPENDENCE, PERFECT, FAILURE_MODE, BETA_FACTOR, COPULA}
    assert curve.to_frame()["added_layer"].tolist() == ["RLHF", "RE", "SCIAI"]


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError, match="beta"):
        beta_factor_all_fail([0.1], 1.5)
    with pytest.raises(ValueError, match="rho"):
        gaussian_copula_all_fail([0.1, 0.2], -0.1)
    with pytest.raises(ValueError, match="marginals"):
        compare_on_marginals([])
