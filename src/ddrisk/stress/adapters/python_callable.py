"""A safety layer that is plain Python: a function, or an object with a batch method.

How the adapter decides how to call the target (``target: "module:attribute"``):

* the attribute is a **class**: it is instantiated with the ``init`` mapping as
  keyword arguments, then treated as an object (next case);
* the attribute is an **object with a** ``method`` (default ``check``): the method is
  a batch call, ``obj.check(texts)`` returning one value per text;
* the attribute is a **function** (any other callable): called once per item,
  ``fn(text)``, unless ``batch: true`` says it takes the whole list, ``fn(texts)``.

A callable that declares a ``role`` parameter (per item) or a ``roles`` parameter
(batch) also receives the item role(s), ``"user"`` or ``"assistant"``.

Accepted return values, per item: ``bool`` (blocked); a real number (a score,
blocked when ``score >= threshold``); a mapping with ``blocked`` and/or ``score``
(and optionally ``error``; other keys are kept in the verdict detail); or a
:class:`~ddrisk.stress.layer.Verdict`. Anything else, ``NaN``, or an exception is an
*error* for that item (for a batch call, for every item of that batch): never a
pass, never a block.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ddrisk.errors import InputError
from ddrisk.stress.adapters._common import (
    LayerSpecBase,
    base_dir,
    data_file_digests,
    error_verdict,
    excerpt,
    finite_score,
    resolve_data_files,
    small_file_sha256,
    validate_spec,
)
from ddrisk.stress.layer import Item, Verdict

CallMode = Literal["per_item", "batch_function", "batch_method"]
_MAX_DETAIL_CHARS = 1000


class PythonCallableSpec(LayerSpecBase):
    """Layers-file entry for ``kind: python``."""

    kind: Literal["python"]
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    batch: bool = False
    method: str = Field(default="check", pattern=r"^[A-Za-z_]\w*$")
    init: dict[str, Any] = Field(default_factory=dict)
    threshold: float = 0.5
    batch_size: int = Field(default=64, ge=1, le=100_000)
    python_path: list[str] = Field(default_factory=list)


def _accepts(func: Callable[..., Any], parameter: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return parameter in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _error_text(exc: BaseException) -> str:
    return excerpt(f"{type(exc).__name__}: {exc}", 300)


def value_to_verdict(value: Any, *, threshold: float, latency_ms: float = 0.0) -> Verdict:
    """Interpret one return value of a user callable.

    >>> value_to_verdict(True, threshold=0.5).blocked
    True
    >>> v = value_to_verdict(0.7, threshold=0.5); (v.blocked, v.score)
    (True, 0.7)
    >>> value_to_verdict({"score": 0.2}, threshold=0.5).blocked
    False
    >>> value_to_verdict("yes", threshold=0.5).error
    "unsupported return value 'yes' (str): return a bool, a score, or {'blocked', 'score'}"
    """
    if isinstance(value, Verdict):
        return value if value.latency_ms else dataclasses.replace(value, latency_ms=latency_ms)
    if isinstance(value, bool | np.bool_):
        return Verdict(blocked=bool(value), latency_ms=latency_ms)
    score = finite_score(value)
    if score is not None:
        return Verdict(blocked=score >= threshold, score=score, latency_ms=latency_ms)
    if isinstance(value, Mapping):
        return _mapping_to_verdict(value, threshold=threshold, latency_ms=latency_ms)
    if value is not None and hasattr(value, "__float__") and not isinstance(value, str | bytes):
        return error_verdict(f"score {value!r} is not a finite number", latency_ms=latency_ms)
    return error_verdict(
        f"unsupported return value {excerpt(repr(value), 80)} ({type(value).__name__}): "
        "return a bool, a score, or {'blocked', 'score'}",
        latency_ms=latency_ms,
    )


def _mapping_to_verdict(
    value: Mapping[str, Any], *, threshold: float, latency_ms: float
) -> Verdict:
    extra = {str(k): v for k, v in value.items() if k not in {"blocked", "score", "error"}}
    detail: dict[str, Any] = {}
    if extra:
        text = json.dumps(extra, default=str, ensure_ascii=False)
        detail["extra"] = (
            extra if len(text) <= _MAX_DETAIL_CHARS else excerpt(text, _MAX_DETAIL_CHARS)
        )
    if value.get("error"):
        return error_verdict(excerpt(str(value["error"]), 300), latency_ms=latency_ms, **detail)
    raw_score = value.get("score")
    score = finite_score(raw_score)
    if raw_score is not None and score is None:
        return error_verdict(f"'score' {raw_score!r} is not a finite number", latency_ms=latency_ms)
    blocked = value.get("blocked")
    if blocked is None:
        if score is None:
            return error_verdict(
                "the mapping has neither 'blocked' nor 'score'", latency_ms=latency_ms
            )
        blocked = score >= threshold
    elif not isinstance(blocked, bool | np.bool_):
        return error_verdict(f"'blocked' must be a bool, got {blocked!r}", latency_ms=latency_ms)
    return Verdict(blocked=bool(blocked), score=score, latency_ms=latency_ms, detail=detail)


class PythonCallableLayer:
    """Run a Python function or batch object as a safety layer.

    Parameters
    ----------
    name
        Unique layer name within a run.
    target
        ``"module:attribute"`` to import, or the function/object/class itself.
    batch
        For a plain function: ``True`` when it takes the list of texts at once.
    method
        Name of the batch method looked up on objects (default ``check``).
    init
        Keyword arguments used when ``target`` is a class.
    threshold
        Score at or above which a returned score counts as a block.
    batch_size
        Most texts handed to one batch call.
    version
        Free text added to :meth:`config` so that a code change can invalidate caches.
    data_files
        Files whose content decides verdicts; their SHA-256 enters :meth:`config`.

    Examples
    --------
    >>> layer = PythonCallableLayer(name="caps", target=lambda text: text.isupper())
    >>> [v.blocked for v in layer.check([Item("a", "HELLO"), Item("b", "hello")])]
    [True, False]
    """

    def __init__(
        self,
        *,
        name: str,
        target: str | Callable[..., Any] | object,
        batch: bool = False,
        method: str = "check",
        init: Mapping[str, Any] | None = None,
        threshold: float = 0.5,
        batch_size: int = 64,
        version: str | None = None,
        data_files: Sequence[Path] = (),
    ) -> None:
        self.name = name
        self.data_files = tuple(Path(p) for p in data_files)
        self.batch = batch
        self.method = method
        self.init = dict(init or {})
        self.threshold = float(threshold)
        self.batch_size = int(batch_size)
        self.version = version
        self._unavailable: str | None = None
        self._code_sha256: str | None = None
        self._call: Callable[..., Any] | None = None
        self._mode: CallMode = "per_item"
        if isinstance(target, str):
            self.target = target
            resolved = self._import(target)
        else:
            module = getattr(target, "__module__", None) or "?"
            qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
            self.target = f"{module}:{qualname}"
            resolved = target
        if resolved is not None:
            self._bind(resolved)

    # ------------------------------------------------------------------ resolution
    def _import(self, target: str) -> Any:
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            self._unavailable = f"cannot import module '{module_name}': {exc}"
            return None
        except Exception as exc:  # the module itself failed while loading
            self._unavailable = f"importing module '{module_name}' failed: {_error_text(exc)}"
            return None
        source = getattr(module, "__file__", None)
        if source:
            self._code_sha256 = small_file_sha256(Path(source))
        obj: Any = module
        for part in attribute.split("."):
            if not hasattr(obj, part):
                raise AttributeError(f"module '{module_name}' has no attribute '{attribute}'")
            obj = getattr(obj, part)
        return obj

    def _bind(self, resolved: Any) -> None:
        if inspect.isclass(resolved):
            try:
                resolved = resolved(**self.init)
            except TypeError:
                raise
            except Exception as exc:
                self._unavailable = f"constructing {self.target} failed: {_error_text(exc)}"
                return
        elif self.init:
            raise TypeError("'init' is only used when the target is a class")
        method = getattr(resolved, self.method, None)
        if not inspect.isfunction(resolved) and callable(method):
            self._call, self._mode = method, "batch_method"
        elif callable(resolved):
            self._call = resolved
            self._mode = "batch_function" if self.batch else "per_item"
        else:
            raise TypeError(
                f"target is a {type(resolved).__name__}, neither callable nor an object with "
                f"a '{self.method}' method"
            )

    # ------------------------------------------------------------------ Layer protocol
    @property
    def call_mode(self) -> CallMode:
        """How the target is called: ``per_item``, ``batch_function`` or ``batch_method``."""
        return self._mode

    def config(self) -> dict[str, Any]:
        return {
            "kind": "python",
            "target": self.target,
            "call": self._mode,
            "method": self.method if self._mode == "batch_method" else None,
            "init": self.init,
            "threshold": self.threshold,
            "code_sha256": self._code_sha256,
            "version": self.version,
            "data_files": data_file_digests(self.data_files),
        }

    def unavailable_reason(self) -> str | None:
        return self._unavailable

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        if self._call is None:
            reason = self._unavailable or "target not loaded"
            return [error_verdict(f"layer unavailable: {reason}") for _ in items]
        if self._mode == "per_item":
            return [self._check_one(item) for item in items]
        verdicts: list[Verdict] = []
        for start in range(0, len(items), self.batch_size):
            verdicts.extend(self._check_batch(items[start : start + self.batch_size]))
        return verdicts

    def close(self) -> None:
        closer = getattr(getattr(self._call, "__self__", None), "close", None)
        if self._mode == "batch_method" and callable(closer):
            closer()

    def __repr__(self) -> str:
        return (
            f"PythonCallableLayer(name={self.name!r}, target={self.target!r}, call={self._mode!r})"
        )

    # ------------------------------------------------------------------ calling
    def _check_one(self, item: Item) -> Verdict:
        assert self._call is not None
        kwargs = {"role": item.role} if _accepts(self._call, "role") else {}
        start = time.perf_counter()
        try:
            value = self._call(item.text, **kwargs)
        except Exception as exc:
            return error_verdict(_error_text(exc), latency_ms=(time.perf_counter() - start) * 1e3)
        return value_to_verdict(
            value, threshold=self.threshold, latency_ms=(time.perf_counter() - start) * 1e3
        )

    def _check_batch(self, items: Sequence[Item]) -> list[Verdict]:
        assert self._call is not None
        texts = [item.text for item in items]
        kwargs = {"roles": [item.role for item in items]} if _accepts(self._call, "roles") else {}
        start = time.perf_counter()
        try:
            values = list(self._call(texts, **kwargs))
        except Exception as exc:
            elapsed = (time.perf_counter() - start) * 1e3
            message = f"batch call failed: {_error_text(exc)}"
            return [error_verdict(message, latency_ms=elapsed / len(items)) for _ in items]
        elapsed = (time.perf_counter() - start) * 1e3
        per_item = elapsed / max(len(items), 1)
        if len(values) != len(items):
            message = f"batch call returned {len(values)} values for {len(items)} texts"
            return [error_verdict(message, latency_ms=per_item) for _ in items]
        verdicts = []
        for value in values:
            verdict = value_to_verdict(value, threshold=self.threshold, latency_ms=per_item)
            detail = {
                **verdict.detail,
                "batch_size": len(items),
                "batch_latency_ms": round(elapsed, 3),
            }
            verdicts.append(
                Verdict(
                    blocked=verdict.blocked,
                    score=verdict.score,
                    latency_ms=verdict.latency_ms or per_item,
                    error=verdict.error,
                    detail=detail,
                )
            )
        return verdicts


def from_spec(
    spec: dict[str, Any], *, source: str, where: str | None = None
) -> PythonCallableLayer:
    """Build a :class:`PythonCallableLayer` from a layers-file entry.

    ``python_path`` entries (relative to the layers file's folder) are put on
    ``sys.path`` first, so a guard module can sit next to the layers file. A module
    that cannot be imported makes the layer *unavailable*; a missing attribute or a
    target of the wrong shape is a spec error.
    """
    parsed = validate_spec(PythonCallableSpec, spec, source=source, where=where)
    prefix = where or f"layer '{parsed.name}'"
    root = base_dir(source)
    for index, entry in enumerate(parsed.python_path):
        folder = (root / entry).resolve()
        if not folder.is_dir():
            raise InputError(
                source,
                f"{prefix}.python_path[{index}]",
                f"'{entry}' is not a folder",
                "name an existing folder",
            )
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    try:
        return PythonCallableLayer(
            name=parsed.name,
            target=parsed.target,
            batch=parsed.batch,
            method=parsed.method,
            init=parsed.init,
            threshold=parsed.threshold,
            batch_size=parsed.batch_size,
            version=parsed.version,
            data_files=resolve_data_files(
                parsed.data_files, source=source, prefix=prefix, root=root
            ),
        )
    except AttributeError as exc:
        raise InputError(
            source, f"{prefix}.target", str(exc), "name an attribute the module defines"
        ) from None
    except TypeError as exc:
        raise InputError(
            source,
            f"{prefix}.target",
            f"cannot use {parsed.target!r}: {exc}",
            "point at a function, a class, or an object with a batch method",
        ) from None
