"""Lazy public names for a package's ``__init__``: a name loads its module on first use.

Keeps ``import ddrisk.io`` / ``import ddrisk.report`` cheap (no pandas, jinja2 or rich until a
name that needs them is touched) while the package still offers one flat public face.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``; ``exports`` maps each name to its module.

    A loaded name is stored in ``namespace`` (the package's ``globals()``), so each module
    loads once and later lookups are ordinary attribute reads.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__
