"""Seeded statistical checks of the sampler's interval on the hard family (not timed).

The family is dense, low-regime, with 8 hub modes and graded cells
(:func:`ddrisk.risk.hard_stacks.hard_stack`); the exact DP gives the truth. With fixed seeds
the outcome is deterministic, so the thresholds are calibration checks a regression fails.
The cross-entropy product-tilt sampler this package used before (commit 08c1067) covered the
exact value in 66/82/93 of 100 seeds on members 0/1/2; run against these tests it covers in
27 and 31 of 40 seeds on members 0 and 1 and in 30 of 40 on the smaller stack, so it fails
three of the four all-miss coverage cases (each asks for about 90 %); it passes the
routes-and-vote case (27 of 30), which guards the structured path against regressions.
"""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from ddrisk.risk import structure as st
from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.hard_stacks import hard_stack
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import importance_sample


def _score(
    model: FailureModeModel, seeds: range, n: int, *, rare: float = 1e-7
) -> tuple[int, list[float], list[float]]:
    """(seeds whose 95 % interval covers the exact value, actual and reported rel. errors)."""
    exact = stack_failure_probability(model).probability
    assert exact < rare
    covered, actual, reported = 0, [], []
    for seed in seeds:
        result = importance_sample(model, n=n, seed=seed)
        covered += result.interval[0] <= exact <= result.interval[1]
        actual.append(abs(result.estimate / exact - 1))
        reported.append(result.relative_error)
    return covered, actual, reported


@pytest.mark.slow
@pytest.mark.parametrize("member", [0, 1, 2])
def test_interval_covers_at_about_the_nominal_rate_on_full_size_hard_stacks(member: int) -> None:
    covered, actual, reported = _score(hard_stack(member), range(40), 20_000)
    assert covered >= 36, f"95 % interval covered the exact value in {covered} of 40 seeds"
    assert statistics.median(actual) < 0.02
    # the reported error is honest: not smaller than the actual error it stands for
    assert statistics.median(reported) >= 0.8 * statistics.median(actual)


def test_interval_coverage_and_actual_error_on_a_smaller_hard_stack() -> None:
    covered, actual, reported = _score(
        hard_stack(2, n_layers=20, n_modes=28, n_hubs=6), range(40), 4000
    )
    assert covered >= 34, f"95 % interval covered the exact value in {covered} of 40 seeds"
    assert statistics.median(reported) >= 0.8 * statistics.median(actual)
    assert statistics.median(actual) <= 2.0 * statistics.median(reported)


def test_small_effective_sample_size_is_reported_and_warned() -> None:
    # deliberately bad: no hub conditioned on, 300 draws, on a stack whose failure needs hubs
    bad = importance_sample(hard_stack(0), n=300, seed=0, pilot=200, max_strata_bits=0)
    assert bad.n_strata == 1 and bad.conditioned_modes == ()
    assert bad.effective_sample_size < 30
    assert bad.warning is not None and "effective sample size" in bad.warning
    assert bad.to_dict()["warning"] == bad.warning
    good = importance_sample(hard_stack(0), n=20_000, seed=0)
    assert good.n_strata == 256 and len(good.conditioned_modes) == 8
    assert good.effective_sample_size > 2_000 and good.warning is None


@pytest.mark.slow
def test_interval_covers_on_a_hard_stack_with_routes_and_a_vote() -> None:
    base = hard_stack(0, n_layers=16, n_modes=24, n_hubs=5)
    layers = base.layers
    structure = st.AnyRoute(
        (st.AllMiss(layers[:8]), st.AllMiss((*layers[8:13], st.Vote(2, layers[13:16]))))
    )
    model = dataclasses.replace(base, structure=structure)
    covered, actual, reported = _score(model, range(30), 20_000, rare=1e-4)
    assert covered >= 27, f"95 % interval covered the exact value in {covered} of 30 seeds"
    assert statistics.median(actual) < 0.03
    assert statistics.median(reported) >= 0.8 * statistics.median(actual)
