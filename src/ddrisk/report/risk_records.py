"""JSON records of the risk commands that have no single result object of their own.

One stack's record is :meth:`~ddrisk.risk.assessment.StackRisk.to_dict`; the records here
wrap several results (the paper's example and its curve, an optimisation frontier, an MEF
fault tree with the files it came from) under one schema id, so that the CLI only prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddrisk.risk.dependence import DependenceCurve, PaperExample
    from ddrisk.risk.faulttree import FaultTree, FaultTreeResult
    from ddrisk.risk.optimize import OptimizationResult

OPTIMIZE_SCHEMA = "ddrisk.optimize/1"
CURVE_SCHEMA = "ddrisk.risk-curve/1"
FAULT_TREE_SCHEMA = "ddrisk.faulttree/1"


def paper_example_record(example: PaperExample, curve: DependenceCurve) -> dict[str, Any]:
    """The paper's n x m arithmetic and the P(all fail) curve of every dependence model."""
    from ddrisk.__version__ import __version__

    return {
        "format": CURVE_SCHEMA,
        "schema": CURVE_SCHEMA,
        "ddrisk_version": __version__,
        "paper_example": example.to_dict(),
        "curve": curve.to_dict(),
    }


def optimization_record(
    results: Sequence[OptimizationResult], *, inputs: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Best stacks, one per constraint, each with its model, parameters, costs and structure.

    The header says what produced them: the format id, the ddrisk version, the catalog and its
    content hash, the engine and seed, ``inputs`` (path -> sha256 of each file read besides
    the catalog) and ``input_sha256``, the hash of everything the results depend on (catalog,
    resolved parameters, structure, candidates, costs and those files).
    """
    from ddrisk.__version__ import __version__
    from ddrisk._hashing import object_sha256

    first = results[0]
    data = [r.to_dict() for r in results]
    basis = {
        "catalog_sha256": first.catalog_sha256,
        "parameters_sha256": first.parameters_sha256,
        "structure": data[0]["structure"],
        "candidates": data[0]["candidates"],
        "costs": first.costs,
        "inputs": dict(inputs or {}),
    }
    return {
        "format": OPTIMIZE_SCHEMA,
        "schema": OPTIMIZE_SCHEMA,
        "ddrisk_version": __version__,
        "catalog": {"label": first.catalog, "sha256": first.catalog_sha256},
        "engine": first.engine,
        "seed": first.seed,
        "inputs": [{"path": path, "sha256": digest} for path, digest in (inputs or {}).items()],
        "input_sha256": object_sha256(basis),
        "results": data,
    }


def fault_tree_record(
    tree: FaultTree,
    result: FaultTreeResult,
    *,
    inputs: Sequence[Path],
    input_sha256: str,
    mission_time: float | None = None,
) -> dict[str, Any]:
    """An MEF fault tree's exact P(top), with the ddrisk version, inputs' sha256, mission time."""
    from ddrisk.__version__ import __version__
    from ddrisk.risk.log_numbers import probability_text

    return {
        "format": FAULT_TREE_SCHEMA,
        "schema": FAULT_TREE_SCHEMA,
        "ddrisk_version": __version__,
        "inputs": [str(p) for p in inputs],
        "input_sha256": input_sha256,
        "top": tree.top,
        "mission_time": mission_time,
        "probability_text": probability_text(result.log_probability),
        **result.to_dict(),
    }
