"""Pieces every adapter shares: the spec base model, located spec errors, verdict helpers.

A layers file is user input, so a bad entry must become one :class:`InputError`
that names the file, the key path inside it and the fix, never a pydantic dump.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ddrisk.errors import InputError
from ddrisk.stress.layer import Verdict

LAYER_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
EXCERPT_CHARS = 200


class LayerSpecBase(BaseModel):
    """Keys every adapter accepts.

    ``version`` is free text that goes into :meth:`config` (and so into the cache
    key): bump it when the code behind a layer changes in a way ddrisk cannot see.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=LAYER_NAME_PATTERN, max_length=64)
    description: str = ""
    version: str | None = None


SpecT = TypeVar("SpecT", bound=LayerSpecBase)


def spec_where(spec: Any, where: str | None) -> str:
    """The key-path prefix used in errors: ``where`` if given, else ``layer 'NAME'``."""
    if where:
        return where
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        return f"layer '{spec['name']}'"
    return "layer"


def join_path(prefix: str, loc: tuple[Any, ...]) -> str:
    """Append a pydantic location to a key-path prefix.

    >>> join_path("layers[2]", ("env", "HOME"))
    'layers[2].env.HOME'
    >>> join_path("layer 'x'", ("command", 0))
    "layer 'x'.command[0]"
    """
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_HINTS = {
    "api_key": "never write a key into the layers file; put it in an environment variable "
    "and name that variable in 'api_key_env'",
    "key": "put secrets in an environment variable and name it in 'api_key_env'",
}


def _explain(error: dict[str, Any], allowed: list[str]) -> tuple[str, str]:
    kind = error["type"]
    loc = error["loc"]
    field = loc[-1] if loc else "spec"
    given = error.get("input")
    if kind == "extra_forbidden":
        fix = _HINTS.get(str(field), f"remove it or use one of: {', '.join(allowed)}")
        return f"unknown key '{field}'", fix
    if kind == "missing":
        return f"missing required key '{field}'", f"add '{field}'"
    if kind == "string_pattern_mismatch":
        return f"invalid value {given!r} ({error['msg'].lower()})", "correct the spelling"
    if kind in {"literal_error", "enum"}:
        return f"invalid value {given!r}: {error['msg']}", "use one of the listed values"
    if kind.startswith(("greater_than", "less_than")):
        return f"value {given!r} out of range: {error['msg'].lower()}", "use a value in range"
    return f"{error['msg']} (got {given!r})"[:300], "correct the value's type or content"


def validate_spec(model: type[SpecT], spec: Any, *, source: str, where: str | None) -> SpecT:
    """Validate one layer entry, raising a located :class:`InputError` on the first problem."""
    prefix = spec_where(spec, where)
    if not isinstance(spec, dict):
        raise InputError(
            source,
            prefix,
            f"a layer must be a mapping, got {type(spec).__name__}",
            "write key: value pairs",
        )
    try:
        return model.model_validate(spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(
            p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        problem, fix = _explain(first, sorted(model.model_fields))
        raise InputError(source, join_path(prefix, loc), problem, fix) from None


def base_dir(source: str) -> Path:
    """Directory that relative paths in a layers file are resolved against."""
    path = Path(source)
    return path.parent.resolve() if path.is_file() else Path.cwd()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A bounded, single-line excerpt for details and error messages.

    >>> excerpt("a\\nb" + "x" * 300, 10)
    'a\\\\nbxxxxxx…'
    """
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def error_verdict(message: str, *, latency_ms: float = 0.0, **detail: Any) -> Verdict:
    """A verdict that is neither pass nor block."""
    return Verdict(blocked=None, score=None, latency_ms=latency_ms, error=message, detail=detail)


def finite_score(value: Any) -> float | None:
    """``float(value)`` for real numbers (not booleans), ``None`` otherwise or when not finite.

    >>> finite_score(0.25), finite_score(True), finite_score(float("nan")), finite_score("1")
    (0.25, None, None, None)
    """
    if isinstance(value, bool | np.bool_):
        return None
    if not hasattr(value, "__float__") or isinstance(value, str | bytes):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def file_sha256(path: Path, *, max_bytes: int = 16 * 1024 * 1024) -> str | None:
    """Short content hash of a small regular file, so edits to it change the cache key."""
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def redact(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of each secret (length >= 4) by ``***``.

    >>> redact("Incorrect key sk-abc123 given", ["sk-abc123"])
    'Incorrect key *** given'
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = re.sub(re.escape(secret), "***", text)
    return text
