"""Numbers from their logarithms, so results far below 1e-300 print as what they are.

A stack's P(stack fails) can be 1e-576 (its natural log is exact; the float underflows to 0),
and ratios of two such numbers overflow or become ``nan``. Everything printed or written as
text goes through :func:`probability_text`, which works from the log.
"""

from __future__ import annotations

import math


def probability_text(log_value: float, digits: int = 4) -> str:
    """A positive number from its natural log, e.g. ``1.2e-360``; never rounds to ``0``/``inf``.

    >>> probability_text(math.log(0.25)), probability_text(-360 * math.log(10) + math.log(1.2))
    ('0.25', '1.2e-360')
    >>> probability_text(-math.inf), probability_text(math.nan)
    ('0', 'undefined')
    """
    if math.isnan(log_value):
        return "undefined"
    if log_value == -math.inf:
        return "0"
    if log_value == math.inf:
        return "inf"
    if -700.0 < log_value < 700.0:
        return f"{math.exp(log_value):.{digits}g}"
    log10 = log_value / math.log(10.0)
    exponent = math.floor(log10)
    mantissa = 10.0 ** (log10 - exponent)
    text = f"{mantissa:.{digits}g}"
    if text.startswith("10"):  # rounding carried into the next decade
        exponent += 1
        text = f"{mantissa / 10.0:.{digits}g}"
    return f"{text}e{exponent:+d}"
