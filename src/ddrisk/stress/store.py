"""SQLite persistence for stress runs: the per-run store and the shared verdict cache.

Layout under the runs folder (default ``./ddrisk-runs``)::

    ddrisk-runs/
      cache/verdicts.sqlite        verdicts keyed by (layer, config hash, role, text SHA-256)
      cache/...                    layer artifacts (embeddings, trained classifier, thresholds)
      <run_id>/run.sqlite          items, layers, verdicts, manifest of one run
      <run_id>/manifest.json       the manifest, readable without SQLite
      <run_id>/results.jsonl       export: one row per item with every layer's verdict

Crash safety: both databases use WAL journaling and every batch of verdicts is
committed in its own short transaction, so a process killed at any instant
(SIGKILL included) leaves whole batches or nothing. ``verdicts`` has
``UNIQUE(run_id, item_id, layer)`` and resuming only computes the missing cells,
so nothing is lost and nothing is counted twice.

Why one module: the run store and the verdict cache share the SQLite conventions that make them
crash-safe (WAL, one transaction per batch, schema checks on open, rebuild of a corrupt file);
keeping them together keeps those conventions in one place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ddrisk.errors import InputError
from ddrisk.stress._folders import folder_ids, new_timestamped_dir, resolve_folder
from ddrisk.stress.layer import Item, Verdict
from ddrisk.stress.matrix import OutcomeMatrix

logger = logging.getLogger("ddrisk.stress")

DEFAULT_RUNS_DIR = Path("ddrisk-runs")
RUN_DB = "run.sqlite"
SCHEMA_VERSION = 2  # 2: items.template_id

_RUN_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL, position INTEGER NOT NULL, item_id TEXT NOT NULL, text TEXT NOT NULL,
    family TEXT NOT NULL, behavior_id TEXT NOT NULL, harmful INTEGER NOT NULL, role TEXT NOT NULL,
    source TEXT NOT NULL, text_sha256 TEXT NOT NULL, template_id TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, item_id), UNIQUE (run_id, position)
);
CREATE TABLE IF NOT EXISTS layers (
    run_id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    config TEXT NOT NULL, config_hash TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    UNIQUE (run_id, name)
);
CREATE TABLE IF NOT EXISTS verdicts (
    run_id TEXT NOT NULL, item_id TEXT NOT NULL, layer TEXT NOT NULL,
    blocked INTEGER, score REAL, latency_ms REAL NOT NULL, error TEXT, detail TEXT NOT NULL,
    cached INTEGER NOT NULL, recorded_at REAL NOT NULL,
    UNIQUE (run_id, item_id, layer)
);
"""

_CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdict_cache (
    layer TEXT NOT NULL, config_hash TEXT NOT NULL, role TEXT NOT NULL, text_sha256 TEXT NOT NULL,
    blocked INTEGER NOT NULL, score REAL, latency_ms REAL NOT NULL, detail TEXT NOT NULL, stored_at REAL NOT NULL,
    PRIMARY KEY (layer, config_hash, role, text_sha256)
);
"""


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A store connection: autocommit, WAL journal, so a killed writer leaves whole batches."""
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _blocked_to_db(blocked: bool | None) -> int | None:
    return None if blocked is None else int(bool(blocked))


def score_to_db(score: float | None) -> float | None:
    """A layer score as stored: NaN and infinities become NULL."""
    return None if score is None or not math.isfinite(score) else float(score)


@dataclass(frozen=True)
class LayerRecord:
    """One layer of a run as stored: its configuration and whether it could run."""

    position: int
    name: str
    kind: str
    config: dict[str, Any]
    config_hash: str
    status: str  # "available" | "unavailable"
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Keys: name, kind, config, config_hash, status, reason."""
        return {
            "name": self.name,
            "kind": self.kind,
            "config": self.config,
            "config_hash": self.config_hash,
            "status": self.status,
            "reason": self.reason,
        }


class VerdictCache:
    """Verdicts remembered across runs, keyed by (layer, config hash, role, text SHA-256).

    Errors are never cached: they may be transient (a timeout, a dead process).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as error:
            # Only a cache: a damaged file costs recomputation, never a failed run.
            logger.warning(
                "ddrisk: verdict cache %s is unreadable (%s); rebuilding it", self.path, error
            )
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{self.path}{suffix}").unlink()
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = connect_sqlite(self.path)
        try:
            db.executescript(_CACHE_SCHEMA)
            db.execute("SELECT COUNT(*) FROM verdict_cache").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def lookup(self, layer: str, config_hash: str, items: Sequence[Item]) -> dict[str, Verdict]:
        """Cached verdicts for the given items, by item id."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for item in items:
            wanted.setdefault((item.role, item.text_sha256), []).append(item.item_id)
        found: dict[str, Verdict] = {}
        keys = list(wanted)
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            clause = " OR ".join(["(role=? AND text_sha256=?)"] * len(chunk))
            params: list[Any] = [layer, config_hash]
            for role, sha in chunk:
                params += [role, sha]
            rows = self._db.execute(
                "SELECT role, text_sha256, blocked, score, latency_ms, detail FROM verdict_cache"
                f" WHERE layer=? AND config_hash=? AND ({clause})",
                params,
            )
            for role, sha, blocked, score, latency, detail in rows:
                verdict = Verdict(bool(blocked), score, latency, None, json.loads(detail))
                for item_id in wanted[(role, sha)]:
                    found[item_id] = verdict
        return found

    def store(self, layer: str, config_hash: str, pairs: Iterable[tuple[Item, Verdict]]) -> None:
        rows = [
            (
                layer,
                config_hash,
                item.role,
                item.text_sha256,
                int(bool(v.blocked)),
                score_to_db(v.score),
                float(v.latency_ms),
                json.dumps(v.detail, default=str),
                time.time(),
            )
            for item, v in pairs
            if v.error is None and v.blocked is not None
        ]
        if rows:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO verdict_cache VALUES (?,?,?,?,?,?,?,?,?)", rows
                )

    def close(self) -> None:
        self._db.close()


class RunRecord:
    """One run's SQLite store: items, layers, verdicts and the manifest."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir)
        self.run_id = self.path.name
        db_path = self.path / RUN_DB
        if not db_path.is_file():
            raise InputError(
                str(self.path),
                None,
                "no stress run here (run.sqlite missing)",
                "pass a run folder or id listed by 'ddrisk stress list'",
            )
        self._db = connect_sqlite(db_path)

    # -- creation -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        run_dir: Path,
        *,
        items: Sequence[Item],
        layers: Sequence[LayerRecord],
        manifest: dict[str, Any],
        layer_specs: list[dict[str, Any]],
    ) -> RunRecord:
        """Write a new run's items, layers and manifest, then publish the folder atomically.

        Everything is written into a hidden ``.<run_id>.creating`` folder that is
        renamed to ``run_dir`` only once complete, so a process killed while
        creating a run leaves nothing that looks like a run.
        """
        final_dir = Path(run_dir)
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        if final_dir.exists():
            raise FileExistsError(final_dir)
        run_dir = final_dir.parent / f".{final_dir.name}.creating"
        run_dir.mkdir()
        db = connect_sqlite(run_dir / RUN_DB)
        db.executescript(_RUN_SCHEMA)
        run_id = final_dir.name
        with db:
            db.execute("BEGIN")
            meta = {
                "schema_version": str(SCHEMA_VERSION),
                "run_id": run_id,
                "status": "running",
                "created_at": str(time.time()),
                "manifest": json.dumps(manifest, sort_keys=True, default=str),
                "layer_specs": json.dumps(layer_specs, sort_keys=True, default=str),
            }
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            db.executemany(
                "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        i,
                        it.item_id,
                        it.text,
                        it.family,
                        it.behavior_id,
                        int(it.harmful),
                        it.role,
                        it.source,
                        it.text_sha256,
                        it.template_id,
                    )
                    for i, it in enumerate(items)
                ],
            )
            db.executemany(
                "INSERT INTO layers VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        r.position,
                        r.name,
                        r.kind,
                        json.dumps(r.config, sort_keys=True, default=str),
                        r.config_hash,
                        r.status,
                        r.reason,
                    )
                    for r in layers
                ],
            )
        db.close()
        (run_dir / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str)
        )
        run_dir.rename(final_dir)
        return cls(final_dir)

    # -- reading --------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    @property
    def status(self) -> str:
        return self.meta("status") or "unknown"

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.meta("manifest") or "{}")

    @property
    def layer_specs(self) -> list[dict[str, Any]]:
        return json.loads(self.meta("layer_specs") or "[]")

    def _has_template_column(self) -> bool:
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
        return "template_id" in columns

    def items(self) -> list[Item]:
        template = "template_id" if self._has_template_column() else "''"  # schema 1 runs
        rows = self._db.execute(
            "SELECT item_id, text, family, behavior_id, harmful, role, source, "
            f"{template} FROM items ORDER BY position"
        )
        return [
            Item(i, t, f, b, bool(h), r, source=s, template_id=tpl)
            for i, t, f, b, h, r, s, tpl in rows
        ]

    def layers(self) -> list[LayerRecord]:
        rows = self._db.execute(
            "SELECT position, name, kind, config, config_hash, status, reason FROM layers ORDER BY position"
        )
        return [LayerRecord(p, n, k, json.loads(c), h, s, r) for p, n, k, c, h, s, r in rows]

    def done_item_ids(self, layer: str) -> set[str]:
        return {
            row[0]
            for row in self._db.execute("SELECT item_id FROM verdicts WHERE layer=?", (layer,))
        }

    def decided_counts(self) -> dict[str, tuple[int, int]]:
        """Per layer: (verdicts with a decision, verdicts stored)."""
        rows = self._db.execute(
            "SELECT layer, SUM(blocked IS NOT NULL), COUNT(*) FROM verdicts GROUP BY layer"
        )
        return {layer: (int(decided), int(total)) for layer, decided, total in rows}

    def count_verdicts(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])

    def verdict_rows(self) -> pd.DataFrame:
        """All stored verdicts: item_id, layer, blocked, score, latency_ms, error, detail, cached."""
        return pd.read_sql_query(
            "SELECT item_id, layer, blocked, score, latency_ms, error, detail, cached FROM verdicts",
            self._db,
        )

    # -- writing --------------------------------------------------------------

    def record(self, layer: str, pairs: Sequence[tuple[Item, Verdict]], *, cached: bool) -> None:
        """Commit one batch of verdicts for one layer (one short transaction)."""
        now = time.time()
        rows = [
            (
                self.run_id,
                item.item_id,
                layer,
                _blocked_to_db(v.blocked),
                score_to_db(v.score),
                float(v.latency_ms),
                v.error,
                json.dumps(v.detail, default=str),
                int(cached),
                now,
            )
            for item, v in pairs
        ]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def mark_complete(self, summary: dict[str, Any]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('status', 'complete')")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('finished_at', ?)", (str(time.time()),)
            )
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('run_summary', ?)", (json.dumps(summary),)
            )

    def close(self) -> None:
        self._db.close()

    # -- views ----------------------------------------------------------------

    def outcomes(self) -> OutcomeMatrix:
        """The item x layer matrix of the run's available layers (errors kept apart)."""
        items = self.items()
        available = [r for r in self.layers() if r.status == "available"]
        frame = pd.DataFrame(
            {
                "item_id": [i.item_id for i in items],
                "family": [i.family for i in items],
                "behavior_id": [i.behavior_id for i in items],
                "template_id": [i.template_id for i in items],
                "harmful": [i.harmful for i in items],
                "role": [i.role for i in items],
                "text_sha256": [i.text_sha256 for i in items],
                "text": [i.text for i in items],
            }
        )
        row_of = {item.item_id: row for row, item in enumerate(items)}
        col_of = {r.name: col for col, r in enumerate(available)}
        shape = (len(items), len(available))
        blocked = np.full(shape, np.nan)
        score = np.full(shape, np.nan)
        errors = np.full(shape, None, dtype=object)
        query = "SELECT item_id, layer, blocked, score, error FROM verdicts"
        for item_id, layer, was_blocked, value, error in self._db.execute(query):
            if layer not in col_of or item_id not in row_of:
                continue
            row, col = row_of[item_id], col_of[layer]
            if was_blocked is not None:
                blocked[row, col] = float(was_blocked)
            if value is not None:
                score[row, col] = value
            errors[row, col] = error
        unavailable = {r.name: r.reason for r in self.layers() if r.status != "available"}
        return OutcomeMatrix(
            items=frame,
            layers=tuple(col_of),
            blocked=blocked,
            score=score,
            errors=errors,
            source="ddrisk",
            metadata={
                "run_id": self.run_id,
                "status": self.status,
                "unavailable_layers": unavailable,
                "manifest": self.manifest,
            },
        )

    def result_rows(self) -> list[dict[str, Any]]:
        """One JSON-safe row per item: item fields plus ``layers: {name: {blocked, score, latency_ms, error, cached}}``."""
        items = self.items()
        per_item: dict[str, dict[str, Any]] = {item.item_id: {} for item in items}
        query = "SELECT item_id, layer, blocked, score, latency_ms, error, cached FROM verdicts"
        for item_id, layer, blocked, score, latency, error, cached in self._db.execute(query):
            per_item[item_id][layer] = {
                "blocked": None if blocked is None else bool(blocked),
                "score": score,
                "latency_ms": round(latency, 4),
                "error": error,
                "cached": bool(cached),
            }
        order = [r.name for r in self.layers() if r.status == "available"]
        return [
            {
                "item_id": item.item_id,
                "family": item.family,
                "behavior_id": item.behavior_id,
                "template_id": item.template_id,
                "harmful": item.harmful,
                "role": item.role,
                "source": item.source,
                "text_sha256": item.text_sha256,
                "text": item.text,
                "layers": {name: per_item[item.item_id].get(name) for name in order},
            }
            for item in items
        ]

    def export_jsonl(self, path: Path | None = None) -> Path:
        """Write ``results.jsonl`` (default: inside the run folder) and return its path."""
        target = Path(path) if path is not None else self.path / "results.jsonl"
        tmp = target.with_suffix(target.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for row in self.result_rows():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(target)
        return target


@dataclass(frozen=True)
class RunListing:
    """A line of ``ddrisk stress list``."""

    run_id: str
    path: Path
    status: str
    created_at: float
    n_items: int
    layers: tuple[str, ...]
    n_verdicts: int
    dataset: str

    def to_dict(self) -> dict[str, Any]:
        """Keys: run_id, path, status, created_at, n_items, layers, n_verdicts, expected_verdicts, dataset."""
        return {
            "run_id": self.run_id,
            "path": str(self.path),
            "status": self.status,
            "created_at": self.created_at,
            "n_items": self.n_items,
            "layers": list(self.layers),
            "n_verdicts": self.n_verdicts,
            "expected_verdicts": self.n_items * len(self.layers),
            "dataset": self.dataset,
        }


class RunStore:
    """The runs folder: creates, finds and lists runs; owns the shared verdict cache."""

    def __init__(self, runs_dir: Path | str = DEFAULT_RUNS_DIR) -> None:
        self.runs_dir = Path(runs_dir)

    @property
    def cache_dir(self) -> Path:
        return self.runs_dir / "cache"

    def new_run_dir(self) -> Path:
        return new_timestamped_dir(self.runs_dir)

    def run_ids(self) -> list[str]:
        return folder_ids(self.runs_dir, RUN_DB)

    def resolve(self, run: str | Path) -> Path:
        """A run folder from an id, a folder path, or ``latest``."""
        return resolve_folder(
            self.runs_dir,
            run,
            marker=RUN_DB,
            noun="run",
            empty_problem="no runs yet",
            empty_fix="start one with 'ddrisk stress run'",
            unknown_fix="use an id from 'ddrisk stress list' (or --runs-dir to look elsewhere)",
        )

    def latest_unfinished(self) -> Path | None:
        for run_id in reversed(self.run_ids()):
            record = RunRecord(self.runs_dir / run_id)
            try:
                if record.status != "complete":
                    return record.path
            finally:
                record.close()
        return None

    def listing(self) -> list[RunListing]:
        out = []
        for run_id in self.run_ids():
            record = RunRecord(self.runs_dir / run_id)
            try:
                manifest = record.manifest
                out.append(
                    RunListing(
                        run_id=run_id,
                        path=record.path,
                        status=record.status,
                        created_at=float(record.meta("created_at") or 0.0),
                        n_items=len(record.items()),
                        layers=tuple(r.name for r in record.layers() if r.status == "available"),
                        n_verdicts=record.count_verdicts(),
                        dataset=str(manifest.get("dataset", {}).get("name", "?")),
                    )
                )
            finally:
                record.close()
        return out


def load_outcomes(run: str | Path, *, runs_dir: Path | str = DEFAULT_RUNS_DIR) -> OutcomeMatrix:
    """The :class:`OutcomeMatrix` of a stored run (a run folder, a run id, or ``latest``)."""
    record = RunRecord(RunStore(runs_dir).resolve(run))
    try:
        return record.outcomes()
    finally:
        record.close()
