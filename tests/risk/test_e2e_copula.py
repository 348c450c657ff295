"""The vectorised Gaussian-copula quadrature against the adaptive one it replaced, and limits.

:mod:`ddrisk.risk.copula` computes every prefix of a stack with one fixed set of panels. The
reference here is the previous implementation (adaptive ``scipy.integrate.quad`` per prefix,
kept below as the oracle), a dense independent trapezoid rule for values below the double
range, SciPy's multivariate normal CDF for two and three layers, and the closed-form limits.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from ddrisk.risk.copula import copula_log_all_fail
from ddrisk.risk.dependence import (
    _root,
    compare_on_marginals,
    gaussian_copula_all_fail,
    gaussian_copula_log_all_fail,
    identical_layers_curve,
)


def _quad_reference(values: np.ndarray, rho: float) -> float:
    """log of the adaptive-quadrature integral ddrisk used before (one call per prefix)."""
    values = values[values < 1.0]
    if values.size == 1:
        return math.log(float(values[0]))
    thresholds = special.ndtri(values)
    load, spread = math.sqrt(rho), math.sqrt(1.0 - rho)

    def log_integrand(w: float) -> float:
        return float(
            -0.5 * w * w
            - 0.5 * math.log(2 * math.pi)
            + special.log_ndtr((thresholds - load * w) / spread).sum()
        )

    bound = min(40.0 + float(np.abs(thresholds).max()) / load, 1e4)
    peak = optimize.minimize_scalar(
        lambda w: -log_integrand(w),
        bounds=(-bound, bound),
        method="bounded",
        options={"xatol": 1e-10},
    )
    centre, top = float(peak.x), log_integrand(float(peak.x))

    def edge(direction: float) -> float:
        step = 1e-3
        while log_integrand(centre + direction * step) > top - 60.0:
            step *= 2.0
        return float(
            optimize.brentq(
                lambda w: log_integrand(w) - (top - 60.0), centre, centre + direction * step
            )
        )

    lower, upper = edge(-1.0), edge(1.0)
    width = spread / load
    points = {centre}
    for cliff in np.unique(thresholds / load):
        for offset in (-30.0, -10.0, -3.0, -1.0, 0.0, 1.0, 3.0, 10.0, 30.0):
            point = float(cliff + offset * width)
            if lower < point < upper:
                points.add(point)
    value, _ = integrate.quad(
        lambda w: math.exp(log_integrand(w) - top),
        lower,
        upper,
        points=sorted(points),
        limit=400 + 2 * len(points),
        epsabs=0.0,
        epsrel=1e-11,
    )
    return math.log(value) + top


def _trapezoid_reference(values: np.ndarray, rho: float) -> float:
    """A dense uniform trapezoid rule in log space (exponentially accurate for this integrand)."""
    thresholds = special.ndtri(values)
    load, spread = math.sqrt(rho), math.sqrt(1.0 - rho)
    w = np.linspace(-60.0, 60.0, 400_001)
    log_f = -0.5 * w * w - 0.5 * math.log(2 * math.pi)
    for threshold in thresholds:
        log_f = log_f + special.log_ndtr((threshold - load * w) / spread)
    return float(special.logsumexp(log_f) + math.log(w[1] - w[0]))


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.5, 0.8, 0.95, 0.99, 0.999])
def test_curve_matches_the_adaptive_quadrature_on_every_prefix(rho: float) -> None:
    rng = np.random.default_rng(int(rho * 1000))
    for kind in range(3):
        n = int(rng.integers(2, 25))
        if kind == 0:
            marginals = rng.uniform(0.001, 0.3, n)
        elif kind == 1:
            marginals = 10 ** rng.uniform(-12, -0.2, n)
        else:
            marginals = rng.uniform(0.5, 0.999, n)
        logs = copula_log_all_fail(marginals, rho, every_prefix=True)
        reference = [_quad_reference(marginals[:k], rho) for k in range(1, n + 1)]
        np.testing.assert_allclose(np.exp(logs - np.array(reference)), 1.0, rtol=1e-8, atol=0)


def test_values_far_below_the_double_range_keep_their_digits() -> None:
    marginals = np.array([1e-200, 3e-150, 2e-180, 5e-120])
    for rho in (0.2, 0.7):
        logs = copula_log_all_fail(marginals, rho, every_prefix=True)
        for k in range(2, marginals.size + 1):
            truth = _trapezoid_reference(marginals[:k], rho)
            if rho < 0.5 and k >= 3:  # below the double range: only the log holds it
                assert logs[k - 1] < math.log(1e-300)
            assert logs[k - 1] == pytest.approx(truth, rel=1e-12)
    assert math.isfinite(gaussian_copula_log_all_fail([1e-200] * 4, 0.5))


@pytest.mark.parametrize("n", [2, 3])
def test_equals_the_multivariate_normal_cdf(n: int) -> None:
    marginals = np.array([0.2, 0.05, 0.1])[:n]
    rho = 0.6
    cov = np.full((n, n), rho) + (1 - rho) * np.eye(n)
    truth = stats.multivariate_normal(
        mean=np.zeros(n), cov=cov, abseps=1e-10, releps=1e-10, maxpts=10_000_000
    ).cdf(special.ndtri(marginals))
    assert gaussian_copula_all_fail(marginals, rho) == pytest.approx(truth, rel=1e-6)


def test_limits_independent_comonotone_and_edge_marginals() -> None:
    marginals = np.array([0.1, 0.2, 0.05, 0.3])
    independent = float(np.prod(marginals))
    assert math.exp(copula_log_all_fail(marginals, 1e-9)[0]) == pytest.approx(independent, rel=1e-6)
    assert math.exp(copula_log_all_fail(marginals, 1 - 1e-10)[0]) == pytest.approx(0.05, rel=1e-3)
    assert gaussian_copula_all_fail(marginals, 0.0) == independent
    assert gaussian_copula_all_fail(marginals, 1.0) == 0.05
    # certain layers drop out, an impossible one makes the stack impossible, one layer is exact
    logs = copula_log_all_fail(np.array([1.0, 0.2, 1.0, 0.1, 0.0]), 0.5, every_prefix=True)
    assert logs[0] == 0.0 and logs[1] == math.log(0.2) and logs[2] == math.log(0.2)
    assert logs[3] == pytest.approx(math.log(gaussian_copula_all_fail([0.2, 0.1], 0.5)))
    assert logs[4] == -math.inf
    # monotone in rho (more dependence, likelier joint failure) and in the number of layers
    by_rho = [copula_log_all_fail(marginals, r)[0] for r in (0.1, 0.3, 0.5, 0.7, 0.9)]
    assert all(a < b for a, b in itertools.pairwise(by_rho))
    assert np.all(np.diff(copula_log_all_fail(marginals, 0.5, every_prefix=True)) < 0)


def test_paper_curve_and_implied_rho_round_trip() -> None:
    curve = identical_layers_curve(0.1, 10, rho=0.5)
    assert curve.log_series is not None
    np.testing.assert_allclose(
        curve.series["Gaussian copula"],
        [math.exp(_quad_reference(np.full(k, 0.1), 0.5)) for k in range(1, 11)],
        rtol=1e-9,
    )
    marginals = np.array([0.05, 0.1, 0.2, 0.08])
    target = gaussian_copula_all_fail(marginals, 0.37)
    comparison = compare_on_marginals(marginals, failure_mode_probability=target)
    assert comparison.implied_rho == pytest.approx(0.37, rel=1e-9)


def test_root_finder_agrees_with_brentq() -> None:
    for target in (1e-9, 0.3, 0.999):

        def gap(x: float, t: float = target) -> float:
            return math.log(x**3 + 1e-300) - math.log(t)

        ours = _root(gap, 0.0, 1.0, tolerance=1e-12)
        theirs = optimize.brentq(gap, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
        assert ours == pytest.approx(theirs, rel=1e-10)
