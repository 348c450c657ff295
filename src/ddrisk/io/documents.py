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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ddrisk.errors import InputError

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest document read whole (64 MiB): far above any real catalog, below memory trouble."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""
MAX_NODES = 2_000_000
"""Most YAML nodes a document may expand to (after aliases); stops alias bombs."""

KeyPath = tuple[Any, ...]


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


def read_text_file(
    path: str | Path,
    *,
    label: str | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    what: str = "file",
) -> str:
    """Read a UTF-8 text file with a size limit; every OS or encoding failure is an InputError."""
    path = Path(path)
    label = label or str(path)
    try:
        if not path.exists():
            raise InputError(label, None, "no such file", "check the path")
        if path.is_dir():
            raise InputError(label, None, "is a folder, not a file", f"pass the {what} itself")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                label,
                None,
                f"file is {size:,} bytes, over the {max_bytes:,}-byte limit for a {what}",
                "split it or pass a smaller file",
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except InputError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(label, None, f"cannot be read ({reason})", "check the path and its permissions") from None
    if len(raw) > max_bytes:
        raise InputError(
            label, None, f"file is over the {max_bytes:,}-byte limit for a {what}", "pass a smaller file"
        )
    if b"\x00" in raw[:8192]:
        raise InputError(label, "byte " + str(raw.index(b"\x00")), "binary data, not text", f"pass a text {what}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(label, f"byte {exc.start}", "not UTF-8 text", "save the file as UTF-8") from None


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int):
        self.key = key
        self.line = line


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key, 0)
        out[key] = value
    return out


def _check_depth_json(text: str, label: str, max_depth: int) -> None:
    """Reject over-deep JSON before ``json`` recurses into it (RecursionError otherwise)."""
    depth = 0
    in_string = False
    escaped = False
    line = 1
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(
                    label,
                    f"line {line}",
                    f"nested more than {max_depth} levels deep",
                    "flatten the document",
                )
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line += 1


def _parse_json(text: str, label: str, max_depth: int) -> LocatedDocument:
    _check_depth_json(text, label, max_depth)
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs)
    except _DuplicateKey as dup:
        raise InputError(label, None, f"duplicate key '{dup.key}'", "keep one entry per key") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            label,
            f"line {exc.lineno}, column {exc.colno}",
            f"not valid JSON: {exc.msg}",
            "fix the syntax at that position",
        ) from None
    except RecursionError:  # pragma: no cover - depth is checked first
        raise InputError(label, None, "nested too deeply", "flatten the document") from None
    return LocatedDocument(data=data, label=label, lines={})


def _compose_yaml(text: str, label: str, max_depth: int, max_nodes: int) -> LocatedDocument:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = f"malformed YAML: {exc.problem or exc.context}"
        raise InputError(label, where, problem, "fix the syntax at that position") from None
    except yaml.YAMLError as exc:
        raise InputError(label, None, f"malformed YAML: {exc}", "fix the syntax") from None
    except RecursionError:
        raise InputError(label, None, f"nested more than {max_depth} levels deep", "flatten the document") from None
    if node is None:
        return LocatedDocument(data=None, label=label, lines={})
    lines: dict[KeyPath, int] = {}
    count = 0
    # Iterative walk with an explicit stack: checks depth, node count (alias expansion) and
    # duplicate keys, and never recurses in Python. ``active`` holds the nodes on the current
    # path so a self-referencing alias is caught as a cycle.
    stack: list[tuple[yaml.Node, KeyPath, int]] = [(node, (), 0)]
    while stack:
        current, path, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise InputError(
                label,
                None,
                f"expands to more than {max_nodes:,} values (YAML aliases?)",
                "write the values out instead of nesting aliases",
            )
        if depth > max_depth:
            raise InputError(
                label,
                f"line {current.start_mark.line + 1}",
                f"nested more than {max_depth} levels deep (or a self-referencing alias)",
                "flatten the document and remove recursive aliases",
            )
        lines.setdefault(path, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise InputError(
                        label,
                        f"line {key_node.start_mark.line + 1}",
                        "a mapping key must be a plain value",
                        "use a string as the key",
                    )
                key = key_node.value
                if key == "<<":
                    raise InputError(
                        label,
                        f"line {key_node.start_mark.line + 1}",
                        "YAML merge keys ('<<') are not accepted",
                        "write the keys out",
                    )
                if key in seen:
                    where = format_key_path(path) or "the top level"
                    raise InputError(
                        label,
                        f"line {key_node.start_mark.line + 1}",
                        f"duplicate key '{key}' in {where}",
                        "keep one entry per key",
                    )
                seen.add(key)
                lines[(*path, key)] = key_node.start_mark.line + 1
                stack.append((value_node, (*path, key), depth + 1))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                stack.append((item, (*path, index), depth + 1))
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(label, None, f"malformed YAML: {exc}", "fix the syntax") from None
    except RecursionError:
        raise InputError(label, None, "nested too deeply", "flatten the document") from None
    return LocatedDocument(data=data, label=label, lines=lines)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose timestamps stay strings, so dates round-trip exactly as written."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
        fmt = "json" if text.lstrip()[:1] in ("{", "[") and label.lower().endswith(".json") else "yaml"
    document = (
        _parse_json(text, label, max_depth)
        if fmt == "json"
        else _compose_yaml(text, label, max_depth, max_nodes)
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
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> LocatedDocument:
    """Read and parse a YAML/JSON file; ``fmt="auto"`` goes by the suffix (``.json`` is JSON)."""
    path = Path(path)
    text = read_text_file(path, label=label, max_bytes=max_bytes, what=what)
    if fmt == "auto":
        fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_document(text, label=label or str(path), fmt=fmt, max_depth=max_depth)


def require_mapping(document: LocatedDocument, what: str, fix: str) -> dict[str, Any]:
    """The document's top level as a mapping, or a located error saying what was expected."""
    if not isinstance(document.data, dict):
        raise InputError(document.label, "line 1", f"{what} must be a mapping of keys to values", fix)
    return document.data
