"""The runner and run store: every layer x every item, errors apart, cache, manifest, crash-resume."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ddrisk.errors import InputError
from ddrisk.stress.config import build_layers, load_layer_specs, redact_specs
from ddrisk.stress.items import StressDataset
from ddrisk.stress.layer import Item, Verdict, config_hash
from ddrisk.stress.runner import RunOptions, prepare_run, resume_stress, run_stress
from ddrisk.stress.store import RunRecord, RunStore, load_outcomes

TESTS = Path(__file__).parent


def _digest(text: str, salt: str) -> int:
    return int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:8], 16)


class HashLayer:
    """Deterministic fake layer: blocks when a salted text hash is even; optional delay per item."""

    def __init__(
        self, name: str, *, delay_s: float = 0.0, fail_on: str | None = None, salt: str = ""
    ) -> None:
        self.name = name
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.salt = salt or name
        self.calls = 0
        self.seen: list[str] = []
        self.closed = False

    def config(self) -> dict[str, Any]:
        return {"kind": "hash", "salt": self.salt, "fail_on": self.fail_on}

    def unavailable_reason(self) -> str | None:
        return None

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        if self.fail_on is not None and any(self.fail_on in item.text for item in items):
            raise RuntimeError(f"cannot handle {self.fail_on!r}")
        out = []
        for item in items:
            if self.delay_s:
                time.sleep(self.delay_s)
            self.seen.append(item.item_id)
            value = _digest(item.text, self.salt)
            out.append(
                Verdict(blocked=value % 2 == 0, score=(value % 1000) / 1000.0, latency_ms=1.0)
            )
        return out

    def close(self) -> None:
        self.closed = True


class BlockEverything(HashLayer):
    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        return [Verdict(blocked=True, score=1.0) for _ in items]


class Missing(HashLayer):
    def unavailable_reason(self) -> str | None:
        return "module 'nothing' is not installed; install it with: pip install nothing==1"


class WrongCount(HashLayer):
    def check(self, items: Sequence[Item]) -> list[Verdict]:
        return [Verdict(blocked=True)]


def make_dataset(n: int = 40) -> StressDataset:
    items = tuple(
        Item(
            f"i{k:03d}",
            f"text number {k} " + "x" * (k % 7),
            family=f"f{k % 3}",
            behavior_id=f"b{k // 2}",
            harmful=k % 4 != 0,
        )
        for k in range(n)
    )
    return StressDataset(name="fake", items=items, seed=0, files={"fake.jsonl": "0" * 64})


def verdict_set(run_dir: Path) -> list[tuple]:
    db = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return sorted(
            db.execute("SELECT item_id, layer, blocked, score, error FROM verdicts").fetchall()
        )
    finally:
        db.close()


def test_every_layer_sees_every_item_even_after_a_block(tmp_path: Path) -> None:
    data = make_dataset(30)
    first, second = BlockEverything("first"), HashLayer("second")
    result = run_stress(
        dataset=data,
        layers=[first, second],
        layer_specs=[],
        store=RunStore(tmp_path),
        options=RunOptions(batch_size=7, concurrency=2),
    )
    rows = verdict_set(result.run_dir)
    assert len(rows) == 60 and len(set((r[0], r[1]) for r in rows)) == 60
    assert sorted(second.seen) == sorted(i.item_id for i in data.items)
    assert first.closed and second.closed
    matrix = load_outcomes(result.run_dir)
    assert matrix.layers == ("first", "second")
    assert matrix.blocked.shape == (30, 2)
    assert np.all(matrix.blocked[:, 0] == 1.0)
    expected = [float(_digest(i.text, "second") % 2 == 0) for i in data.items]
    assert matrix.blocked[:, 1].tolist() == expected
    assert matrix.items["harmful"].tolist() == [i.harmful for i in data.items]
    assert matrix.items["behavior_id"].tolist() == [i.behavior_id for i in data.items]


def test_errors_are_recorded_apart_and_unavailable_layers_reported(tmp_path: Path) -> None:
    data = make_dataset(20)
    flaky = HashLayer("flaky", fail_on="number 5 ")
    layers = [flaky, Missing("absent"), WrongCount("short"), HashLayer("fine")]
    result = run_stress(
        dataset=data,
        layers=layers,
        layer_specs=[],
        store=RunStore(tmp_path),
        options=RunOptions(batch_size=4),
    )
    stats = {s.name: s for s in result.layers}
    assert (
        stats["absent"].status == "unavailable"
        and "pip install nothing==1" in stats["absent"].reason
    )
    assert stats["absent"].n_computed == 0
    assert result.unavailable == {"absent": stats["absent"].reason}
    assert stats["flaky"].n_errors == 4  # the whole batch holding the failing item
    assert stats["short"].n_errors == 20
    assert stats["fine"].n_errors == 0
    matrix = load_outcomes(result.run_dir)
    assert matrix.layers == ("flaky", "short", "fine")  # the unavailable layer has no column...
    assert "absent" in matrix.metadata["unavailable_layers"]  # ...but is reported
    flaky_col = matrix.layers.index("flaky")
    errored = [e is not None for e in matrix.errors[:, flaky_col]]
    assert sum(errored) == 4
    assert np.isnan(matrix.blocked[errored, flaky_col]).all()  # an error is neither pass nor block
    assert "RuntimeError: cannot handle" in next(e for e in matrix.errors[:, flaky_col] if e)
    assert all(
        "returned 1 verdicts for" in e for e in matrix.errors[:, matrix.layers.index("short")]
    )
    stored = {r.name: r for r in RunRecord(result.run_dir).layers()}
    assert stored["absent"].status == "unavailable"


def test_warm_run_is_served_from_the_cache(tmp_path: Path) -> None:
    data = make_dataset(25)
    store = RunStore(tmp_path)
    cold = HashLayer("h", fail_on="number 3 ")
    first = run_stress(
        dataset=data, layers=[cold], layer_specs=[], store=store, options=RunOptions(batch_size=5)
    )
    assert first.layers[0].n_computed == 25 and first.layers[0].n_cached == 0
    warm = HashLayer("h", fail_on="number 3 ")
    second = run_stress(
        dataset=data, layers=[warm], layer_specs=[], store=store, options=RunOptions(batch_size=5)
    )
    errors = first.layers[0].n_errors
    assert errors > 0
    assert second.layers[0].n_cached == 25 - errors  # errors are never cached: they are retried
    assert second.layers[0].n_computed == errors
    assert verdict_set(first.run_dir) == verdict_set(second.run_dir)
    # a changed configuration is a different cache key
    changed = HashLayer("h", salt="other")
    third = run_stress(dataset=data, layers=[changed], layer_specs=[], store=store)
    assert third.layers[0].n_cached == 0
    # --no-cache computes everything
    fourth = run_stress(
        dataset=data,
        layers=[HashLayer("h", fail_on="number 3 ")],
        layer_specs=[],
        store=store,
        options=RunOptions(use_cache=False),
    )
    assert fourth.layers[0].n_computed == 25


def test_manifest_records_provenance_without_secrets(tmp_path: Path) -> None:
    data = make_dataset(5)
    specs = [
        {
            "kind": "http",
            "name": "judge",
            "api_key_env": "OPENAI_API_KEY",
            "headers": {"X-Api-Token": "s3cr3t"},
        }
    ]
    result = run_stress(
        dataset=data,
        layers=[HashLayer("h")],
        layer_specs=redact_specs(specs),
        store=RunStore(tmp_path),
        seed=7,
        limit=5,
        argv=["stress", "run"],
    )
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    for key in (
        "ddrisk_version",
        "created_at",
        "python",
        "platform",
        "packages",
        "seed",
        "dataset",
        "layers",
    ):
        assert key in manifest
    assert manifest["seed"] == 7 and manifest["limit"] == 5
    assert manifest["packages"]["numpy"] == np.__version__
    assert manifest["dataset"]["files"] == {"fake.jsonl": "0" * 64}
    assert manifest["dataset"]["content_sha256"] == data.content_sha256
    layer = manifest["layers"][0]
    assert layer["config"] == HashLayer("h").config()
    assert layer["config_hash"] == config_hash(HashLayer("h").config())
    record = RunRecord(result.run_dir)
    assert record.manifest == manifest
    assert "s3cr3t" not in (result.run_dir / "run.sqlite").read_bytes().decode("utf-8", "replace")
    assert record.layer_specs[0]["api_key_env"] == "OPENAI_API_KEY"
    assert record.status == "complete"


def test_results_jsonl_has_one_row_per_item(tmp_path: Path) -> None:
    data = make_dataset(12)
    result = run_stress(
        dataset=data,
        layers=[HashLayer("a"), HashLayer("b", fail_on="number 1")],
        layer_specs=[],
        store=RunStore(tmp_path),
    )
    rows = [
        json.loads(line) for line in (result.run_dir / "results.jsonl").read_text().splitlines()
    ]
    assert [r["item_id"] for r in rows] == [i.item_id for i in data.items]
    for row in rows:
        assert set(row["layers"]) == {"a", "b"}
        for verdict in row["layers"].values():
            assert set(verdict) == {"blocked", "score", "latency_ms", "error", "cached"}
            assert (verdict["error"] is None) == (verdict["blocked"] is not None)


def test_resume_refuses_changed_layers(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_dir = prepare_run(
        dataset=make_dataset(4), layers=[HashLayer("h")], layer_specs=[], store=store
    )
    with pytest.raises(InputError, match="configuration changed"):
        resume_stress(run_dir, layers=[HashLayer("h", salt="new")], store=store)
    with pytest.raises(InputError, match="not part of the run"):
        resume_stress(run_dir, layers=[HashLayer("other")], store=store)
    with pytest.raises(InputError, match="were not given"):
        resume_stress(run_dir, layers=[], store=store)
    assert store.latest_unfinished() == run_dir
    resume_stress(run_dir, layers=[HashLayer("h")], store=store)
    assert store.latest_unfinished() is None
    assert store.resolve("latest") == run_dir
    with pytest.raises(InputError, match="no such run"):
        store.resolve("nope")


def test_half_created_runs_are_invisible(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    leftover = tmp_path / ".20260101-000000.000-abcdef.creating"
    leftover.mkdir()
    (leftover / "run.sqlite").write_bytes(b"")  # what a kill during creation leaves behind
    assert store.run_ids() == [] and store.latest_unfinished() is None and store.listing() == []
    run_dir = prepare_run(
        dataset=make_dataset(3), layers=[HashLayer("h")], layer_specs=[], store=store
    )
    assert store.run_ids() == [run_dir.name]
    assert not any(p.name.endswith(".creating") and p != leftover for p in tmp_path.iterdir())


def test_duplicate_layer_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="share this name"):
        prepare_run(
            dataset=make_dataset(2),
            layers=[HashLayer("h"), HashLayer("h")],
            layer_specs=[],
            store=RunStore(tmp_path),
        )


# -- crash safety ----------------------------------------------------------------------------

_CHILD = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_run_runner import HashLayer, make_dataset
from ddrisk.stress.runner import RunOptions, prepare_run, resume_stress
from ddrisk.stress.store import RunStore
store = RunStore({runs!r})
layers = [HashLayer("slow", delay_s=0.01), HashLayer("fast")]
run_dir = prepare_run(dataset=make_dataset({n}), layers=layers, layer_specs=[], store=store)
print(run_dir, flush=True)
resume_stress(run_dir, layers=layers, store=store, options=RunOptions(batch_size=3, concurrency=2))
"""


def _rows(run_dir: Path) -> int:
    try:
        db = sqlite3.connect(run_dir / "run.sqlite", timeout=5)
        try:
            return int(db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("kill_after_rows", [0, 1, 35])
def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, kill_after_rows: int
) -> None:
    n = 60
    runs = tmp_path / "killed"
    code = _CHILD.format(tests=str(TESTS), runs=str(runs), n=n)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        run_dir = Path(child.stdout.readline().strip())
        deadline = time.monotonic() + 60
        while (
            _rows(run_dir) < kill_after_rows
            and time.monotonic() < deadline
            and child.poll() is None
        ):
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    stored_before = _rows(run_dir)
    assert kill_after_rows <= stored_before < 2 * n  # killed part-way, with some work stored
    store = RunStore(runs)
    assert store.latest_unfinished() == run_dir
    resumed = resume_stress(
        run_dir,
        layers=[HashLayer("slow"), HashLayer("fast")],
        store=store,
        options=RunOptions(use_cache=False),
    )
    assert sum(s.n_already_stored for s in resumed.layers) == stored_before
    assert sum(s.n_computed for s in resumed.layers) == 2 * n - stored_before

    reference = run_stress(
        dataset=make_dataset(n),
        layers=[HashLayer("slow"), HashLayer("fast")],
        layer_specs=[],
        store=RunStore(tmp_path / "clean"),
    )
    killed_rows, clean_rows = verdict_set(run_dir), verdict_set(reference.run_dir)
    assert len(killed_rows) == len(set(killed_rows)) == 2 * n  # nothing lost, nothing duplicated
    assert killed_rows == clean_rows
    assert RunRecord(run_dir).status == "complete"


# -- layers files ----------------------------------------------------------------------------


def test_layers_file_builds_builtins_and_adapters(tmp_path: Path) -> None:
    path = tmp_path / "layers.yaml"
    path.write_text(
        "layers:\n"
        "  - kind: regex\n"
        "  - kind: toxicity\n    name: tox-strict\n    threshold: 0.9\n"
        "  - kind: shell\n    name: echo\n    command: [cat]\n"
    )
    layers = build_layers(load_layer_specs(path), source=str(path))
    assert [layer.name for layer in layers] == ["regex", "tox-strict", "echo"]
    assert layers[1].config()["threshold"] == 0.9
    assert layers[2].config()["kind"] == "shell"


@pytest.mark.parametrize(
    ("content", "where", "fragment"),
    [
        ("layers:\n  - kind: regex\n   bad: [\n", "line 3, column 4", "malformed YAML"),
        ("layers:\n  - kind: firewall\n", "layers[0].kind", "unknown layer kind 'firewall'"),
        (
            "layers:\n  - kind: regex\n  - kind: regex\n",
            "layers[1].name",
            "already used by layers[0]",
        ),
        ("layers:\n  - regex\n", "layers[0]", "must be a mapping"),
        ("layers: []\n", "layers", "no layers listed"),
        ("stack:\n  - kind: regex\n", None, "unknown top-level key"),
        ("- kind: shell\n  name: s\n", "layers[0]", "missing required key 'command'"),
    ],
)
def test_layers_file_errors_are_located(
    tmp_path: Path, content: str, where: str | None, fragment: str
) -> None:
    path = tmp_path / "layers.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        build_layers(load_layer_specs(path), source=str(path))
    assert caught.value.source == str(path)
    assert fragment in caught.value.problem
    if where is not None:
        assert (caught.value.where or "").startswith(where)
