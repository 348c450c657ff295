"""One reader for every YAML/JSON document a user hands ddrisk, with located errors and limits.

Catalogs, parameter files, stack files, rater files, layer configs and count files all come
through :func:`read_document` (or :func:`parse_document` for text already in memory), so every
one of them gets the same guarantees:

- every defect becomes an :class:`~ddrisk.errors.InputError` naming the file, the line (and key
  path) and the fix; the CLI prints it as one line and exits 2;
- duplicated mapping keys are rejected (YAML and JSON alike), never "last one wins";
- size, nesting depth and YAML alias expansion are bounded, so a hostile or broken file cannot
  exhaust memory or the interpreter's stack (self-referencing and "billion laughs" aliases are
  refused before they are expanded);
- the parsed value keeps the line of every key path, so validation errors found later (by
  pydantic, say) can still point at a line: :meth:`LocatedDocument.where`.

YAML is read from the parser's event stream (libyaml's C parser where PyYAML has it) and the
value built from those events in :mod:`ddrisk.io._yaml`: that single pass checks depth, alias
expansion and duplicate keys before anything large or recursive is built, and never recurses.
Timestamps stay strings (a catalog's ``version: 2025-01-01`` is text, not a date). JSON is
scanned (strings and brackets only) for depth, duplicate keys and key lines before ``json``
parses it. Limits: :data:`MAX_YAML_BYTES`, :data:`MAX_DOCUMENT_BYTES`, :data:`MAX_DEPTH`,
:data:`MAX_NODES`; text must be UTF-8 without NUL bytes.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest JSON document read whole (64 MiB): far above any real input, below memory trouble."""
MAX_YAML_BYTES = 8 * 1024 * 1024
"""Largest YAML document (8 MiB): YAML is hand-written configuration; real ones are kilobytes."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""
MAX_NODES = 1_000_000
"""Most values (keys, scalars, containers) a YAML document may expand to after its aliases."""
MAX_INTEGER = 10**300
"""Largest integer magnitude read: every number ddrisk reads must fit a float (about 1.8e308)."""
INTEGER_PROBLEM = "an integer past 1e300, beyond any count, score or probability"
INTEGER_FIX = "write a realistic number"

KeyPath = tuple[Any, ...]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_path(path: str | Path) -> str:
    """A file name safe to print on one line: control characters become escapes.

    >>> display_path("a\\nb.yaml")
    'a\\\\nb.yaml'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(path))


@dataclass(frozen=True)
class LocatedDocument:
    """A parsed document, its label for messages, and the line of every key path."""

    data: Any
    label: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def where(self, path: KeyPath) -> str:
        """``"line 12 (ratings[3].level)"`` for a key path, falling back to its nearest parent."""
        probe = tuple(path)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe)
        key_path = format_key_path(path) or "top level"
        return f"line {line} ({key_path})" if line else key_path

    def error(self, path: KeyPath, problem: str, fix: str | None = None) -> InputError:
        """An :class:`InputError` located at ``path`` in this document."""
        return InputError(self.label, self.where(path), problem, fix)


def format_key_path(path: KeyPath) -> str:
    """``("ratings", 3, "level")`` -> ``"ratings[3].level"``.

    >>> format_key_path(("ratings", 3, "level"))
    'ratings[3].level'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---------------------------------------------------------------------------- files
def check_usable_path(path: str | Path, *, label: str | None = None) -> Path:
    """``path`` when the OS can look it up (it may not exist); else a one-line InputError.

    ``Path.exists()`` and ``is_file()`` raise on names the OS refuses (too long, say) instead
    of answering; commands call this first so such a name is a message, not a traceback.
    """
    path = Path(path)
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            label or display_path(path), None, f"cannot be used ({reason})", "check the path"
        ) from None
    except ValueError as exc:  # an embedded NUL byte
        raise InputError(
            label or display_path(path), None, f"cannot be used ({exc})", "check the path"
        ) from None
    return path


def read_bytes_file(
    path: str | Path,
    *,
    label: str | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    what: str = "file",
) -> bytes:
    """A regular file's bytes, within ``max_bytes``; every OS failure is one InputError.

    Missing files, folders, devices and pipes (which could block or never end), unreadable
    files and over-long names all become a message naming the file.
    """
    path = Path(path)
    label = label or display_path(path)
    try:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise InputError(label, None, "no such file", f"check the path of the {what}") from None
        if stat.S_ISDIR(info.st_mode):
            raise InputError(label, None, "is a folder, not a file", f"pass the {what} itself")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(label, None, "is not a regular file", f"pass the {what} itself")
        if info.st_size > max_bytes:
            raise InputError(
                label,
                None,
                f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit for a {what}",
                "split it or pass a smaller file",
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except InputError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            label, None, f"cannot be read ({reason})", "check the path and its permissions"
        ) from None
    if len(raw) > max_bytes:
        raise InputError(
            label,
            None,
            f"file is over the {max_bytes:,}-byte limit for a {what}",
            "pass a smaller file",
        )
    return raw


def decode_text(raw: bytes, *, label: str, what: str = "file") -> str:
    """UTF-8 text (a byte-order mark is dropped); binary data and other encodings are refused."""
    nul = raw.find(b"\x00")  # one C-level scan; no text format ddrisk reads holds a NUL byte
    if nul >= 0:
        raise InputError(label, f"byte {nul}", "binary data, not text", f"pass a text {what}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            label, f"byte {exc.start}", "not UTF-8 text", "save the file as UTF-8"
        ) from None


def read_text_file(
    path: str | Path,
    *,
    label: str | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    what: str = "file",
) -> str:
    """Read a UTF-8 text file with a size limit; every OS or encoding failure is an InputError."""
    label = label or display_path(path)
    raw = read_bytes_file(path, label=label, max_bytes=max_bytes, what=what)
    return decode_text(raw, label=label, what=what)


# ---------------------------------------------------------------------------- JSON
class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(digits: str) -> int:
    value = int(digits)  # Python itself refuses more than 4,300 digits
    if abs(value) > MAX_INTEGER:
        raise ValueError(INTEGER_PROBLEM)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is past the range of a float")
    return value


# Strings as an unrolled loop with possessive repeats: a megabyte-long (or unterminated)
# string is one regex step, with no backtracking state.
_JSON_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_JSON_TOKEN = re.compile(_JSON_STRING + r"|[{}\[\]]", re.DOTALL)
_JSON_STRING_ONLY = re.compile(_JSON_STRING, re.DOTALL)
_JSON_BRACKET_RUN = re.compile(r"[\[{]+|[\]}]+")
_KEY_COLON = re.compile(r"\s*:")
MAX_LOCATED_JSON_CHARS = 8 * 1024 * 1024
"""JSON up to this size gets line numbers; larger documents (tool logs) get the depth check only."""


@dataclass
class _JsonFrame:
    """An object or array being scanned: its key path and where its next element starts."""

    is_object: bool
    path: KeyPath
    key: Any = None
    index: int = 0
    after_previous: int = 0  # text position after the opening bracket or previous element
    seen: set[str] = field(default_factory=set)

    def next_index(self, text: str, start: int) -> int:
        """Arrays: the index of the element at ``start``, from the commas since the last one."""
        self.index += text.count(",", self.after_previous, start)
        return self.index


def _too_deep(label: str, line: int | None, max_depth: int) -> InputError:
    where = f"line {line}" if line else None
    return InputError(
        label, where, f"nested more than {max_depth} levels deep", "flatten the document"
    )


def _scan_json(text: str, label: str, max_depth: int) -> dict[KeyPath, int]:
    """Depth, duplicate keys and key lines of JSON text, before ``json`` parses it.

    A regex visits only strings and brackets (a run of numbers costs nothing), so the scan is
    linear and never recurses; ``json`` would otherwise recurse into a deep document and keep
    the last of two equal keys. Invalid JSON is left for ``json`` to report.
    """
    if len(text) > MAX_LOCATED_JSON_CHARS:
        _check_json_depth(text, label, max_depth)
        return {}
    lines: dict[KeyPath, int] = {}
    frames: list[_JsonFrame] = []
    line, last = 1, 0
    for match in _JSON_TOKEN.finditer(text):
        token, start = match.group(), match.start()
        line += text.count("\n", last, start)
        last = start
        top = frames[-1] if frames else None
        if token[0] == '"':
            if top is not None and top.is_object and _KEY_COLON.match(text, match.end()):
                try:
                    key = json.loads(token)
                except ValueError:
                    key = token[1:-1]
                if key in top.seen:
                    where = format_key_path(top.path) or "the top level"
                    raise InputError(
                        label,
                        f"line {line}",
                        f"duplicate key '{key}' in {where}",
                        "keep one entry per key",
                    )
                top.seen.add(key)
                top.key = key
                lines[(*top.path, key)] = line
            elif top is not None and not top.is_object:
                lines.setdefault((*top.path, top.next_index(text, start)), line)
                top.after_previous = match.end()
        elif token in "{[":
            if top is None:
                path: KeyPath = ()
            elif top.is_object:
                path = (*top.path, top.key)
            else:
                path = (*top.path, top.next_index(text, start))
            lines.setdefault(path, line)
            if len(frames) >= max_depth:
                raise _too_deep(label, line, max_depth)
            frames.append(_JsonFrame(token == "{", path, after_previous=match.end()))
        elif frames:
            frames.pop()
            if frames:
                frames[-1].after_previous = match.end()
    return lines


def _check_json_depth(text: str, label: str, max_depth: int) -> None:
    """Depth only, for large documents: strings removed in C, then runs of brackets counted."""
    depth = 0
    for run in _JSON_BRACKET_RUN.finditer(_JSON_STRING_ONLY.sub("", text)):
        token = run.group()
        depth += len(token) if token[0] in "[{" else -len(token)
        if depth > max_depth:
            raise _too_deep(label, None, max_depth)


def _parse_json(text: str, label: str, max_depth: int) -> LocatedDocument:
    lines = _scan_json(text, label, max_depth)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_json_pairs,
            parse_constant=_reject_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except _DuplicateKey as dup:  # pragma: no cover - the scan finds duplicates first
        raise InputError(
            label, None, f"duplicate key '{dup.key}'", "keep one entry per key"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            label,
            f"line {exc.lineno}, column {exc.colno}",
            f"malformed JSON: {exc.msg}",
            "fix the syntax at that position",
        ) from None
    except ValueError as exc:  # NaN/Infinity, or a number past the limits
        raise InputError(
            label, None, f"malformed JSON: {str(exc).splitlines()[0]}", "write plain finite numbers"
        ) from None
    except RecursionError:  # pragma: no cover - depth is checked first
        raise InputError(label, None, "nested too deeply", "flatten the document") from None
    return LocatedDocument(data=data, label=label, lines=lines)


def parse_document(
    text: str,
    *,
    label: str = "<document>",
    fmt: str = "auto",
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    allow_empty: bool = False,
) -> LocatedDocument:
    """Parse YAML or JSON text (``fmt``: ``"yaml"``, ``"json"`` or ``"auto"``) with every limit.

    >>> parse_document("a: 1\\nb: [x, y]\\n").data
    {'a': 1, 'b': ['x', 'y']}
    >>> parse_document("a: 1\\na: 2\\n", label="p.yaml")
    Traceback (most recent call last):
    ...
    ddrisk.errors.InputError: p.yaml: line 2: duplicate key 'a' in the top level; fix: keep one entry per key
    """
    if fmt == "auto":
        fmt = (
            "json"
            if text.lstrip()[:1] in ("{", "[") and label.lower().endswith(".json")
            else "yaml"
        )
    from ddrisk.io._yaml import parse_yaml

    if fmt not in ("json", "yaml"):
        raise ValueError(f"fmt must be 'yaml', 'json' or 'auto', not {fmt!r}")
    document = (
        _parse_json(text, label, max_depth)
        if fmt == "json"
        else parse_yaml(text, label, max_depth, max_nodes)
    )
    if document.data is None and not allow_empty:
        raise InputError(label, "line 1", "the file is empty", "write the document's content")
    return document


def read_document(
    path: str | Path,
    *,
    label: str | None = None,
    fmt: str = "auto",
    what: str = "document",
    max_bytes: int | None = None,
    max_depth: int = MAX_DEPTH,
    allow_empty: bool = False,
) -> LocatedDocument:
    """Read and parse a YAML/JSON file; ``fmt="auto"`` goes by the suffix (``.json`` is JSON).

    ``max_bytes`` defaults to :data:`MAX_YAML_BYTES` for YAML and :data:`MAX_DOCUMENT_BYTES`
    for JSON.
    """
    path = Path(path)
    if fmt == "auto":
        fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    if max_bytes is None:
        max_bytes = MAX_DOCUMENT_BYTES if fmt == "json" else MAX_YAML_BYTES
    label = label or display_path(path)
    text = read_text_file(path, label=label, max_bytes=max_bytes, what=what)
    return parse_document(text, label=label, fmt=fmt, max_depth=max_depth, allow_empty=allow_empty)


def require_mapping(document: LocatedDocument, what: str, fix: str) -> dict[str, Any]:
    """The document's top level as a mapping, or a located error saying what was expected."""
    if not isinstance(document.data, dict):
        raise InputError(
            document.label, "line 1", f"{what} must be a mapping of keys to values", fix
        )
    return document.data
