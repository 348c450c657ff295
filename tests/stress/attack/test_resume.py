"""SIGKILL mid-attack, then resume: exactly the rows of an uninterrupted attack."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.stress.attack.experiment import AttackPlan, execute_attack
from ddrisk.stress.attack.registry import build_registry
from ddrisk.stress.attack.search import SearchSettings
from ddrisk.stress.attack.store import AttackRecord, AttackStore

from .fakes import Hashy, behaviors, run_attack

TESTS = Path(__file__).resolve().parents[2]
OPERATORS = ("base64", "rot13", "leetspeak", "homoglyph", "roleplay", "payload_split")
SETTINGS = {"budget": 9, "max_depth": 2, "batch_size": 3}

_CHILD = """
import sys
sys.path.insert(0, {tests!r})
from stress.attack.fakes import Hashy, behaviors, run_attack
run_attack({runs!r}, [Hashy("slow", delay_s=0.004, keep=7), Hashy("fast", keep=3)], behaviors(8),
           operators={ops!r}, budget=9, max_depth=2, batch_size=3)
"""


def _layers() -> list[Hashy]:
    return [Hashy("slow", keep=7), Hashy("fast", keep=3)]


def _plan() -> AttackPlan:
    registry, _ = build_registry()
    return AttackPlan(SearchSettings(**SETTINGS), tuple(registry[n] for n in OPERATORS))


def _count(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        db = sqlite3.connect(path / "attack.sqlite", timeout=5)
        try:
            return int(db.execute("SELECT COUNT(*) FROM queries").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _rows(path: Path) -> tuple[list[tuple], list[tuple]]:
    db = sqlite3.connect(path / "attack.sqlite")
    try:
        queries = sorted(
            db.execute(
                "SELECT phase, target, item_id, query_index, chain, text_sha256, layer, blocked, score,"
                " error FROM queries"
            ).fetchall()
        )
        outcomes = sorted(
            db.execute(
                "SELECT phase, target, item_id, status, queries_used, first_success, chain, text FROM outcomes"
            ).fetchall()
        )
        return queries, outcomes
    finally:
        db.close()


def _attack_dir(runs: Path) -> Path | None:
    folder = runs / "attacks"
    found = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    return found[0] if found else None


@pytest.mark.parametrize("kill_after_rows", [1, 60])
def test_sigkill_mid_attack_then_resume_equals_an_uninterrupted_attack(
    tmp_path: Path, kill_after_rows: int
) -> None:
    runs = tmp_path / "killed"
    code = _CHILD.format(tests=str(TESTS), runs=str(runs), ops=list(OPERATORS))
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while (
            _count(_attack_dir(runs)) < kill_after_rows
            and time.monotonic() < deadline
            and child.poll() is None
        ):
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    attack_dir = _attack_dir(runs)
    assert attack_dir is not None
    stored_before = _count(attack_dir)
    store = AttackStore(runs)
    assert store.latest_unfinished() == attack_dir

    resumed = execute_attack(attack_dir, layers=_layers(), plan=_plan(), store=store, resumed=True)
    reference_dir, _, _ = run_attack(
        tmp_path / "clean", _layers(), behaviors(8), operators=OPERATORS, **SETTINGS
    )
    killed_rows, clean_rows = _rows(attack_dir), _rows(reference_dir)
    assert stored_before < len(clean_rows[0])  # it really was killed part-way
    # Only the missing cells were asked of a layer (or the cache); stored ones were not redone.
    assert resumed.n_computed + resumed.n_cached == len(clean_rows[0]) - stored_before
    assert killed_rows == clean_rows
    assert len(killed_rows[0]) == len(set(killed_rows[0]))
    record = AttackRecord(attack_dir)
    assert record.status == "complete"
    record.close()


def test_resume_refuses_a_changed_plan_or_layer(tmp_path: Path) -> None:
    attack_dir, _, plan = run_attack(
        tmp_path, _layers(), behaviors(2), operators=OPERATORS, **SETTINGS
    )
    store = AttackStore(tmp_path)
    other = AttackPlan(SearchSettings(budget=10, max_depth=2, batch_size=3), plan.operators)
    with pytest.raises(InputError, match=r"attack\.settings"):
        execute_attack(attack_dir, layers=_layers(), plan=other, store=store)
    with pytest.raises(InputError, match="configuration changed"):
        execute_attack(
            attack_dir,
            layers=[Hashy("slow", keep=2), Hashy("fast", keep=3)],
            plan=plan,
            store=store,
        )
