"""The MEF reliability models against their closed forms and limiting cases.

SCRAM's printed values for the same models are checked in
``tests/io/test_mef_fault_tree_expressions.py``; here each function is held to what its
definition implies, so that a wrong formula fails for a reason one can read.
"""

from __future__ import annotations

import math

import pytest

from ddrisk.risk.faulttree_expressions import (
    exponential,
    glm,
    periodic_test_instant,
    periodic_test_repair,
    weibull,
)


def test_exponential_is_one_minus_survival_and_keeps_tiny_values() -> None:
    assert exponential(1e-3, 100) == pytest.approx(1 - math.exp(-0.1), rel=1e-15)
    assert exponential(1e-20, 1.0) == pytest.approx(1e-20, rel=1e-12)  # no 1 - (1 - x) loss


def test_glm_starts_at_gamma_and_tends_to_the_steady_unavailability() -> None:
    assert glm(0.01, 1e-4, 0.05, 0.0) == pytest.approx(0.01, rel=1e-15)
    assert glm(0.01, 1e-4, 0.05, 1e6) == pytest.approx(1e-4 / (1e-4 + 0.05), rel=1e-12)
    assert glm(0.3, 0.0, 0.0, 50.0) == 0.3  # nothing changes without rates


def test_weibull_is_zero_before_its_shift_and_exponential_at_shape_one() -> None:
    assert weibull(1000.0, 2.0, 100.0, 50.0) == 0.0
    assert weibull(1000.0, 1.0, 0.0, 300.0) == pytest.approx(exponential(1e-3, 300.0), rel=1e-14)


def test_instant_periodic_test_restarts_after_every_test() -> None:
    rate, tau, theta = 2e-3, 100.0, 30.0
    assert periodic_test_instant(rate, tau, theta, 20.0) == pytest.approx(exponential(rate, 20))
    # 30 + 100 + 100 = 230 is a test; 10 h later the component is 10 h old
    assert periodic_test_instant(rate, tau, theta, 240.0) == pytest.approx(exponential(rate, 10))
    # a test exactly at t has not happened: the full period's exposure
    assert periodic_test_instant(rate, tau, theta, 230.0) == pytest.approx(exponential(rate, 100))


def test_repairable_periodic_test_tends_to_the_instant_one_with_fast_repair() -> None:
    rate, tau, theta = 1e-3, 720.0, 100.0
    for t in (50.0, 500.0, 2000.0, 8760.0):
        fast = periodic_test_repair(rate, 1e9, tau, theta, t)
        assert fast == pytest.approx(periodic_test_instant(rate, tau, theta, t), rel=1e-6)


def test_repairable_periodic_test_is_worse_than_instant_repair_just_after_a_test() -> None:
    rate, repair, tau, theta = 1e-3, 0.01, 720.0, 100.0
    t = theta + 2 * tau + 1.0  # 1 h after the third test: some components still in repair
    slow = periodic_test_repair(rate, repair, tau, theta, t)
    assert slow > periodic_test_instant(rate, tau, theta, t) + 0.01


def test_repairable_periodic_test_by_hand_over_one_period() -> None:
    """After the first test every failed unit is in repair; 100 h later, by the chain's solution."""
    rate, repair, tau, theta = 1e-3, 0.01, 720.0, 100.0
    available = math.exp(-rate * theta)
    repairing = 1 - available
    s = 100.0
    flow = repairing * repair * (math.exp(-rate * s) - math.exp(-repair * s)) / (repair - rate)
    expected = 1 - (available * math.exp(-rate * s) + flow)
    assert periodic_test_repair(rate, repair, tau, theta, theta + s) == pytest.approx(
        expected, rel=1e-12
    )
