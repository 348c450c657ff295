"""Read stress-test counts files (JSON, or YAML) into :class:`~ddrisk.risk.evidence.StressCountsFile`.

The format is tiny. Either per layer only::

    {"RLHF": {"failures": 12, "n": 50}, "RE": {"failures": 7, "n": 50}}

or with joint counts (items every layer missed together)::

    {"layers": {"RLHF": {"failures": 12, "n": 50}}, "joint": {"failures": 2, "n": 50}}

``failures`` of ``n`` harmful items got past the layer. By default the counts update the
layer's residual ``r``; add ``"mode": "DEC-AL"`` to an entry when its items exercise that
failure mode, and they update the cell ``p[layer, mode]`` instead. ``ddrisk stress analyze
--counts-out`` writes such a file. The file is read through :mod:`ddrisk.io.documents` (limits,
duplicate keys rejected) and validated by the pure
:func:`~ddrisk.risk.evidence.parse_stress_counts`.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.documents import read_document
from ddrisk.risk.evidence import StressCountsFile, parse_stress_counts


def read_stress_counts(path: str | Path) -> StressCountsFile:
    """Counts from a ``.json`` file (any other suffix is read as YAML, a superset of JSON)."""
    document = read_document(path, what="counts file")
    return parse_stress_counts(document.data, source=document.label)
