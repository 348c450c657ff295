"""Benchmark of ``ddrisk stress run``: items per second per layer and for the whole run, cold and warm.

Not a test: it times the real default experiment (about 730 shipped prompts, five
offline layers) and prints and saves what it measured. Targets from the issue, on
the project's 2-core machine: under 2 minutes from a cold cache, under 10 s warm.

* **whole run**: ``stress run`` in a fresh process (imports, data loading, every
  layer, the run store and the statistical summary included), first with an empty
  runs folder (cold: no verdict cache, no embeddings, no trained classifier, no
  calibrated threshold), then again (warm: every verdict from the cache);
* **per layer** (skip with ``--quick``): each layer alone on the same items with
  one batch in flight, cold (its set-up, e.g. MiniLM training, counted) and warm.

Usage::

    python benchmarks/bench_stress.py [--quick] [--limit N] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ddrisk.stress.config import DEFAULT_LAYER_SPECS, build_layers
from ddrisk.stress.datasets import load_default_dataset
from ddrisk.stress.runner import RunOptions, run_stress
from ddrisk.stress.store import RunStore

CLI = "import sys; from ddrisk.cli.stress_cmds import stress; sys.exit(stress())"


def whole_run(runs_dir: Path, limit: int | None) -> dict:
    """One ``stress run --json`` in a fresh interpreter; wall time measured outside it."""
    command = [sys.executable, "-c", CLI, "run", "--runs-dir", str(runs_dir), "--json", "--quiet"]
    if limit:
        command += ["--limit", str(limit)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stress run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    run = json.loads(done.stdout)["run"]
    return {
        "process_wall_s": round(wall, 2),
        "runner_wall_s": run["wall_s"],
        "n_items": run["n_items"],
        "items_per_s": round(run["n_items"] / wall, 1),
        "layers": {
            layer["name"]: {
                "status": layer["status"],
                "computed": layer["n_computed"],
                "cached": layer["n_cached"],
                "busy_s": layer["busy_s"],
                "items_per_s": layer["items_per_s"],
            }
            for layer in run["layers"]
        },
    }


def per_layer(limit: int | None) -> dict:
    """Each layer alone, cold then warm, one batch in flight (no contention from the others)."""
    dataset = load_default_dataset(seed=0).sliced(limit)
    out: dict[str, dict] = {}
    for spec in DEFAULT_LAYER_SPECS:
        with tempfile.TemporaryDirectory() as folder:
            store = RunStore(folder)
            timings = {}
            for phase in ("cold", "warm"):
                layers = build_layers([dict(spec)], source="bench", artifact_dir=store.cache_dir)
                start = time.perf_counter()
                result = run_stress(
                    dataset=dataset,
                    layers=layers,
                    layer_specs=[dict(spec)],
                    store=store,
                    options=RunOptions(concurrency=1),
                )
                wall = time.perf_counter() - start
                stats = result.layers[0]
                timings[phase] = {
                    "status": stats.status,
                    "reason": stats.reason,
                    "wall_s": round(wall, 3),
                    "items_per_s": round(len(dataset.items) / wall, 1) if wall > 0 else None,
                    "computed": stats.n_computed,
                    "cached": stats.n_cached,
                }
            out[spec["kind"]] = timings
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="whole run only, no per-layer timings")
    parser.add_argument("--limit", type=int, default=None, help="use a slice of N items")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    report: dict = {
        "benchmark": "ddrisk stress run (default experiment)",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "limit": args.limit,
        "targets": {"cold_s": 120, "warm_s": 10},
    }
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder) / "runs"
        report["whole_run_cold"] = whole_run(runs, args.limit)
        report["whole_run_warm"] = whole_run(runs, args.limit)
    if not args.quick:
        report["per_layer"] = per_layer(args.limit)

    cold, warm = report["whole_run_cold"], report["whole_run_warm"]
    print(
        f"whole run, {cold['n_items']} items: cold {cold['process_wall_s']:.1f} s "
        f"({cold['items_per_s']:.0f} items/s; target < 120 s), warm {warm['process_wall_s']:.1f} s "
        f"({warm['items_per_s']:.0f} items/s; target < 10 s)"
    )
    print(f"{'layer':<14} {'in run: items/s of layer time':>30}")
    for name, row in cold["layers"].items():
        rate = row["items_per_s"]
        print(f"{name:<14} {('-' if rate is None else f'{rate:.0f}'):>30}")
    if "per_layer" in report:
        print(
            f"{'layer alone':<14} {'cold s':>8} {'cold it/s':>10} {'warm s':>8} {'warm it/s':>10}"
        )
        for name, row in report["per_layer"].items():
            c, w = row["cold"], row["warm"]
            if c["status"] != "available":
                print(f"{name:<14} unavailable: {c['reason']}")
                continue
            print(
                f"{name:<14} {c['wall_s']:>8.2f} {c['items_per_s']:>10.0f} {w['wall_s']:>8.2f} "
                f"{w['items_per_s']:>10.0f}"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "bench_stress.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {target}")


if __name__ == "__main__":
    main()
