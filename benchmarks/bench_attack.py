"""Benchmark of ``ddrisk stress attack``: the default adaptive experiment, cold and warm.

Not a test: it times the real default experiment (30 harmful behaviors of the
default stress data, the built-in offline layers, every available operator, beam
search with 30 queries per behavior and target) in a fresh process and prints and
saves what it measured. Target from the issue, on the project's 2-core machine:
**under 5 minutes from a cold cache** (empty runs folder: no verdict cache, no
embeddings, no trained classifier, no calibrated threshold).

* **cold**: ``ddrisk stress attack --json --quiet`` with an empty runs folder;
* **warm**: the same command again on the same runs folder (every query the first
  attack made is answered by the verdict cache);
* for each, the number of verdicts computed by layers, served by the cache, the
  queries stored and the headline numbers, so a slow run can be told apart from
  one that did more work.

Usage::

    python benchmarks/bench_attack.py [--limit N] [--budget B] [--out benchmarks/results]
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

CLI = "import sys; from ddrisk.cli import main; sys.exit(main())"
TARGET_COLD_S = 300.0


def attack(runs_dir: Path, extra: list[str]) -> dict:
    """One default attack in a fresh interpreter; wall time measured outside it."""
    command = [
        sys.executable,
        "-c",
        CLI,
        "stress",
        "attack",
        "--runs-dir",
        str(runs_dir),
        "--json",
        "--quiet",
        *extra,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stress attack failed ({done.returncode}):\n{done.stderr[-3000:]}")
    payload = json.loads(done.stdout)
    run, analysis = payload["run"], payload["analysis"]
    stack = analysis["stack"]
    return {
        "process_wall_s": round(wall, 2),
        "attack_wall_s": run["wall_s"],
        "n_behaviors": run["n_behaviors"],
        "layers": run["layers"],
        "unavailable_layers": run["unavailable_layers"],
        "verdicts_computed": run["verdicts_computed"],
        "verdicts_cached": run["verdicts_cached"],
        "stack_adaptive": stack.get("adaptive"),
        "static_joint": stack.get("static_joint"),
        "penalty": stack.get("penalty"),
        "settings": analysis["settings"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="behaviors (default: the CLI default)"
    )
    parser.add_argument(
        "--budget", type=int, default=None, help="queries (default: the CLI default)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    extra: list[str] = []
    if args.limit:
        extra += ["--limit", str(args.limit)]
    if args.budget:
        extra += ["--budget", str(args.budget)]
    with tempfile.TemporaryDirectory(prefix="ddrisk-bench-attack-") as folder:
        runs = Path(folder) / "runs"
        cold = attack(runs, extra)
        warm = attack(runs, extra)
    result = {
        "benchmark": "ddrisk stress attack (default adaptive experiment)",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "target_cold_s": TARGET_COLD_S,
        "cold": cold,
        "warm": warm,
        "cold_meets_target": cold["process_wall_s"] < TARGET_COLD_S,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "attack.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# ddrisk stress attack benchmark",
        "",
        f"{result['created_at']} · {result['machine']['platform']} · {result['machine']['cpu_count']} CPUs",
        "",
        "| run | wall (process) | behaviors | layers | verdicts computed | from cache | stack adaptive bypass |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in (("cold", cold), ("warm", warm)):
        stack = row["stack_adaptive"] or {}
        lines.append(
            f"| {name} | {row['process_wall_s']:.1f} s | {row['n_behaviors']} | {len(row['layers'])} | "
            f"{row['verdicts_computed']} | {row['verdicts_cached']} | {stack.get('k')}/{stack.get('n')} |"
        )
    lines += [
        "",
        f"target: cold < {TARGET_COLD_S:.0f} s: {'met' if result['cold_meets_target'] else 'NOT met'}",
    ]
    (args.out / "attack.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
