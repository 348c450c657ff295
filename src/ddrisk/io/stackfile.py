"""Read stack files (``ddrisk audit STACK.yaml``) and the built-in impact scores.

Everything goes through :mod:`ddrisk.io.documents` (duplicate keys, size and alias limits,
located errors). Structural problems come from pydantic, cross-reference problems from
:func:`ddrisk.audit.compile.stack_problems`; either way the first one becomes one
:class:`~ddrisk.errors.InputError` that names the file, the line and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ddrisk._hashing import file_sha256, object_sha256
from ddrisk.audit.compile import CompiledStack, compile_stack, stack_problems
from ddrisk.audit.priorities import CRITERIA, DEFAULT_WEIGHTS, Impact
from ddrisk.audit.stack import StackFile
from ddrisk.errors import InputError
from ddrisk.io.catalog import load_catalog
from ddrisk.io.documents import LocatedDocument, parse_document, read_document
from ddrisk.risk.evidence import StressCountsFile, parse_stress_counts


@dataclass(frozen=True)
class LoadedStack:
    compiled: CompiledStack
    input_sha256: str
    counts: StressCountsFile | None
    impacts: dict[str, Impact]
    weights: dict[str, float]
    counts_sha256: str | None = None


def _explain(error: Any) -> tuple[str, str]:
    kind = error["type"]
    field = error["loc"][-1] if error["loc"] else "stack"
    if kind == "extra_forbidden":
        return (
            f"unknown key '{field}'",
            "remove it or fix its spelling (see `ddrisk audit --schema`)",
        )
    if kind == "missing":
        return f"missing required key '{field}'", f"add '{field}' (see `ddrisk audit --schema`)"
    if kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return (
            f"value {error.get('input')!r} out of range: {error['msg'].lower()}",
            "use a value in the allowed range (probabilities lie in [0, 1])",
        )
    if kind in {"enum", "literal_error"}:
        return (
            f"invalid value {error.get('input')!r}: {error['msg']}",
            "use one of the listed values",
        )
    if kind == "string_pattern_mismatch":
        return f"invalid id or name {error.get('input')!r}", "use letters, digits, '_', '-', '.'"
    return f"{error['msg']} (got {error.get('input')!r})"[:300], "correct the value"


def validate_stack(document: LocatedDocument) -> StackFile:
    """A :class:`StackFile` from a parsed document, or a located :class:`InputError`."""
    if not isinstance(document.data, dict):
        raise document.error((), "a stack file must be a mapping", "see `ddrisk audit --schema`")
    try:
        return StackFile.model_validate(document.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(
            p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        problem, fix = _explain(first)
        raise document.error(loc, problem, fix) from None


def _catalog_source(name: str, stack_path: Path | None) -> str | Path:
    if stack_path is not None:
        candidate = stack_path.parent / name
        if candidate.is_file():
            return candidate
    return name


def load_stack_document(
    document: LocatedDocument, *, stack_path: Path | None = None
) -> LoadedStack:
    stack = validate_stack(document)
    try:
        catalog = load_catalog(_catalog_source(stack.catalog, stack_path))
    except InputError as error:
        raise document.error(("catalog",), f"unknown catalog: {error.problem}", error.fix) from None
    problems = stack_problems(stack, catalog)
    if problems:
        path, problem, fix = problems[0]
        raise document.error(path, problem, fix)
    compiled = compile_stack(stack, catalog, source=document.label)
    impacts, weights = builtin_impacts()
    for mode, score in stack.impact.items():
        known = set(catalog.failure_mode_ids)
        if mode not in known:
            raise document.error(
                ("impact", mode), f"unknown failure mode '{mode}'", "use a catalog failure-mode id"
            )
        impacts[mode] = Impact(**score.model_dump(), source=document.label)
    counts, counts_sha256 = None, None
    if stack.evidence is not None:
        base = stack_path.parent if stack_path is not None else Path.cwd()
        counts_file = base / stack.evidence.counts
        if not counts_file.is_file():
            raise document.error(
                ("evidence", "counts"),
                f"no such file: {counts_file}",
                "give a path relative to the stack file",
            )
        counts = _read_layer_counts(counts_file, compiled.layers)
        counts_sha256 = file_sha256(counts_file)
    return LoadedStack(
        compiled=compiled,
        input_sha256=_sha256(document, stack_path),
        counts=counts,
        impacts=impacts,
        weights=dict(weights),
        counts_sha256=counts_sha256,
    )


def _read_layer_counts(path: Path, layers: tuple[str, ...]) -> StressCountsFile:
    """Stress-test counts keyed by the stack's layer ids.

    The derived catalog also holds the candidate techniques, so the generic counts reader would
    accept a count for a layer that is not deployed and silently leave the audit unchanged;
    here every key must name a deployed layer, and the error points at its line.
    """
    document = read_document(path, what="counts file")
    counts = parse_stress_counts(document.data, source=document.label)
    structured = isinstance(document.data, dict) and set(document.data) <= {"layers", "joint"}
    for name in counts.layers:
        if name not in layers:
            key_path = ("layers", name) if structured else (name,)
            raise document.error(
                key_path,
                f"unknown layer '{name}': the stack deploys {', '.join(layers)}",
                "key the counts by the stack's layer ids",
            )
    return counts


def _sha256(document: LocatedDocument, stack_path: Path | None) -> str:
    if stack_path is not None:
        return file_sha256(stack_path)
    return object_sha256(document.data)


def read_stack(path: str | Path) -> LoadedStack:
    """Read, validate and compile a stack file."""
    path = Path(path)
    document = read_document(path, what="stack file")
    return load_stack_document(document, stack_path=path)


def parse_stack(text: str, *, label: str = "<stack>") -> LoadedStack:
    """Parse stack-file text already in memory (catalog paths resolve from the cwd)."""
    return load_stack_document(parse_document(text, label=label))


def builtin_impacts() -> tuple[dict[str, Impact], dict[str, float]]:
    """The shipped impact scores (ddrisk's own) and the default weights."""
    text = resources.files("ddrisk.audit.data").joinpath("impact-scores.yaml").read_text("utf-8")
    data = parse_document(text, label="built-in impact scores", fmt="yaml").data
    source = str(data["source"])
    impacts = {
        mode: Impact(**{c: float(v[c]) for c in CRITERIA}, rationale=v["rationale"], source=source)
        for mode, v in data["scores"].items()
    }
    return impacts, dict(data.get("weights") or DEFAULT_WEIGHTS)
