"""Read a stack structure (how layers combine) from a YAML/JSON file's ``structure:`` section.

The file may be a dedicated structure file or any document with a top-level ``structure``
key (for instance a stack file that also lists its layers)::

    structure:
      any_route:
        - all_miss: [INPUT-CLF, JUDGE]        # chat input: both must miss
        - vote: {flag: 2, of: [J1, J2, J3]}   # retrieved documents: 2 of 3 judges must flag
        - TOOL-FILTER                         # tool results: one filter

Errors name the file, the line and the key path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ddrisk.io.documents import LocatedDocument, read_document
from ddrisk.risk.structure import Node, StructureDataError, from_data, leaves, validate_structure


def structure_from_document(
    document: LocatedDocument, *, layers: Sequence[str] | None = None
) -> Node:
    """The structure in ``document`` (its ``structure`` key), checked against ``layers``."""
    data = document.data
    if not isinstance(data, dict) or "structure" not in data:
        raise document.error((), "no 'structure' key", "add a top-level 'structure:' section")
    try:
        node = from_data(data["structure"])
    except StructureDataError as error:
        raise document.error(
            error.key_path, error.problem, "see the structure forms in the docs"
        ) from None
    if layers is not None:
        try:
            validate_structure(node, layers)
        except ValueError as error:
            raise document.error(
                ("structure",),
                str(error).removeprefix("structure: "),
                f"use exactly the stack's layers ({', '.join(layers)})",
            ) from None
    return node


def read_structure(path: str | Path, *, layers: Sequence[str] | None = None) -> Node:
    """Read a structure file; ``layers`` (when given) must be exactly the structure's leaves."""
    return structure_from_document(read_document(path, what="structure file"), layers=layers)


def structure_layers(node: Node) -> list[str]:
    """The layers a structure places, in order (the stack when none is given separately)."""
    return leaves(node)
