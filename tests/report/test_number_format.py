"""One number display for every renderer (ddrisk.report.number_format)."""

from __future__ import annotations

import math

import numpy as np

from ddrisk.report.number_format import fixed, rate_text, significant
from ddrisk.report.rates import rate_text as rates_rate_text


def test_fixed() -> None:
    assert fixed(0.12345) == "0.123"
    assert fixed(0.12345, 1) == "0.1"
    assert fixed(None) == "-" and fixed(math.nan, missing="—") == "—"
    assert fixed(np.float64("nan")) == "-"
    assert fixed(math.inf) == "inf" and fixed(math.inf, finite_only=True) == "-"


def test_significant() -> None:
    assert significant(1.23456e-10) == "1.23e-10"
    assert significant(0.5, 2) == "0.5"
    assert significant(12) == "12" and significant(True) == "True"
    assert significant(None) == "—" and significant(math.nan) == "—"
    assert significant(-math.inf) == "-∞"


def test_rates_are_the_one_rate_formatter() -> None:
    assert rate_text is rates_rate_text
    assert rate_text(0, 60) == "0/60 (< 0.0487 at 95 %)"


def test_report_public_face_resolves() -> None:
    import ddrisk.report as report

    for name in report.__all__:
        assert getattr(report, name) is not None


def test_interval_text() -> None:
    from ddrisk.report.number_format import interval_text

    assert interval_text(0.5, 0.4, 0.6) == "0.500 [0.400, 0.600]"
    assert interval_text(0.5, None, math.nan) == "0.500"
    assert interval_text(1.0, 1.0, 1.0, 2) == "1.00 (no interval: rests on a zero count)"
    assert interval_text(0.3, 0.3, 0.3) == "0.300 [0.300, 0.300]"  # only 0 and 1 mean a zero count
    assert interval_text(None, None, None, missing="—") == "—"
