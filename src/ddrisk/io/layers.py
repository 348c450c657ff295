"""Read a layers file (YAML or JSON): which safety layers a stress run uses.

The format is documented in :mod:`ddrisk.stress.config`, which builds the layers; this module
only reads the entries through :mod:`ddrisk.io.documents` (size, depth and alias limits,
duplicate keys refused) and checks their shape, every problem one located line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.io.documents import check_usable_path, display_path, read_document


def read_layer_specs(path: str | Path) -> list[dict[str, Any]]:
    """Read the entries of a layers file (YAML or JSON), without building them.

    The file goes through :func:`ddrisk.io.documents.read_document`: size, depth and alias
    limits, duplicate keys refused, every problem one located line.
    """
    source = display_path(path)
    path = check_usable_path(path, label=source)
    if not path.exists():
        raise InputError(source, None, "layers file not found", "pass an existing layers YAML file")
    document = read_document(path, label=source, what="layers file").data
    if isinstance(document, dict):
        extra = sorted(map(str, set(document) - {"layers"}))
        if extra:
            raise InputError(
                source, None, f"unknown top-level key(s) {extra[:10]}", "keep only 'layers:'"
            )
        document = document.get("layers")
    if not isinstance(document, list):
        raise InputError(
            source,
            "layers",
            "expected a list of layers",
            "write 'layers:' followed by '- kind: ...' entries",
        )
    for index, spec in enumerate(document):
        if not isinstance(spec, dict):
            raise InputError(
                source,
                f"layers[{index}]",
                f"a layer must be a mapping, got {type(spec).__name__}",
                "write key: value pairs such as 'kind: regex'",
            )
    return document
