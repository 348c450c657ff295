"""Stress measurements as plain counts: per layer, per family, joint (for the risk module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics._core import _families
from ddrisk.stress.statistics.catalog import _layer_ids


def detailed_counts(matrix: OutcomeMatrix) -> dict[str, dict[str, Any]]:
    """Failure counts per layer on harmful items, with errors, families and pairs.

    ``{layer: {"failures": k, "n": n, "errors": e, "by_family": {family: {"failures", "n"}},
    "joint": {other_layer: {"failures": both_missed, "n": both_decided}}}}``. Only harmful
    items count (a failure is a miss); errors are excluded from ``n``. A Beta(a + k,
    b + n - k) posterior per layer follows directly.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["a", "b", "c"], "family": "f", "behavior_id": "",
    ...                       "harmful": True})
    >>> m = OutcomeMatrix(items=items, layers=("x", "y"),
    ...                   blocked=np.array([[0.0, 0.0], [1.0, 0.0], [np.nan, 1.0]]),
    ...                   score=np.full((3, 2), np.nan), errors=np.full((3, 2), None))
    >>> c = detailed_counts(m)
    >>> c["x"]["failures"], c["x"]["n"], c["x"]["errors"], c["x"]["joint"]["y"]
    (1, 2, 1, {'failures': 1, 'n': 2})
    """
    failures = matrix.failures()[matrix.harmful]
    family = _families(matrix.items)[matrix.harmful]
    decided = ~np.isnan(failures)
    failed = np.nan_to_num(failures, nan=0.0)
    joint_n = decided.T.astype(int) @ decided.astype(int)
    joint_k = failed.T @ failed
    out: dict[str, dict[str, Any]] = {}
    for index, layer in enumerate(matrix.layers):
        by_family = {}
        for fam in sorted(set(family)):
            rows = family == fam
            by_family[fam] = {
                "failures": int(failed[rows, index].sum()),
                "n": int(decided[rows, index].sum()),
            }
        out[layer] = {
            "failures": int(failed[:, index].sum()),
            "n": int(decided[:, index].sum()),
            "errors": int((~decided[:, index]).sum()),
            "by_family": by_family,
            "joint": {
                other: {"failures": int(joint_k[index, j]), "n": int(joint_n[index, j])}
                for j, other in enumerate(matrix.layers)
                if j != index
            },
        }
    return out


def counts_for_risk(matrix: OutcomeMatrix, *, catalog_ids: bool = False) -> dict[str, Any]:
    """Stress counts in the tiny format ``ddrisk risk --counts`` reads.

    ``{"layers": {layer: {"failures": k, "n": n}}, "joint": {"failures": k, "n": n}}``:
    per layer, how many of the harmful items it decided it missed; ``joint``, how many of
    the harmful items every layer decided were missed by all of them (so it describes the
    stack of *all* the matrix's layers). Errors are left out of ``n``. With
    ``catalog_ids`` the layers are keyed by the technique ids :func:`empirical_catalog`
    gives them, so the counts pair with that catalog.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["a", "b", "c"], "family": "f", "behavior_id": "",
    ...                       "harmful": True})
    >>> m = OutcomeMatrix(items=items, layers=("x", "y"),
    ...                   blocked=np.array([[0.0, 0.0], [1.0, 0.0], [np.nan, 1.0]]),
    ...                   score=np.full((3, 2), np.nan), errors=np.full((3, 2), None))
    >>> counts = counts_for_risk(m)
    >>> counts["layers"]
    {'x': {'failures': 1, 'n': 2}, 'y': {'failures': 2, 'n': 3}}
    >>> counts["joint"]
    {'failures': 1, 'n': 2}
    """
    detail = detailed_counts(matrix)
    names = _layer_ids(matrix.layers) if catalog_ids else {k: k for k in matrix.layers}
    stack = stack_counts(matrix)
    return {
        "layers": {
            names[layer]: {"failures": detail[layer]["failures"], "n": detail[layer]["n"]}
            for layer in matrix.layers
        },
        "joint": {"failures": stack["failures"], "n": stack["n"]},
    }


def stack_counts(matrix: OutcomeMatrix) -> dict[str, Any]:
    """How often every layer missed, on harmful items every layer decided, pooled and per family.

    ``{"layers": [...], "failures": k, "n": n, "by_family": {family: {"failures", "n"}}}``.
    """
    failures = matrix.failures()[matrix.harmful]
    family = _families(matrix.items)[matrix.harmful]
    complete = ~np.isnan(failures).any(axis=1)
    all_miss = complete & (np.nan_to_num(failures, nan=0.0).sum(axis=1) == failures.shape[1])
    return {
        "layers": list(matrix.layers),
        "failures": int(all_miss.sum()),
        "n": int(complete.sum()),
        "by_family": {
            fam: {
                "failures": int((all_miss & (family == fam)).sum()),
                "n": int((complete & (family == fam)).sum()),
            }
            for fam in sorted(set(family))
        },
    }
