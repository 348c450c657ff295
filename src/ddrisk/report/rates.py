"""One way to show an observed rate k/n in every output: bounds, never zero-width intervals.

A rate of 0 out of 60 is not "0.000 [0.000, 0.000]": with 60 trials a true rate of 4 % would
still give no event one time in ten. So every renderer (``ddrisk stress analyze``, the report's
HTML and Markdown tables) shows an observed rate through :func:`rate_text`:

- ``k = 0``: ``0/60 (< 0.0487 at 95 %)``, the exact one-sided upper bound;
- ``k = n``: ``60/60 (> 0.951 at 95 %)``, the matching lower bound;
- otherwise ``12/60 = 0.200 [0.118, 0.318]`` with the interval computed by the statistics.

The bound is the one the statistics computed when they carry it (``upper_bound`` /
``lower_bound``); otherwise the exact Clopper-Pearson bound ``1 - alpha ** (1 / n)`` with
``alpha = 1 - confidence``, or the far end of the statistics' own interval when that is wider
(a cluster-aware interval is, when items share a behaviour or template).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def zero_event_bound(n: int, confidence: float) -> float:
    """Exact one-sided upper bound on a rate after 0 events in ``n`` trials.

    >>> round(zero_event_bound(60, 0.95), 4)
    0.0487
    """
    return 1.0 - (1.0 - confidence) ** (1.0 / n)


def rate_text(
    k: int,
    n: int,
    *,
    estimate: Any = None,
    lo: Any = None,
    hi: Any = None,
    confidence: float = 0.95,
    upper_bound: Any = None,
    lower_bound: Any = None,
    digits: int = 3,
    with_count: bool = True,
) -> str:
    """``k/n = rate [lo, hi]``, or a one-sided bound when ``k`` is 0 or ``n``.

    ``with_count=False`` drops the ``k/n`` prefix for tables that show the count in a column
    of its own.

    >>> rate_text(0, 60)
    '0/60 (< 0.0487 at 95 %)'
    >>> rate_text(60, 60)
    '60/60 (> 0.951 at 95 %)'
    >>> rate_text(12, 60, lo=0.118, hi=0.318)
    '12/60 = 0.200 [0.118, 0.318]'
    >>> rate_text(0, 0)
    '0/0 (no items)'
    >>> rate_text(0, 60, with_count=False)
    '< 0.0487 at 95 %'
    >>> rate_text(0, 60, lo=0.0, hi=0.283)  # a cluster-aware interval is wider
    '0/60 (< 0.283 at 95 %)'
    """
    k, n = int(k), int(n)
    if n <= 0:
        return f"{k}/{n} (no items)" if with_count else "no items"
    level = f"{confidence * 100:g} %"
    count = f"{k}/{n}"
    if k in (0, n):
        # Without a bound from the statistics, the exact binomial one, widened to the interval's
        # own end when that is wider (a cluster-aware interval knows the items are not independent).
        if k == 0:
            bound = _finite(upper_bound)
            if bound is None:
                bound = max(zero_event_bound(n, confidence), _finite(hi) or 0.0)
            text = f"< {bound:.3g} at {level}"
        else:
            bound = _finite(lower_bound)
            if bound is None:
                bound = min(1.0 - zero_event_bound(n, confidence), _finite(lo) or 1.0)
            text = f"> {bound:.3g} at {level}"
        return f"{count} ({text})" if with_count else text
    value = _finite(estimate)
    value = k / n if value is None else value
    text = f"{count} = {value:.{digits}f}" if with_count else f"{value:.{digits}f}"
    low, high = _finite(lo), _finite(hi)
    if low is not None and high is not None:
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def observed_text(
    value: Mapping[str, Any],
    *,
    confidence: float = 0.95,
    digits: int = 3,
    with_count: bool = True,
) -> str:
    """:func:`rate_text` for a statistics record with ``k``, ``n``, ``estimate``, ``lo``, ``hi``.

    >>> observed_text({"k": 0, "n": 60, "estimate": 0.0, "lo": 0.0, "hi": 0.0})
    '0/60 (< 0.0487 at 95 %)'
    """
    return rate_text(
        value["k"],
        value["n"],
        estimate=value.get("estimate"),
        lo=value.get("lo"),
        hi=value.get("hi"),
        confidence=confidence,
        upper_bound=value.get("upper_bound"),
        lower_bound=value.get("lower_bound"),
        digits=digits,
        with_count=with_count,
    )


def prefixed_rate_text(
    row: Mapping[str, Any],
    prefix: str,
    *,
    confidence: float = 0.95,
    digits: int = 3,
    with_count: bool = True,
) -> str:
    """:func:`rate_text` for a per-layer record with ``{prefix}_k``, ``_n``, ``_rate``, ``_lo``,
    ``_hi`` and ``_upper_bound`` (``miss`` and ``false_block`` in a stress analysis).

    >>> prefixed_rate_text({"miss_k": 0, "miss_n": 350, "miss_rate": 0.0, "miss_lo": 0.0,
    ...     "miss_hi": 0.011, "miss_upper_bound": 0.00852}, "miss")
    '0/350 (< 0.00852 at 95 %)'
    """
    return rate_text(
        row[f"{prefix}_k"],
        row[f"{prefix}_n"],
        estimate=row.get(f"{prefix}_rate"),
        lo=row.get(f"{prefix}_lo"),
        hi=row.get(f"{prefix}_hi"),
        confidence=confidence,
        upper_bound=row.get(f"{prefix}_upper_bound"),
        lower_bound=row.get(f"{prefix}_lower_bound"),
        digits=digits,
        with_count=with_count,
    )
