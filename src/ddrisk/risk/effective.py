"""The effective number of independent layers: one definition for every output.

A stack of ``n`` layers whose marginal failure probabilities are ``m_1 .. m_n`` fails with
probability ``P``. If the layers were independent copies of a layer failing with the geometric
mean ``g = (m_1 ... m_n) ** (1/n)``, ``k`` of them would fail together with probability ``g ** k``.
The effective number of independent layers is the ``k`` that matches ``P``::

    n_eff = ln P / ln g = n * ln P / (ln m_1 + ... + ln m_n)

The geometric mean is what makes the two ends exact: ``n`` independent layers give ``P = m_1 ...
m_n = g ** n`` and so exactly ``n``, and ``n`` identical, perfectly correlated layers give
``P = m = g`` and so exactly 1. (The arithmetic mean, used before, reads two independent layers with
different marginals as more than 2 and two perfectly correlated ones as more than 1.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EFFECTIVE_LAYERS_DEFINITION = (
    "effective independent layers = ln P(all fail) / ln(geometric mean of the layer marginals): "
    "n independent layers give n, n identical perfectly correlated layers give 1"
)
"""The sentence every output that prints the number states next to it."""


def effective_independent_layers(
    log_probability: float, marginals: Sequence[float] | np.ndarray
) -> float:
    """``ln P / ln(geometric mean of the marginals)``; ``nan`` where it is undefined.

    ``log_probability`` is ``ln P(all fail)`` (passing the log keeps tiny probabilities exact).
    The number is undefined (``nan``) without layers, when a layer never fails (the geometric
    mean is 0) or when every layer always fails (the geometric mean is 1). A stack that cannot
    fail while its layers can is worth infinitely many layers (``inf``).

    >>> round(effective_independent_layers(math.log(0.05 * 0.5), [0.05, 0.5]), 12)
    2.0
    >>> effective_independent_layers(math.log(0.3), [0.3, 0.3, 0.3])
    1.0
    """
    values = np.asarray(marginals, dtype=float)
    if values.size == 0 or not np.all(values > 0.0) or math.isnan(log_probability):
        return math.nan
    log_geometric_mean = float(np.mean(np.log(values)))
    if log_geometric_mean >= 0.0:
        return math.nan
    if log_probability == -math.inf:
        return math.inf
    return log_probability / log_geometric_mean


def effective_from_probability(
    probability: float, marginals: Sequence[float] | np.ndarray
) -> float:
    """:func:`effective_independent_layers` for a probability rather than its log."""
    log_probability = math.log(probability) if probability > 0 else -math.inf
    return effective_independent_layers(log_probability, marginals)
