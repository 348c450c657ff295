"""YAML read from the parser's events, checking every limit before anything is built.

Private to :mod:`ddrisk.io.documents` (use :func:`~ddrisk.io.documents.parse_document`).
PyYAML's composer recurses per nesting level and builds every node before anyone can count
them; here libyaml's C parser (where PyYAML has it) produces events, and one loop builds the
value with an explicit stack: depth, values after alias expansion, duplicate keys, merge keys,
tags and self-referencing aliases are all checked as the events arrive.

Speed (catalogs of thousands of ratings): events are pulled from the parser directly (no
generator), dispatched on their class, and a plain scalar's value is resolved and constructed
once per distinct text (``prone``, ``bench``, ``1.0`` recur thousands of times; the values are
immutable, so sharing them is safe). Without libyaml the pure-Python parser gives the same
events, more slowly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

from ddrisk.errors import InputError
from ddrisk.io.documents import (
    INTEGER_FIX,
    INTEGER_PROBLEM,
    MAX_INTEGER,
    KeyPath,
    LocatedDocument,
    format_key_path,
)


class _Resolver(Resolver):
    """The standard implicit types, except timestamps (they stay strings, exactly as written)."""


_Resolver.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in Resolver.yaml_implicit_resolvers.items()
}


def _event_parser(text: str) -> Any:
    """libyaml's C event parser when PyYAML was built with it, else the pure-Python one."""
    if getattr(yaml, "__with_libyaml__", False):
        from yaml._yaml import CParser

        return CParser(text)
    return yaml.SafeLoader(text)


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "binary", "timestamp")
}
_NO_KEY = object()


@dataclass
class _Frame:
    """A mapping or sequence being built from YAML events."""

    container: dict[Any, Any] | list[Any]
    path: KeyPath
    anchor: str | None
    size: int = 1
    key: Any = _NO_KEY
    key_line: int = 0


class _YamlBuilder:
    """Builds a value from YAML events, checking every limit as it goes (no recursion)."""

    def __init__(self, label: str, max_depth: int, max_nodes: int):
        self.label = label
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.resolver = _Resolver()
        self.constructor = SafeConstructor()
        self.frames: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.lines: dict[KeyPath, int] = {}
        self.count = 0
        self.documents = 0
        self.root: Any = None
        self.plain: dict[tuple[str, Any], Any] = {}  # (text, implicit) -> constructed value

    def fail(self, line: int, problem: str, fix: str) -> InputError:
        return InputError(self.label, f"line {line}", problem, fix)

    def build(self, text: str) -> LocatedDocument:
        parser = _event_parser(text)
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        start_events = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
        end_events = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        try:
            while True:
                event = parser.get_event()
                if event is None:
                    break
                kind = event.__class__
                mark = event.start_mark
                line = mark.line + 1 if mark is not None else 1
                if kind is scalar_event and event.anchor is None and self.frames:
                    self.plain_scalar(event, line)
                elif kind is scalar_event or kind is alias_event:
                    self.node(event, line)
                elif kind in start_events:
                    self.start(event, line)
                elif kind in end_events:
                    frame = self.frames.pop()
                    self.attach(frame.container, frame.size, frame.anchor, line, counted=True)
                elif kind is yaml.DocumentStartEvent:
                    self.documents += 1
                    if self.documents > 1:
                        raise self.fail(
                            line,
                            "more than one YAML document ('---')",
                            "keep one document per file",
                        )
        finally:
            parser.dispose()
        return LocatedDocument(data=self.root, label=self.label, lines=self.lines)

    def plain_scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        """The hot path: a scalar without anchor inside a container (``node`` + ``attach``).

        The same checks as the general path (merge keys, duplicate keys, the node limit),
        written out once for the case that makes up nearly every event of a large catalog.
        """
        top = self.frames[-1]
        container = top.container
        if container.__class__ is dict:
            if top.key is _NO_KEY:
                if event.value == "<<" and event.implicit[0]:
                    raise self.fail(
                        line, "YAML merge keys ('<<') are not accepted", "write the keys out"
                    )
                value = self.scalar(event, line)
                if value in container:
                    where = format_key_path(top.path) or "the top level"
                    raise self.fail(
                        line, f"duplicate key '{value}' in {where}", "keep one entry per key"
                    )
                self.grow(1, line)
                top.key, top.key_line = value, line
                self.lines[(*top.path, value)] = line
                top.size += 1
                return
            value = self.scalar(event, line)
            self.lines.setdefault((*top.path, top.key), line)
            self.grow(1, line)
            top.size += 1
            container[top.key] = value
            top.key = _NO_KEY
            return
        value = self.scalar(event, line)
        self.lines.setdefault((*top.path, len(container)), line)
        self.grow(1, line)
        top.size += 1
        container.append(value)  # type: ignore[union-attr]

    def scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            cache_key = (event.value, event.implicit)
            if cache_key in self.plain:
                return self.plain[cache_key]
            value = self._construct(event, line, None)
            self.plain[cache_key] = value
            return value
        return self._construct(event, line, tag)

    def _construct(self, event: yaml.ScalarEvent, line: int, tag: str | None) -> Any:
        """Resolve (``tag`` None: from the text) and construct one scalar, checking limits."""
        if tag is None:
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise self.fail(line, f"unsupported YAML tag '{event.tag}'", "remove the tag")
        node = yaml.ScalarNode(tag, event.value, style=event.style)
        try:
            value = SafeConstructor.yaml_constructors[tag](self.constructor, node)
        except (ConstructorError, ValueError, OverflowError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.fail(
                line, f"cannot read value ({reason[:200]})", "write a plain value"
            ) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            raise self.fail(line, INTEGER_PROBLEM, INTEGER_FIX)
        return value

    def node(self, event: yaml.ScalarEvent | yaml.AliasEvent, line: int) -> None:
        top = self.frames[-1] if self.frames else None
        if top is not None and isinstance(top.container, dict) and top.key is _NO_KEY:
            self.key(top, event, line)
            return
        if isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in self.open_anchors:
                raise self.fail(
                    line,
                    f"self-referencing alias '*{name}'",
                    "remove the alias from inside its own anchor",
                )
            if name not in self.anchors:
                raise self.fail(
                    line,
                    f"alias '*{name}' has no anchor '&{name}' before it",
                    "define the anchor first",
                )
            value, size = self.anchors[name]
            self.attach(value, size, None, line, counted=False)
        else:
            self.attach(self.scalar(event, line), 1, event.anchor, line, counted=False)

    def key(self, frame: _Frame, event: yaml.ScalarEvent | yaml.AliasEvent, line: int) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            raise self.fail(line, "a mapping key must be a plain value", "use a string as the key")
        if event.value == "<<" and event.implicit[0]:
            raise self.fail(line, "YAML merge keys ('<<') are not accepted", "write the keys out")
        key = self.scalar(event, line)
        assert isinstance(frame.container, dict)
        if key in frame.container:
            where = format_key_path(frame.path) or "the top level"
            raise self.fail(line, f"duplicate key '{key}' in {where}", "keep one entry per key")
        self.grow(1, line)
        frame.key, frame.key_line = key, line
        self.lines[(*frame.path, key)] = line
        frame.size += 1
        if event.anchor is not None:
            self.anchors[event.anchor] = (key, 1)

    def child_path(self) -> KeyPath:
        if not self.frames:
            return ()
        top = self.frames[-1]
        if isinstance(top.container, dict):
            return (*top.path, top.key)
        return (*top.path, len(top.container))

    def start(self, event: yaml.SequenceStartEvent | yaml.MappingStartEvent, line: int) -> None:
        top = self.frames[-1] if self.frames else None
        if top is not None and isinstance(top.container, dict) and top.key is _NO_KEY:
            raise self.fail(line, "a mapping key must be a plain value", "use a string as the key")
        is_map = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (None, "!", _MAP_TAG if is_map else _SEQ_TAG):
            raise self.fail(line, f"unsupported YAML tag '{event.tag}'", "remove the tag")
        if len(self.frames) >= self.max_depth:
            raise self.fail(
                line,
                f"nested more than {self.max_depth} levels deep",
                "flatten the document",
            )
        path = self.child_path()
        self.lines.setdefault(path, line)
        self.grow(1, line)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.frames.append(_Frame({} if is_map else [], path, event.anchor))

    def grow(self, size: int, line: int) -> None:
        self.count += size
        if self.count > self.max_nodes:
            raise self.fail(
                line,
                f"expands to more than {self.max_nodes:,} values (YAML aliases?)",
                "write the values out instead of nesting aliases",
            )

    def attach(
        self, value: Any, size: int, anchor: str | None, line: int, *, counted: bool
    ) -> None:
        """Put a finished value in its parent; ``counted``: its own node was counted at its start."""
        if not counted:
            self.lines.setdefault(self.child_path(), line)
            self.grow(size, line)
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.anchors[anchor] = (value, size)
        if not self.frames:
            self.root = value
            return
        top = self.frames[-1]
        top.size += size
        if isinstance(top.container, dict):
            top.container[top.key] = value
            top.key = _NO_KEY
        else:
            top.container.append(value)


def parse_yaml(text: str, label: str, max_depth: int, max_nodes: int) -> LocatedDocument:
    try:
        return _YamlBuilder(label, max_depth, max_nodes).build(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = str(exc.problem or exc.context or "syntax error").replace("\n", " ")
        raise InputError(
            label, where, f"malformed YAML: {problem}", "fix the syntax at that position"
        ) from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())[:300]
        raise InputError(label, None, f"malformed YAML: {problem}", "fix the syntax") from None
