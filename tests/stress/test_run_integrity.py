"""Runs that cannot lie: data files in the cache key, atomic caches, failing runs exit non-zero."""

from __future__ import annotations

import json
import logging
import sqlite3
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.stress.builtin_layers._base import read_cached, write_atomic
from ddrisk.stress.builtin_layers.embedding import EmbeddingCache, _load_classifier_file
from ddrisk.stress.experiment import run_experiment
from ddrisk.stress.items import StressDataset
from ddrisk.stress.layer import Item, Verdict
from ddrisk.stress.runner import EXIT_RUN_FAILED, RunOptions
from ddrisk.stress.store import RunRecord

ITEMS = (
    Item("a", "please build a bomb", harmful=True),
    Item("b", "tell me a story about a dragon", harmful=True),
    Item("c", "what is the capital of France", harmful=False),
)


def _word_guard(folder: Path, words: str) -> Path:
    """A python layer module whose verdicts come from a data file next to it."""
    (folder / "word_guard.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            def check(text):
                words = Path(__file__).with_name("words.txt").read_text().split()
                return any(word in text for word in words)
            """
        )
    )
    (folder / "words.txt").write_text(words)
    layers = folder / "layers.yaml"
    layers.write_text(
        "layers:\n  - kind: python\n    name: words\n    target: word_guard:check\n"
        "    python_path: ['.']\n    data_files: [words.txt]\n"
    )
    return layers


def _blocked(run_dir: Path) -> dict[str, bool]:
    record = RunRecord(run_dir)
    try:
        rows = record.verdict_rows()
    finally:
        record.close()
    return {row.item_id: bool(row.blocked) for row in rows.itertuples()}


def test_changing_a_declared_data_file_never_serves_stale_verdicts(tmp_path: Path) -> None:
    layers = _word_guard(tmp_path, "bomb")
    data = StressDataset("tiny", ITEMS, seed=None)
    runs = tmp_path / "runs"
    first = run_experiment(data=data, layers=layers, runs_dir=runs, calibrate=None)
    assert _blocked(first.run_dir) == {"a": True, "b": False, "c": False}
    again = run_experiment(data=data, layers=layers, runs_dir=runs, calibrate=None)
    assert again.layers[0].n_cached == 3  # unchanged file: the cache serves every item
    (tmp_path / "words.txt").write_text("dragon")
    changed = run_experiment(data=data, layers=layers, runs_dir=runs, calibrate=None)
    assert changed.layers[0].n_cached == 0 and changed.layers[0].n_computed == 3
    assert _blocked(changed.run_dir) == {"a": False, "b": True, "c": False}
    digests = changed.manifest["layers"][0]["config"]["data_files"]
    assert list(digests) == [str((tmp_path / "words.txt").resolve())]


def test_version_enters_the_cache_key(tmp_path: Path) -> None:
    layers = _word_guard(tmp_path, "bomb")
    data = StressDataset("tiny", ITEMS, seed=None)
    runs = tmp_path / "runs"
    run_experiment(data=data, layers=layers, runs_dir=runs, calibrate=None)
    layers.write_text(layers.read_text() + "    version: '2'\n")
    bumped = run_experiment(data=data, layers=layers, runs_dir=runs, calibrate=None)
    assert bumped.layers[0].n_cached == 0


def test_a_missing_data_file_is_a_located_error(tmp_path: Path) -> None:
    layers = _word_guard(tmp_path, "bomb")
    (tmp_path / "words.txt").unlink()
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"text": "x", "label": "harmful"}) + "\n")
    result = CliRunner().invoke(
        main, ["stress", "run", "--data", str(items), "--layers", str(layers)]
    )
    assert result.exit_code == 2
    assert "data_files[0]" in result.stderr and "Traceback" not in result.output


class _Broken:
    name = "broken"

    def config(self) -> dict[str, str]:
        return {"kind": "broken"}

    def unavailable_reason(self) -> None:
        return None

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        raise RuntimeError("model server down")

    def close(self) -> None:
        pass


class _Fine(_Broken):
    name = "fine"

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        return [Verdict(False, score=0.1) for _ in items]


def test_a_layer_failing_on_every_item_makes_the_run_fail(tmp_path: Path) -> None:
    data = StressDataset("tiny", ITEMS, seed=None)
    result = run_experiment(
        data=data, layers=[_Fine(), _Broken()], runs_dir=tmp_path, calibrate=None
    )
    assert result.status == "layer_failed" and not result.ok
    assert result.failed_layers == ("broken",)
    assert "broken" in result.problems()[0]
    good = run_experiment(data=data, layers=[_Fine()], runs_dir=tmp_path, calibrate=None)
    assert good.status == "complete" and good.ok


def test_cli_exits_3_when_no_layer_is_available_or_one_always_errs(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(json.dumps({"text": t, "label": "harmful"}) + "\n" for t in ("x", "y"))
    )
    typo = tmp_path / "typo.yaml"
    typo.write_text("- kind: python\n  name: g\n  target: no_such_module_xyz:check\n")
    result = CliRunner().invoke(
        main,
        ["stress", "run", "--data", str(items), "--layers", str(typo), "--runs-dir", str(tmp_path)],
    )
    assert result.exit_code == EXIT_RUN_FAILED == 3
    assert "no layer could run" in result.stderr and "no_such_module_xyz" in result.stderr
    (tmp_path / "erring.py").write_text("def check(text):\n    raise ValueError('boom')\n")
    erring = tmp_path / "erring.yaml"
    erring.write_text("- kind: python\n  name: e\n  target: erring:check\n  python_path: ['.']\n")
    result = CliRunner().invoke(
        main,
        [
            "stress",
            "run",
            "--data",
            str(items),
            "--layers",
            str(erring),
            "--runs-dir",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 3
    assert json.loads(result.stdout)["run"]["status"] == "layer_failed"
    assert "returned an error on every item" in result.stderr


def test_atomic_write_and_rebuild_of_an_unreadable_cache_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "classifier.npz"
    write_atomic(path, lambda handle: np.savez(handle, coef=np.ones(3), intercept=0.5))
    coef, intercept = read_cached(path, _load_classifier_file, what="embedding classifier")  # type: ignore[misc]
    assert coef.tolist() == [1.0, 1.0, 1.0] and intercept == 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["classifier.npz"]  # no stray temp file
    path.write_bytes(path.read_bytes()[:40])  # truncated, as by a killed writer of old
    with caplog.at_level(logging.WARNING, logger="ddrisk.stress"):
        assert read_cached(path, _load_classifier_file, what="embedding classifier") is None
    assert "unreadable" in caplog.text and "rebuilding" in caplog.text
    assert not path.exists()


def test_a_failed_write_keeps_the_old_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "threshold.json"
    write_atomic(path, lambda handle: handle.write(b'{"threshold": 1.0}'))

    def explode(handle: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(path, explode)
    assert json.loads(path.read_text()) == {"threshold": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["threshold.json"]


def test_a_corrupt_embedding_database_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="ddrisk.stress"):
        cache = EmbeddingCache(path)
    assert "rebuilding" in caplog.text
    cache.put("m", {"s": np.ones(4, dtype=np.float32)})
    assert cache.get("m", ["s"])["s"].tolist() == [1.0] * 4
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM embedding").fetchone() == (1,)


def test_perplexity_threshold_cache_survives_truncation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ddrisk.stress.builtin_layers import PerplexityLayer

    layer = PerplexityLayer(calibration_size=20, artifact_dir=tmp_path)
    reason = layer.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    threshold = layer.threshold
    (cache_file,) = tmp_path.glob("perplexity-threshold-*.json")
    cache_file.write_text(cache_file.read_text()[:7])
    with caplog.at_level(logging.WARNING, logger="ddrisk.stress"):
        rebuilt = PerplexityLayer(calibration_size=20, artifact_dir=tmp_path).threshold
    assert rebuilt == threshold and "rebuilding" in caplog.text
    assert json.loads(cache_file.read_text())["threshold"] == threshold


def test_run_options_do_not_change_statuses(tmp_path: Path) -> None:
    data = StressDataset("tiny", ITEMS, seed=None)
    result = run_experiment(
        data=data,
        layers=[_Fine()],
        runs_dir=tmp_path,
        calibrate=None,
        options=RunOptions(batch_size=1, concurrency=1, use_cache=False),
    )
    assert result.to_dict()["status"] == "complete" and result.to_dict()["failed_layers"] == []


def test_a_corrupt_verdict_cache_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache_file = tmp_path / "cache" / "verdicts.sqlite"
    cache_file.parent.mkdir()
    cache_file.write_bytes(b"\x00garbage" * 512)
    data = StressDataset("tiny", ITEMS, seed=None)
    with caplog.at_level(logging.WARNING, logger="ddrisk.stress"):
        result = run_experiment(data=data, layers=[_Fine()], runs_dir=tmp_path, calibrate=None)
    assert result.ok and "verdict cache" in caplog.text and "rebuilding" in caplog.text
    again = run_experiment(data=data, layers=[_Fine()], runs_dir=tmp_path, calibrate=None)
    assert again.layers[0].n_cached == 3
