"""How a number is shown, in every renderer (terminal, Markdown, HTML, figures).

(Not named ``numbers``: that would shadow the standard library module wherever this folder
lands on ``sys.path``.)

One place for the two styles ddrisk uses, so that the same value reads the same everywhere:

* :func:`fixed` gives a fixed number of decimals, for rates and shares in [0, 1] whose
  precision is absolute (``0.123``);
* :func:`significant` gives significant digits, for probabilities that span many orders of
  magnitude (``1e-10``, ``0.123``);
* an observed rate ``k/n`` is shown by :func:`~ddrisk.report.rates.rate_text` (re-exported
  here), which turns zero counts into one-sided bounds.

A missing value (``None``) and an undefined one (NaN) print as the caller's ``missing`` mark;
the JSON side of the same convention is :mod:`ddrisk._jsonnum`.
"""

from __future__ import annotations

import math
from typing import Any

from ddrisk.report.rates import observed_text, prefixed_rate_text, rate_text

__all__ = [
    "fixed",
    "interval_text",
    "observed_text",
    "prefixed_rate_text",
    "rate_text",
    "significant",
]


def _undefined(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fixed(value: Any, digits: int = 3, *, missing: str = "-", finite_only: bool = False) -> str:
    """``value`` with ``digits`` decimals; ``missing`` for None and NaN.

    ``finite_only`` also shows infinities as ``missing`` (where a figure's label has no room
    for them).

    >>> fixed(0.12345), fixed(None), fixed(float("nan"), missing="—"), fixed(2, 1)
    ('0.123', '-', '—', '2.0')
    >>> fixed(float("inf")), fixed(float("inf"), finite_only=True)
    ('inf', '-')
    """
    if _undefined(value):
        return missing
    if finite_only and not math.isfinite(value):
        return missing
    return f"{value:.{digits}f}"


def significant(
    value: Any, digits: int = 3, *, missing: str = "—", infinity: tuple[str, str] = ("∞", "-∞")
) -> str:
    """``value`` in ``digits`` significant digits; integers and booleans as they are.

    >>> significant(1e-10), significant(0.123456), significant(None), significant(2)
    ('1e-10', '0.123', '—', '2')
    >>> significant(float("inf")), significant(float("-inf"), infinity=("inf", "-inf"))
    ('∞', '-inf')
    """
    if _undefined(value):
        return missing
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return infinity[0] if value > 0 else infinity[1]
        return f"{value:.{digits}g}"
    return str(value)


def interval_text(estimate: Any, lo: Any, hi: Any, digits: int = 3, *, missing: str = "-") -> str:
    """``estimate [lo, hi]``; the estimate alone when no interval was computed.

    A zero-width interval at 0 or 1 comes from a zero count, not from certainty, so it is
    said in words rather than printed as ``0.000 [0.000, 0.000]``.

    >>> interval_text(0.5, 0.4, 0.6), interval_text(0.5, None, None)
    ('0.500 [0.400, 0.600]', '0.500')
    >>> interval_text(0.0, 0.0, 0.0)
    '0.000 (no interval: rests on a zero count)'
    """
    point = fixed(estimate, digits, missing=missing)
    if _undefined(lo) and _undefined(hi):
        return point
    low, high = fixed(lo, digits, missing=missing), fixed(hi, digits, missing=missing)
    if low == high == point and estimate in (0, 1):
        return f"{point} (no interval: rests on a zero count)"
    return f"{point} [{low}, {high}]"
