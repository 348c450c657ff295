"""Read catalogs from YAML or JSON and turn every defect into a located, one-line error."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ddrisk.catalog.checks import catalog_problems
from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError

DEFAULT_CATALOG = "dung-mai-2025"
_BUILTIN_PACKAGE = "ddrisk.catalog.data"


def builtin_catalog_names() -> list[str]:
    """Names accepted wherever a catalog is asked for.

    >>> "dung-mai-2025" in builtin_catalog_names()
    True
    """
    files = resources.files(_BUILTIN_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml"))


def _read_text(source: str | Path) -> tuple[str, str]:
    """Resolve a path or built-in name into (label for errors, text)."""
    path = Path(source)
    if path.is_file():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                str(path), f"byte {exc.start}", "not UTF-8 text", "save the file as UTF-8"
            ) from None
    name = str(source)
    if name in builtin_catalog_names():
        text = (
            resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        )
        return f"built-in catalog {name}", text
    if path.exists():
        raise InputError(name, None, "is not a file", "pass a catalog .yaml/.json file")
    raise InputError(
        name,
        None,
        "no such file and no built-in catalog of that name",
        f"pass a path to a .yaml/.json catalog or one of: {', '.join(builtin_catalog_names())}",
    )


# ------------------------------------------------------------------ YAML with positions
def _compose(label: str, text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML (or JSON) keeping the line of every key path; reject duplicate keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = f"malformed YAML/JSON: {exc.problem or exc.context}"
        raise InputError(label, where, problem, "fix the syntax at that position") from None
    except yaml.YAMLError as exc:
        raise InputError(label, None, f"malformed YAML/JSON: {exc}", "fix the syntax") from None
    if node is None:
        raise InputError(
            label, "line 1", "the file is empty", "write a catalog mapping (see `ddrisk schema`)"
        )
    lines: dict[tuple[Any, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in n.value:
                key = key_node.value
                if key in seen:
                    raise InputError(
                        label,
                        f"line {key_node.start_mark.line + 1}",
                        f"duplicate key '{key}' in {_format_path(path) or 'the top level'}",
                        "keep one entry per key",
                    )
                seen.add(key)
                lines[(*path, key)] = key_node.start_mark.line + 1
                walk(value_node, (*path, key))
                lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for index, item in enumerate(n.value):
                walk(item, (*path, index))

    walk(node, ())
    try:
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:  # pragma: no cover - compose already parsed it
        raise InputError(label, None, f"malformed YAML/JSON: {exc}", "fix the syntax") from None
    return data, lines


def _format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _where(path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> str:
    probe = tuple(path)
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    key_path = _format_path(path) or "top level"
    return f"line {line} ({key_path})" if line else key_path


def _explain(error: dict[str, Any], data: Any) -> tuple[str, str]:
    kind = error["type"]
    loc = error["loc"]
    field = loc[-1] if loc else "catalog"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'", "remove it or correct its spelling (see `ddrisk schema`)"
    if kind == "missing":
        return f"missing required key '{field}'", f"add '{field}' (see `ddrisk schema`)"
    if kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return (
            f"value {error.get('input')!r} out of range: {error['msg'].lower()}",
            "use a value in the allowed range",
        )
    if kind == "string_pattern_mismatch":
        return (
            f"invalid id {error.get('input')!r}",
            "start ids with a letter and use only letters, digits, '_', '-' or '.'",
        )
    if kind in {"enum", "literal_error"}:
        return (
            f"invalid value {error.get('input')!r}: {error['msg']}",
            "use one of the listed values",
        )
    return f"{error['msg']} (got {error.get('input')!r})"[
        :300
    ], "correct the value's type or content"


def parse_catalog(text: str, *, label: str = "<catalog>") -> Catalog:
    """Validate catalog text; raise :class:`InputError` at the first located problem."""
    data, lines = _compose(label, text)
    if not isinstance(data, dict):
        raise InputError(
            label, "line 1", "a catalog must be a mapping of keys to values", "see `ddrisk schema`"
        )
    try:
        catalog = Catalog.model_validate(data, context={"skip_cross_checks": True})
    except ValidationError as exc:
        first = exc.errors()[0]
        problem, fix = _explain(first, data)
        loc = tuple(
            part
            for part in first["loc"]
            if not (isinstance(part, str) and part.startswith("function-"))
        )
        raise InputError(label, _where(loc, lines), problem, fix) from None
    problems = catalog_problems(catalog)
    if problems:
        path, problem, fix = problems[0]
        raise InputError(label, _where(path, lines), problem, fix)
    return catalog


def load_catalog(source: str | Path | None = None) -> Catalog:
    """Load a catalog from a file path or a built-in name (default ``dung-mai-2025``).

    >>> catalog = load_catalog()
    >>> len(catalog.techniques), len(catalog.failure_modes), len(catalog.ratings)
    (7, 7, 49)
    """
    label, text = _read_text(DEFAULT_CATALOG if source is None else source)
    return parse_catalog(text, label=label)


def catalog_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the catalog format."""
    schema = Catalog.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ddrisk.dev/schema/catalog-1.0.json"
    schema["title"] = "ddrisk catalog"
    return schema


def dump_catalog(catalog: Catalog, *, fmt: str = "yaml") -> str:
    """Serialise a catalog back to YAML or JSON (round-trips through :func:`parse_catalog`)."""
    data = catalog.model_dump(mode="json", exclude_none=True)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
