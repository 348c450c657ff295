"""Per attack family: how much of it each layer, and the whole stack, resists."""

from __future__ import annotations

import pandas as pd

RESISTANCE_COLUMNS = [
    "scope",
    "layer",
    "family",
    "k_blocked",
    "n",
    "resistance",
    "lo",
    "hi",
    "lower_bound",
]


def resistance_table(family_miss: pd.DataFrame, stack_by_family: pd.DataFrame) -> pd.DataFrame:
    """Jailbreak resistance (share of harmful items blocked) per layer and family, then the stack.

    Layer rows mirror the family miss rates (``1 - miss``, interval flipped, zero misses
    giving a one-sided lower bound); stack rows mirror "every layer misses".
    """
    rows = []
    for row in family_miss.itertuples(index=False):
        rows.append(
            {
                "scope": "layer",
                "layer": row.layer,
                "family": row.family,
                "k_blocked": row.n - row.k,
                "n": row.n,
                "resistance": 1.0 - row.miss_rate,
                "lo": 1.0 - row.hi,
                "hi": 1.0 - row.lo,
                "lower_bound": 1.0 - row.upper_bound,
            }
        )
    for row in stack_by_family.itertuples(index=False):
        rows.append(
            {
                "scope": "stack",
                "layer": None,
                "family": row.family,
                "k_blocked": row.n - row.all_miss_k,
                "n": row.n,
                "resistance": 1.0 - row.observed,
                "lo": 1.0 - row.observed_hi,
                "hi": 1.0 - row.observed_lo,
                "lower_bound": 1.0 - row.upper_bound,
            }
        )
    return pd.DataFrame(rows, columns=RESISTANCE_COLUMNS)
