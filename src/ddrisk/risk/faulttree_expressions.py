"""Probability models of the Open-PSA MEF (2.0d, chapter "Built-in expressions"), as pure functions.

A basic event's probability in an MEF file is often not a number but a reliability model
evaluated at the mission time: ``exponential`` (constant failure rate), ``GLM`` (failure on
demand, failure rate and repair rate), ``Weibull`` and ``periodic-test`` (a standby component
tested every ``tau`` hours). The reader (:mod:`ddrisk.io.mef_fault_tree`) evaluates the XML
expression tree with these functions, so each model is written once, here, where a unit test
can check it against its closed form and against SCRAM's output on the same expression.

All times are in the same unit (hours in every shipped model); rates are per that unit.
"""

from __future__ import annotations

import math


def exponential(rate: float, time: float) -> float:
    """P(failed by ``time``) with a constant failure rate: ``1 - exp(-rate * time)``."""
    return -math.expm1(-rate * time)


def glm(gamma: float, rate: float, repair: float, time: float) -> float:
    """Unavailability of a repairable component that may also fail on demand.

    ``gamma`` is the probability of failure on demand, ``rate`` the failure rate and
    ``repair`` the repair rate: ``(rate - (rate - gamma (rate + repair)) e^{-(rate + repair) t})
    / (rate + repair)``. With ``rate + repair == 0`` the component stays as demanded: ``gamma``.
    """
    total = rate + repair
    if total == 0.0:
        return gamma
    return (rate - (rate - gamma * total) * math.exp(-total * time)) / total


def weibull(alpha: float, beta: float, shift: float, time: float) -> float:
    """Weibull failure probability ``1 - exp(-((t - t0) / alpha) ** beta)``, zero before ``t0``.

    ``alpha`` is the scale, ``beta`` the shape and ``shift`` (``t0``) the time the wear starts.
    """
    if time <= shift:
        return 0.0
    return -math.expm1(-(((time - shift) / alpha) ** beta))


def periodic_test_instant(rate: float, interval: float, first: float, time: float) -> float:
    """Unavailability of a standby component tested every ``interval``, repaired at once.

    The MEF's four-argument ``periodic-test`` (lambda, tau, theta, t): failures are hidden
    until a test; the first test is at ``first`` (theta) and then every ``interval`` (tau);
    a test finds and repairs a failure instantly, so the component is as good as new after
    each test and ``Q(t) = 1 - exp(-lambda * (time since the last test))``. A test falling
    exactly at ``time`` has not happened yet (as in SCRAM): the result is the worst point
    of the period, not the fresh state after it.
    """
    if time <= first or interval <= 0.0:
        return exponential(rate, time)
    return exponential(rate, _since_last_test(time - first, interval)[1])


def _since_last_test(elapsed: float, interval: float) -> tuple[int, float]:
    """(tests after the first one strictly before ``elapsed``, time since the last test)."""
    periods = math.ceil(elapsed / interval) - 1
    return periods, elapsed - periods * interval


PERIODS_LIMIT = 10_000_000
"""Most test periods walked through by :func:`periodic_test_repair` (it stops at a fixed point)."""


def periodic_test_repair(
    rate: float, repair: float, interval: float, first: float, time: float
) -> float:
    """Unavailability of a standby component tested every ``interval`` and repaired at ``repair``.

    The MEF's five-argument ``periodic-test`` (lambda, mu, tau, theta, t). Between tests
    the component is a Markov chain over *available* (fails at ``rate``), *failed, not yet
    detected* and *under repair* (back to available at ``repair``); a test (at ``first``,
    then every ``interval``) sends an undetected failure to repair. ``Q(t) = 1 - P(available)``.
    The state after each test is carried forward period by period, stopping early once it
    repeats (the chain reaches its periodic regime).
    """
    if time <= first or interval <= 0.0:
        return exponential(rate, time)
    available = math.exp(-rate * first)
    repairing = 1.0 - available  # every failure found at the first test
    periods, remaining = _since_last_test(time - first, interval)
    for _ in range(min(periods, PERIODS_LIMIT)):
        after = _available_after(rate, repair, available, repairing, interval)
        # a test sends every failed component to repair: hidden failures join those in repair
        following = (after, 1.0 - after)
        if abs(following[0] - available) < 1e-17 and abs(following[1] - repairing) < 1e-17:
            break
        available, repairing = following
    return 1.0 - _available_after(rate, repair, available, repairing, remaining)


def _available_after(
    rate: float, repair: float, available: float, repairing: float, duration: float
) -> float:
    """P(available) ``duration`` after a state (available, repairing), with no test between."""
    decay = math.exp(-rate * duration)
    if repairing == 0.0:
        return available * decay
    if abs(repair - rate) < 1e-300:
        flow = repairing * repair * duration * decay
    else:
        flow = repairing * repair * (decay - math.exp(-repair * duration)) / (repair - rate)
    return available * decay + flow
