"""One entry point for outcome logs of other tools: recognise the format, read, join files.

Each supported tool has a ``read_<tool>(path, ...)`` / ``parse_<tool>(content, ...)`` pair in
its own module (:mod:`ddrisk.io.garak`, :mod:`ddrisk.io.promptfoo`,
:mod:`ddrisk.io.inspect_log`); this registry knows how to tell their files apart by content,
which reading options each one takes, and how to join several files into one
:class:`~ddrisk.stress.matrix.OutcomeMatrix`. The CLI, the report and the Python API all go
through :func:`read_outcomes`, so a log is recognised and read the same way everywhere.
"""

from __future__ import annotations

import inspect as _signature
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.io._outcome_records import check_file, merge_matrices
from ddrisk.stress.matrix import OutcomeMatrix

_SNIFF_BYTES = 65536


@dataclass(frozen=True)
class OutcomeFormat:
    """A tool's outcome-log format: its name, how to recognise it, and its reader."""

    name: str
    description: str
    recognise: Callable[[bytes, bool], bool]
    """``(first 64 KiB of the file, whether it is a zip archive) -> is it this format``."""
    reader: Callable[[], Callable[..., OutcomeMatrix]]
    """Returns ``read_<tool>`` (imported lazily so that start-up stays fast)."""
    supported_versions: Callable[[], tuple[Any, ...]]

    def options(self) -> frozenset[str]:
        """The keyword options ``read_<tool>`` accepts."""
        parameters = _signature.signature(self.reader()).parameters.values()
        return frozenset(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)


def _text(head: bytes) -> tuple[str, str]:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return text, (text.splitlines()[0] if text else "")


def _is_garak(head: bytes, is_zip: bool) -> bool:
    return not is_zip and '"entry_type"' in _text(head)[1]


def _is_promptfoo(head: bytes, is_zip: bool) -> bool:
    text = _text(head)[0]
    return not is_zip and any(k in text for k in ('"evalId"', '"promptIdx"', '"componentResults"'))


def _is_inspect(head: bytes, is_zip: bool) -> bool:
    text = _text(head)[0]
    return is_zip or (text.startswith("{") and ('"samples"' in text or '"eval"' in text))


def _garak_reader() -> Callable[..., OutcomeMatrix]:
    from ddrisk.io.garak import read_garak

    return read_garak


def _promptfoo_reader() -> Callable[..., OutcomeMatrix]:
    from ddrisk.io.promptfoo import read_promptfoo

    return read_promptfoo


def _inspect_reader() -> Callable[..., OutcomeMatrix]:
    from ddrisk.io.inspect_log import read_inspect

    return read_inspect


def _garak_versions() -> tuple[Any, ...]:
    from ddrisk.io.garak import SUPPORTED_GARAK_VERSIONS

    return SUPPORTED_GARAK_VERSIONS


def _promptfoo_versions() -> tuple[Any, ...]:
    from ddrisk.io.promptfoo import SUPPORTED_PROMPTFOO_VERSIONS

    return SUPPORTED_PROMPTFOO_VERSIONS


def _inspect_versions() -> tuple[Any, ...]:
    from ddrisk.io.inspect_log import SUPPORTED_INSPECT_VERSIONS

    return SUPPORTED_INSPECT_VERSIONS


OUTCOME_FORMATS: dict[str, OutcomeFormat] = {
    # order matters: the first format that recognises a file wins
    "garak": OutcomeFormat(
        "garak", "garak report.jsonl", _is_garak, _garak_reader, _garak_versions
    ),
    "promptfoo": OutcomeFormat(
        "promptfoo",
        "promptfoo JSON output (promptfoo eval -o results.json)",
        _is_promptfoo,
        _promptfoo_reader,
        _promptfoo_versions,
    ),
    "inspect": OutcomeFormat(
        "inspect",
        "inspect_ai log (.eval or .json)",
        _is_inspect,
        _inspect_reader,
        _inspect_versions,
    ),
}
"""The registry of importable formats, by the name ``format=`` takes."""


#: Files inside a ddrisk run folder, which ``stress analyze`` reads as the folder.
_RUN_FILES = frozenset({"results.jsonl", "manifest.json", "run.sqlite"})


def detect_format(path: str | Path) -> str:
    """The registry name of a result file's format, recognised from its content."""
    path = check_file(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        # by the directory, or by the first bytes (a truncated archive has lost its directory)
        is_zip = head.startswith(b"PK\x03\x04") or zipfile.is_zipfile(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(str(path), None, f"cannot be read ({reason})", "check the path") from None
    for name, entry in OUTCOME_FORMATS.items():
        if entry.recognise(head, is_zip):
            return name
    if path.name in _RUN_FILES and (path.parent / "manifest.json").is_file():
        # A user pointing at ddrisk's own results.jsonl or store: the run is its folder.
        raise InputError(
            str(path),
            None,
            f"{path.name} is a file of a ddrisk run, not a tool's result file",
            f"pass the run folder instead: ddrisk stress analyze {path.parent}",
        )
    names = ", ".join(OUTCOME_FORMATS)
    raise InputError(
        str(path),
        None,
        "not a recognisable result file ("
        + "; ".join(f.description for f in OUTCOME_FORMATS.values())
        + ")",
        f"name the format ({names})",
    )


def read_outcomes(
    paths: str | Path | Sequence[str | Path],
    *,
    format: str = "auto",
    **options: Any,
) -> OutcomeMatrix:
    """Read one or several result files of one tool into one outcome matrix.

    Parameters
    ----------
    paths
        A result file, or several (several garak reports of one campaign, say). Items are
        matched by id across files; a cell judged in two files is an error.
    format
        ``"auto"`` (recognise each file from its content) or a name in
        :data:`OUTCOME_FORMATS`.
    options
        Reading options of the format's ``read_<tool>`` (``threshold``, ``family_key``...).
        ``None`` means the reader's default. Options of the other formats are ignored, so
        one set of options can serve whatever the file turns out to be; a name no format
        takes is an error.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise InputError("<arguments>", "paths", "no result file given", "pass at least one file")
    if format != "auto" and format not in OUTCOME_FORMATS:
        raise InputError(
            "<arguments>",
            "format",
            f"unknown format {format!r}",
            "use auto or one of " + ", ".join(OUTCOME_FORMATS),
        )
    chosen: list[tuple[Path, str]] = []
    for raw in paths:
        path = check_file(raw)
        chosen.append((path, detect_format(path) if format == "auto" else format))
    names = {name for _, name in chosen}
    if len(names) > 1:
        listing = ", ".join(f"{p.name} ({n})" for p, n in chosen)
        raise InputError(
            "<arguments>",
            "paths",
            f"files of different tools cannot be joined: {listing}",
            "analyse each tool's results separately",
        )
    entry = OUTCOME_FORMATS[chosen[0][1]]
    accepted = entry.options()
    known = set().union(*(f.options() for f in OUTCOME_FORMATS.values()))
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key in accepted:
            if value is not None:
                kwargs[key] = value
        elif key not in known:
            raise InputError("<arguments>", key, "not a reading option of any format", "drop it")
    reader = entry.reader()
    parts = [(str(path), reader(path, **kwargs)) for path, _ in chosen]
    return merge_matrices(parts, fmt=entry.name)


__all__ = ["OUTCOME_FORMATS", "OutcomeFormat", "detect_format", "read_outcomes"]
