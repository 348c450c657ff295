"""Folders of stored experiments (stress runs, adaptive attacks): naming, listing, resolving.

A stored experiment is a folder holding one SQLite file (the ``marker``). Its name sorts by
creation time to the millisecond and a random suffix keeps two folders made in the same
millisecond apart. Users name one by its full id, any unique prefix, a folder path, or
``latest``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ddrisk.errors import InputError


def new_timestamped_dir(parent: Path) -> Path:
    """A fresh, not yet created folder name under ``parent``: ``YYYYmmdd-HHMMSS.mmm-xxxxxx``."""
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    millis = int((now % 1) * 1000)
    suffix = np.random.default_rng().integers(16**6)
    return parent / f"{stamp}.{millis:03d}-{suffix:06x}"


def folder_ids(parent: Path, marker: str) -> list[str]:
    """Names of the folders under ``parent`` that hold ``marker``, oldest first."""
    if not parent.is_dir():
        return []
    return sorted(
        p.name for p in parent.iterdir() if not p.name.startswith(".") and (p / marker).is_file()
    )


def resolve_folder(
    parent: Path,
    ref: str | Path,
    *,
    marker: str,
    noun: str,
    empty_problem: str,
    empty_fix: str,
    unknown_fix: str,
) -> Path:
    """The folder ``ref`` names: a folder path, ``latest``, an id or a unique id prefix.

    ``noun`` ("run", "attack") words the errors: no folder yet, no match, an ambiguous prefix.
    """
    candidate = Path(ref)
    if (candidate / marker).is_file():
        return candidate
    ids = folder_ids(parent, marker)
    if str(ref) == "latest":
        if not ids:
            raise InputError(str(parent), None, empty_problem, empty_fix)
        return parent / ids[-1]
    if (parent / str(ref) / marker).is_file():
        return parent / str(ref)
    matches = [i for i in ids if i.startswith(str(ref))]
    if len(matches) == 1:
        return parent / matches[0]
    raise InputError(
        str(parent),
        f"{noun} '{ref}'",
        f"no such {noun}" if not matches else f"ambiguous {noun} id",
        unknown_fix,
    )
