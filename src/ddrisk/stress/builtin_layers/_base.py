"""Shared plumbing of the built-in layers: availability checks, timing, spec parsing."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar

from ddrisk.errors import InputError
from ddrisk.stress.layer import Item, Verdict
from ddrisk.stress.packaged import distribution_version

#: ``pip install`` lines of the normal (with-dependencies) packages the layers use.
STRESS_INSTALL_LINE = 'pip install "ddrisk[stress]"'

logger = logging.getLogger("ddrisk.stress")
T = TypeVar("T")


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a cache file so that readers see the old file or the whole new one, never a part.

    The content goes to a temporary file in the same folder, is flushed to disk, and
    replaces ``path`` in one ``os.replace``; a process killed midway leaves at most a
    stray temporary file, never a truncated cache.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_cached(path: Path, read: Callable[[Path], T], *, what: str) -> T | None:
    """``read(path)``, or ``None`` (with a warning, the file removed) when it is unreadable.

    A corrupt or truncated cache file must cost a rebuild, not a layer that fails on
    every item until someone deletes the file by hand.
    """
    if not path.is_file():
        return None
    try:
        return read(path)
    except Exception as error:  # any way a file can be broken: rebuild it
        logger.warning(
            "ddrisk: %s cache %s is unreadable (%s: %s); rebuilding it",
            what,
            path,
            type(error).__name__,
            error,
        )
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def missing_modules_reason(requirements: Sequence[tuple[str, str]]) -> str | None:
    """``None`` when every module is importable, else a reason naming the install line.

    ``requirements`` holds ``(module, install line)`` pairs; checking uses
    ``find_spec`` so nothing is imported (and nothing slow runs) just to ask.

    >>> missing_modules_reason([("json", "pip install json")]) is None
    True
    >>> missing_modules_reason([("no_such_module_here", "pip install x==1")])
    "module 'no_such_module_here' is not installed; install it with: pip install x==1"
    """
    for module, line in requirements:
        if not _is_importable(module):
            return f"module '{module}' is not installed; install it with: {line}"
    return None


def _is_importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def timed_batch(
    items: Sequence[Item],
    score_batch: Callable[[list[str]], list[float]],
    threshold: float,
    *,
    strictly_above: bool = True,
) -> list[Verdict]:
    """Score a batch in one vectorised call; per-item latency is the batch time shared out.

    Vectorised scorers cannot time single items; the share is the honest per-item
    cost of the batch and is flagged as such in ``detail``.
    """
    if not items:
        return []
    start = time.perf_counter()
    scores = score_batch([item.text for item in items])
    share = (time.perf_counter() - start) * 1000.0 / len(items)
    verdicts = []
    for score in scores:
        value = float(score)
        blocked = value > threshold if strictly_above else value >= threshold
        verdicts.append(
            Verdict(
                blocked=blocked, score=value, latency_ms=share, detail={"latency": "batch_share"}
            )
        )
    return verdicts


class BuiltinLayer:
    """Base of the built-in layers: a ``kind``, a unique ``name`` and spec parsing.

    Subclasses declare ``kind`` and ``requirements`` and implement :meth:`check`.
    Their spec options are the keyword arguments of ``__init__`` (other than ``name``
    and ``artifact_dir``), with its defaults: ``options`` is derived from that signature.
    """

    kind: ClassVar[str] = ""
    requirements: ClassVar[tuple[tuple[str, str], ...]] = ()
    options: ClassVar[dict[str, Any]] = {}
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.options = {
            parameter.name: parameter.default
            for parameter in inspect.signature(cls.__init__).parameters.values()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
            and parameter.name not in {"name", "artifact_dir"}
        }

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or self.kind

    @classmethod
    def from_spec(
        cls, spec: dict[str, Any], *, source: str, artifact_dir: Path | None = None
    ) -> BuiltinLayer:
        """Build from a layers-file entry; unknown keys, wrong types and bad values are located errors.

        ``artifact_dir`` is where layers that train or calibrate keep their results.
        """
        allowed = {"kind", "name", *cls.options}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise InputError(
                source,
                f"layer '{spec.get('name', cls.kind)}'",
                f"unknown option(s) {unknown} for kind '{cls.kind}'",
                f"use only {sorted(allowed)}",
            )
        kwargs: dict[str, Any] = {}
        for key, default in cls.options.items():
            if key not in spec:
                continue
            value = spec[key]
            if isinstance(default, bool) or default is None:
                ok = True
            elif isinstance(default, int | float):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                value = type(default)(value) if ok and isinstance(default, float) else value
            else:
                ok = isinstance(value, type(default))
            if not ok:
                raise InputError(
                    source,
                    f"layer '{spec.get('name', cls.kind)}'.{key}",
                    f"expected {type(default).__name__}, got {value!r}",
                    f"write e.g. {key}: {default!r}",
                )
            kwargs[key] = value
        name = spec.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InputError(
                source, f"layer '{cls.kind}'.name", f"bad layer name {name!r}", "use a short word"
            )
        if "artifact_dir" in inspect.signature(cls.__init__).parameters:
            kwargs["artifact_dir"] = artifact_dir
        try:
            return cls(name=name, **kwargs)
        except ValueError as error:
            raise InputError(
                source, f"layer '{name or cls.kind}'", str(error), "change the value"
            ) from error

    def unavailable_reason(self) -> str | None:
        return missing_modules_reason(self.requirements)

    def versions(self) -> dict[str, str | None]:
        """Versions of the distributions this layer depends on (for the manifest)."""
        return {}

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        raise NotImplementedError

    def close(self) -> None:
        """Built-in layers hold no processes or sockets by default."""


def version_of(*distributions: str) -> dict[str, str | None]:
    return {name: distribution_version(name) for name in distributions}
