"""Readers and writers, one module per external format.

The public names below load their module on first use, so importing :mod:`ddrisk.io` stays
cheap. Outcome logs of other tools (garak, promptfoo, inspect_ai) are read through one
registry, :func:`read_outcomes`, which recognises the format from the content; each tool
also has its own ``read_<tool>(path)`` / ``parse_<tool>(content)`` pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddrisk._lazy import lazy_exports

_EXPORTS = {
    "LocatedDocument": "ddrisk.io.documents",
    "parse_document": "ddrisk.io.documents",
    "read_document": "ddrisk.io.documents",
    "read_text_file": "ddrisk.io.documents",
    "FaultTreeInput": "ddrisk.io.mef_fault_tree",
    "read_fault_tree": "ddrisk.io.mef_fault_tree",
    "OUTCOME_FORMATS": "ddrisk.io.outcomes",
    "OutcomeFormat": "ddrisk.io.outcomes",
    "detect_format": "ddrisk.io.outcomes",
    "read_outcomes": "ddrisk.io.outcomes",
    "SUPPORTED_GARAK_VERSIONS": "ddrisk.io.garak",
    "parse_garak": "ddrisk.io.garak",
    "read_garak": "ddrisk.io.garak",
    "SUPPORTED_PROMPTFOO_VERSIONS": "ddrisk.io.promptfoo",
    "parse_promptfoo": "ddrisk.io.promptfoo",
    "read_promptfoo": "ddrisk.io.promptfoo",
    "SUPPORTED_INSPECT_VERSIONS": "ddrisk.io.inspect_log",
    "parse_inspect": "ddrisk.io.inspect_log",
    "read_inspect": "ddrisk.io.inspect_log",
}

__all__ = [
    "OUTCOME_FORMATS",
    "SUPPORTED_GARAK_VERSIONS",
    "SUPPORTED_INSPECT_VERSIONS",
    "SUPPORTED_PROMPTFOO_VERSIONS",
    "FaultTreeInput",
    "LocatedDocument",
    "OutcomeFormat",
    "detect_format",
    "parse_document",
    "parse_garak",
    "parse_inspect",
    "parse_promptfoo",
    "read_document",
    "read_fault_tree",
    "read_garak",
    "read_inspect",
    "read_outcomes",
    "read_promptfoo",
    "read_text_file",
]

if TYPE_CHECKING:
    from ddrisk.io.documents import LocatedDocument, parse_document, read_document, read_text_file
    from ddrisk.io.garak import SUPPORTED_GARAK_VERSIONS, parse_garak, read_garak
    from ddrisk.io.inspect_log import SUPPORTED_INSPECT_VERSIONS, parse_inspect, read_inspect
    from ddrisk.io.mef_fault_tree import FaultTreeInput, read_fault_tree
    from ddrisk.io.outcomes import OUTCOME_FORMATS, OutcomeFormat, detect_format, read_outcomes
    from ddrisk.io.promptfoo import SUPPORTED_PROMPTFOO_VERSIONS, parse_promptfoo, read_promptfoo


__getattr__, __dir__ = lazy_exports("ddrisk.io", _EXPORTS, globals())
