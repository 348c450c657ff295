"""Check where an output will be written before anything is computed.

A figure or report path in a missing folder, with an extension nothing can write, or with a
name the file system refuses used to fail after the whole computation, with a traceback and
the results lost. Commands call :func:`check_output_path` (files) and
:func:`check_output_folder` (folders) on their output options first, so such a mistake is one
line naming the option, the path and the fix, and costs nothing.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

from ddrisk.errors import InputError
from ddrisk.io.documents import display_path

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
"""The figure formats every ddrisk figure can be saved as (matplotlib's common three)."""


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if folder.exists() else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _check_name_lengths(path: Path, label: str, option: str) -> None:
    limit = _name_max(path.parent)
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise InputError(
                label,
                option,
                f"a name in the path is longer than the {limit}-byte limit of the file system",
                "use a shorter file name",
            )


def _existing(path: Path) -> tuple[bool, bool]:
    """(exists, is a folder), without raising on names the OS rejects."""
    try:
        return path.exists(), path.is_dir()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False, False
        raise


def check_output_path(
    path: str | Path, *, option: str, suffixes: Sequence[str] | None = None
) -> Path:
    """``path`` if a file can be written there; otherwise a one-line :class:`InputError`.

    ``suffixes`` (lower case, with the dot) limits the accepted extensions.

    >>> check_output_path("/no/such/folder/fig.png", option="--figure")
    Traceback (most recent call last):
    ...
    ddrisk.errors.InputError: /no/such/folder/fig.png: --figure: folder '/no/such/folder' does not exist; fix: create it first or give --figure a path in an existing folder
    """
    path = Path(path)
    label = display_path(path)
    _check_name_lengths(path, label, option)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        shown = path.suffix or "no extension"
        raise InputError(
            label,
            option,
            f"unsupported file type ({shown})",
            "end the name with " + ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
            if len(suffixes) > 1
            else f"end the name with {suffixes[0]}",
        )
    exists, is_dir = _existing(path)
    if is_dir:
        raise InputError(label, option, "is a folder", f"give {option} a file name")
    parent = path.parent if str(path.parent) else Path(".")
    parent_exists, parent_is_dir = _existing(parent)
    if not parent_exists:
        raise InputError(
            label,
            option,
            f"folder '{display_path(parent)}' does not exist",
            f"create it first or give {option} a path in an existing folder",
        )
    if not parent_is_dir:
        raise InputError(label, option, f"'{display_path(parent)}' is not a folder", "fix the path")
    writable = os.access(path, os.W_OK) if exists else os.access(parent, os.W_OK | os.X_OK)
    if not writable:
        raise InputError(
            label, option, "cannot be written (permission denied)", "choose a writable location"
        )
    return path


def check_output_folder(path: str | Path, *, option: str, create: bool = True) -> Path:
    """A folder outputs can be written into: created when ``create`` (with its parents)."""
    path = Path(path)
    label = display_path(path)
    _check_name_lengths(path, label, option)
    exists, is_dir = _existing(path)
    if exists and not is_dir:
        raise InputError(label, option, "is a file, not a folder", f"give {option} a folder")
    if not exists:
        if not create:
            raise InputError(label, option, "no such folder", "create it first")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InputError(
                label, option, f"cannot be created ({reason})", "fix the path"
            ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(
            label, option, "cannot be written (permission denied)", "choose a writable folder"
        )
    return path
