"""Pieces every adapter shares: the spec base model, located spec errors, verdict helpers.

A layers file is user input, so a bad entry must become one :class:`InputError`
that names the file, the key path inside it and the fix, never a pydantic dump.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ddrisk._hashing import file_sha256
from ddrisk.errors import InputError
from ddrisk.stress.layer import Verdict

LAYER_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
EXCERPT_CHARS = 200
ELLIPSIS = "…"


class LayerSpecBase(BaseModel):
    """Keys every adapter accepts.

    ``version`` is free text that goes into :meth:`config` (and so into the cache
    key): bump it when the code behind a layer changes in a way ddrisk cannot see.
    ``data_files`` lists files (relative to the layers file's folder) whose content
    decides verdicts (word lists, weights, thresholds): their SHA-256 enters
    :meth:`config`, so editing one invalidates the cached verdicts of that layer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=LAYER_NAME_PATTERN, max_length=64)
    description: str = ""
    version: str | None = None
    data_files: list[str] = Field(default_factory=list, max_length=64)


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


def _sentence_part(message: str) -> str:
    """Pydantic's message as part of a sentence: only its first letter lowered.

    Lowering all of it would misquote the constraint (``[A-Za-z]`` is not ``[a-za-z]``).
    """
    return message[:1].lower() + message[1:]


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
        return f"invalid value {given!r} ({_sentence_part(error['msg'])})", "correct the spelling"
    if kind in {"literal_error", "enum"}:
        return f"invalid value {given!r}: {error['msg']}", "use one of the listed values"
    if kind.startswith(("greater_than", "less_than")):
        return (
            f"value {given!r} out of range: {_sentence_part(error['msg'])}",
            "use a value in range",
        )
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
        problem, fix = _explain(dict(first), sorted(model.model_fields))
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
    return flat if len(flat) <= limit else flat[:limit] + ELLIPSIS


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


def small_file_sha256(path: Path, *, max_bytes: int = 16 * 1024 * 1024) -> str | None:
    """Short content hash of a small regular file, so edits to it change the cache key."""
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        return file_sha256(path)[:16]
    except OSError:
        return None


def redact(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of each secret, and of any fragment of it, by ``***``.

    Kept for callers that already bounded their text; :func:`scrub` is the safe
    default since it also bounds the text (in the right order).

    >>> redact("Incorrect key sk-abc123 given", ["sk-abc123"])
    'Incorrect key *** given'
    """
    return scrub(text, secrets)


#: Shortest piece of a secret that is hidden wherever it appears. Shorter runs are
#: too likely to be ordinary text; a whole secret shorter than 4 characters is not
#: treated as one (it would blank out half of every message).
SECRET_FRAGMENT_CHARS = 6
MIN_SECRET_CHARS = 4
#: Server text beyond this many characters is dropped before scrubbing (bounded work).
SCRUB_INPUT_CHARS = 1_000_000


def _secret_spans(text: str, secret: str, *, cut_at_end: bool) -> list[tuple[int, int]]:
    """Spans of ``text`` covered by a fragment of ``secret`` of at least the fragment length.

    Every fragment of length >= w contains a window of length w, and every
    character of it lies in one such window, so marking all occurrences of all
    w-windows of the secret covers every fragment.
    """
    width = min(SECRET_FRAGMENT_CHARS, len(secret))
    spans: list[tuple[int, int]] = []
    for start in range(len(secret) - width + 1):
        window = secret[start : start + width]
        position = text.find(window)
        while position != -1:
            spans.append((position, position + width))
            position = text.find(window, position + 1)
    # Where the text was cut (its end, or an excerpt's "…"), a shorter beginning of
    # the secret may sit just before the cut: hide it too.
    cuts = [len(text)] if cut_at_end else []
    position = text.find(ELLIPSIS)
    while position != -1:
        cuts.append(position)
        position = text.find(ELLIPSIS, position + 1)
    for cut in cuts:
        for length in range(min(len(secret), cut), 1, -1):
            if text.startswith(secret[:length], cut - length):
                spans.append((cut - length, cut))
                break
    return spans


def scrub(text: str, secrets: list[str] | tuple[str, ...], limit: int | None = None) -> str:
    """Server text made safe to store: secrets hidden first, then bounded to ``limit``.

    The order is the point: cutting first could leave most of a key at the cut,
    where a whole-key search no longer finds it. Every run of at least
    :data:`SECRET_FRAGMENT_CHARS` characters taken from a secret becomes ``***``;
    when the input itself had to be cut (beyond :data:`SCRUB_INPUT_CHARS`), a
    trailing beginning of a secret is hidden as well. The result is a one-line
    :func:`excerpt` when ``limit`` is given.

    >>> key = "sk-Zq9XvW2b"
    >>> scrub("bad key " + key + " (" + key[:7] + "...)", [key])
    'bad key *** (***...)'
    >>> scrub("x" * 8 + key, [key], limit=12)
    'xxxxxxxx***'
    """
    usable = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len)
    cut = len(text) > SCRUB_INPUT_CHARS
    if cut:
        text = text[:SCRUB_INPUT_CHARS]
    if usable:
        spans = sorted(
            span for secret in usable for span in _secret_spans(text, secret, cut_at_end=cut)
        )
        if spans:
            pieces: list[str] = []
            position = 0
            start, end = spans[0]
            for next_start, next_end in spans[1:]:
                if next_start <= end:
                    end = max(end, next_end)
                    continue
                pieces += [text[position:start], "***"]
                position = end
                start, end = next_start, next_end
            pieces += [text[position:start], "***", text[end:]]
            text = "".join(pieces)
    return excerpt(text, limit) if limit is not None else text


def resolve_data_files(entries: list[str], *, source: str, prefix: str, root: Path) -> list[Path]:
    """Absolute paths of a spec's ``data_files``; a missing one is a located error."""
    paths = []
    for index, entry in enumerate(entries):
        path = (root / entry).resolve()
        if not path.is_file():
            raise InputError(
                source,
                f"{prefix}.data_files[{index}]",
                f"'{entry}' is not a file",
                "name an existing file (relative to the layers file's folder)",
            )
        paths.append(path)
    return paths


def data_file_digests(paths: list[Path] | tuple[Path, ...]) -> dict[str, str | None]:
    """Full SHA-256 of each declared data file (``None`` if it cannot be read now).

    Hashed on every call, so an edit between two runs changes the layer's
    configuration, hence its cache key: no stale verdicts.
    """
    digests: dict[str, str | None] = {}
    for path in paths:
        try:
            digests[str(path)] = file_sha256(path)
        except OSError:
            digests[str(path)] = None
    return digests
