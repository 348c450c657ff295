"""SQLite persistence for adaptive attacks, crash-safe in the same way as the run store.

An attack lives in its own folder, ``<runs dir>/attacks/<attack_id>/``, so it never
looks like a stress run to ``ddrisk stress list``::

    attack.sqlite    behaviors, layers, every query's verdicts, search outcomes, manifest
    manifest.json    the manifest, readable without SQLite
    attacks.jsonl    export: one row per search outcome (found attack texts included)

Crash safety: WAL journaling and one short transaction per batch of queries, so a
process killed at any instant (SIGKILL included) leaves whole batches or nothing.
``queries`` is keyed by ``(phase, target, item_id, query_index, layer)``. The search
is deterministic under its seed, so resuming replays it: every query already
stored is answered from the store (after checking that the regenerated text has
the stored SHA-256), and only the missing ones reach a layer. Nothing is lost and
nothing is counted twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.stress._folders import folder_ids, new_timestamped_dir, resolve_folder
from ddrisk.stress.layer import Item, Verdict
from ddrisk.stress.store import LayerRecord, connect_sqlite, score_to_db

ATTACK_DB = "attack.sqlite"
ATTACKS_SUBDIR = "attacks"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS behaviors (
    position INTEGER NOT NULL UNIQUE, item_id TEXT NOT NULL UNIQUE, behavior_id TEXT NOT NULL,
    family TEXT NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL, text_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS layers (
    position INTEGER NOT NULL, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, config TEXT NOT NULL,
    config_hash TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, side TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queries (
    phase TEXT NOT NULL, target TEXT NOT NULL, item_id TEXT NOT NULL, query_index INTEGER NOT NULL,
    chain TEXT NOT NULL, text_sha256 TEXT NOT NULL, layer TEXT NOT NULL,
    blocked INTEGER, score REAL, error TEXT, detail TEXT NOT NULL, cached INTEGER NOT NULL,
    recorded_at REAL NOT NULL,
    UNIQUE (phase, target, item_id, query_index, layer)
);
CREATE TABLE IF NOT EXISTS outcomes (
    phase TEXT NOT NULL, target TEXT NOT NULL, item_id TEXT NOT NULL, status TEXT NOT NULL,
    queries_used INTEGER NOT NULL, first_success INTEGER, chain TEXT, text TEXT,
    recorded_at REAL NOT NULL,
    UNIQUE (phase, target, item_id)
);
"""


@dataclass(frozen=True)
class QueryRow:
    """One stored verdict of one layer on one query."""

    phase: str
    target: str
    item_id: str
    query_index: int
    chain: tuple[str, ...]
    text_sha256: str
    layer: str
    verdict: Verdict


@dataclass(frozen=True)
class OutcomeRow:
    """How one search (or replay) ended."""

    phase: str
    target: str
    item_id: str
    status: str  # found | budget_exhausted | space_exhausted
    queries_used: int
    first_success: int | None
    chain: tuple[str, ...] | None
    text: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "target": self.target,
            "item_id": self.item_id,
            "status": self.status,
            "queries_used": self.queries_used,
            "first_success": self.first_success,
            "chain": None if self.chain is None else list(self.chain),
            "text": self.text,
        }


class AttackRecord:
    """One attack's SQLite store."""

    def __init__(self, attack_dir: Path) -> None:
        self.path = Path(attack_dir)
        self.attack_id = self.path.name
        db_path = self.path / ATTACK_DB
        if not db_path.is_file():
            raise InputError(
                str(self.path),
                None,
                "no adaptive attack here (attack.sqlite missing)",
                "pass an attack id listed under <runs dir>/attacks, or 'latest'",
            )
        self._db = connect_sqlite(db_path)

    @classmethod
    def create(
        cls,
        attack_dir: Path,
        *,
        behaviors: Sequence[Item],
        layers: Sequence[tuple[LayerRecord, str]],
        manifest: dict[str, Any],
        layer_specs: list[dict[str, Any]],
    ) -> AttackRecord:
        """Write a new attack's behaviors, layers and manifest, then publish the folder atomically."""
        final_dir = Path(attack_dir)
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        if final_dir.exists():
            raise FileExistsError(final_dir)
        work = final_dir.parent / f".{final_dir.name}.creating"
        work.mkdir()
        db = connect_sqlite(work / ATTACK_DB)
        db.executescript(_SCHEMA)
        with db:
            db.execute("BEGIN")
            meta = {
                "schema_version": str(SCHEMA_VERSION),
                "attack_id": final_dir.name,
                "status": "running",
                "created_at": str(time.time()),
                "manifest": json.dumps(manifest, sort_keys=True, default=str),
                "layer_specs": json.dumps(layer_specs, sort_keys=True, default=str),
            }
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            db.executemany(
                "INSERT INTO behaviors VALUES (?,?,?,?,?,?,?)",
                [
                    (i, b.item_id, b.behavior_id, b.family, b.source, b.text, b.text_sha256)
                    for i, b in enumerate(behaviors)
                ],
            )
            db.executemany(
                "INSERT INTO layers VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        r.position,
                        r.name,
                        r.kind,
                        json.dumps(r.config, sort_keys=True, default=str),
                        r.config_hash,
                        r.status,
                        r.reason,
                        side,
                    )
                    for r, side in layers
                ],
            )
        db.close()
        (work / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str)
        )
        work.rename(final_dir)
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

    def behaviors(self) -> list[Item]:
        rows = self._db.execute(
            "SELECT item_id, text, family, behavior_id, source FROM behaviors ORDER BY position"
        )
        return [Item(i, t, f, b, True, "user", s) for i, t, f, b, s in rows]

    def layers(self) -> list[tuple[LayerRecord, str]]:
        rows = self._db.execute(
            "SELECT position, name, kind, config, config_hash, status, reason, side FROM layers"
            " ORDER BY position"
        )
        return [
            (LayerRecord(p, n, k, json.loads(c), h, s, r), side)
            for p, n, k, c, h, s, r, side in rows
        ]

    def stored_queries(
        self, phase: str, target: str, item_id: str | None = None
    ) -> dict[tuple[str, int], list[QueryRow]]:
        """Stored rows of one phase and target (optionally one item), by ``(item_id, query_index)``."""
        sql = (
            "SELECT item_id, query_index, chain, text_sha256, layer, blocked, score, error, detail"
            " FROM queries WHERE phase=? AND target=?"
        )
        params: list[Any] = [phase, target]
        if item_id is not None:
            sql += " AND item_id=?"
            params.append(item_id)
        out: dict[tuple[str, int], list[QueryRow]] = {}
        for item, index, chain, sha, layer, blocked, score, error, detail in self._db.execute(
            sql, params
        ):
            verdict = Verdict(
                None if blocked is None else bool(blocked), score, 0.0, error, json.loads(detail)
            )
            row = QueryRow(
                phase, target, item, int(index), tuple(json.loads(chain)), sha, layer, verdict
            )
            out.setdefault((item, int(index)), []).append(row)
        return out

    def outcome(self, phase: str, target: str, item_id: str) -> OutcomeRow | None:
        row = self._db.execute(
            "SELECT status, queries_used, first_success, chain, text FROM outcomes"
            " WHERE phase=? AND target=? AND item_id=?",
            (phase, target, item_id),
        ).fetchone()
        if row is None:
            return None
        status, used, first, chain, text = row
        return OutcomeRow(
            phase,
            target,
            item_id,
            status,
            int(used),
            first,
            None if chain is None else tuple(json.loads(chain)),
            text,
        )

    def outcomes(self) -> list[OutcomeRow]:
        rows = self._db.execute(
            "SELECT phase, target, item_id, status, queries_used, first_success, chain, text"
            " FROM outcomes ORDER BY rowid"
        )
        return [
            OutcomeRow(p, t, i, s, int(u), f, None if c is None else tuple(json.loads(c)), x)
            for p, t, i, s, u, f, c, x in rows
        ]

    def query_rows(self) -> list[QueryRow]:
        """Every stored verdict (for statistics and exports)."""
        rows = self._db.execute(
            "SELECT phase, target, item_id, query_index, chain, text_sha256, layer, blocked, score,"
            " error, detail FROM queries ORDER BY rowid"
        )
        return [
            QueryRow(
                p,
                t,
                i,
                int(q),
                tuple(json.loads(c)),
                sha,
                layer,
                Verdict(None if b is None else bool(b), s, 0.0, e, json.loads(d)),
            )
            for p, t, i, q, c, sha, layer, b, s, e, d in rows
        ]

    def count_queries(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM queries").fetchone()[0])

    # -- writing --------------------------------------------------------------
    def record_queries(
        self,
        rows: Iterable[tuple[str, str, str, int, Sequence[str], str, str, Verdict, bool]],
        *,
        outcomes: Sequence[OutcomeRow] = (),
    ) -> None:
        """Commit one batch of query verdicts (and optionally search outcomes) in one transaction.

        Each row is ``(phase, target, item_id, query_index, chain, text_sha256, layer, verdict, cached)``.
        """
        now = time.time()
        values = [
            (
                phase,
                target,
                item_id,
                index,
                json.dumps(list(chain)),
                sha,
                layer,
                None if v.blocked is None else int(bool(v.blocked)),
                score_to_db(v.score),
                v.error,
                json.dumps(v.detail, default=str, sort_keys=True),
                int(cached),
                now,
            )
            for phase, target, item_id, index, chain, sha, layer, v, cached in rows
        ]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO queries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", values)
            for outcome in outcomes:
                self._insert_outcome(outcome, now)

    def record_outcome(self, outcome: OutcomeRow) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._insert_outcome(outcome, time.time())

    def _insert_outcome(self, outcome: OutcomeRow, now: float) -> None:
        self._db.execute(
            "INSERT INTO outcomes VALUES (?,?,?,?,?,?,?,?,?)",
            (
                outcome.phase,
                outcome.target,
                outcome.item_id,
                outcome.status,
                outcome.queries_used,
                outcome.first_success,
                None if outcome.chain is None else json.dumps(list(outcome.chain)),
                outcome.text,
                now,
            ),
        )

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
                "INSERT OR REPLACE INTO meta VALUES ('attack_summary', ?)",
                (json.dumps(summary, default=str),),
            )

    def export_jsonl(self, path: Path | None = None) -> Path:
        """Write ``attacks.jsonl`` (one row per search/replay outcome) and return its path."""
        target = Path(path) if path is not None else self.path / "attacks.jsonl"
        tmp = target.with_suffix(target.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for row in self.outcomes():
                handle.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
        tmp.replace(target)
        return target

    def close(self) -> None:
        self._db.close()


class AttackStore:
    """The ``attacks`` folder under a runs folder: creates, finds and lists attacks."""

    def __init__(self, runs_dir: Path | str) -> None:
        self.runs_dir = Path(runs_dir)
        self.attacks_dir = self.runs_dir / ATTACKS_SUBDIR

    @property
    def cache_dir(self) -> Path:
        """The verdict cache and layer artifacts shared with ``ddrisk stress run``."""
        return self.runs_dir / "cache"

    def new_attack_dir(self) -> Path:
        return new_timestamped_dir(self.attacks_dir)

    def attack_ids(self) -> list[str]:
        return folder_ids(self.attacks_dir, ATTACK_DB)

    def resolve(self, attack: str | Path) -> Path:
        """An attack folder from an id, a folder path, or ``latest``."""
        return resolve_folder(
            self.attacks_dir,
            attack,
            marker=ATTACK_DB,
            noun="attack",
            empty_problem="no adaptive attacks yet",
            empty_fix="start one with 'ddrisk stress attack'",
            unknown_fix="use an id from the attacks folder, or 'latest'",
        )

    def latest_unfinished(self) -> Path | None:
        for attack_id in reversed(self.attack_ids()):
            record = AttackRecord(self.attacks_dir / attack_id)
            try:
                if record.status != "complete":
                    return record.path
            finally:
                record.close()
        return None
