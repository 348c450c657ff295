"""Start-up benchmark: how long a user waits for ``ddrisk`` to answer, process and all.

Each command is run as a user runs it (a fresh process of the installed console script), a few
times after one warm-up, and the median wall time is compared with its target:

    ddrisk --help        < 0.3 s
    ddrisk --version     < 0.3 s
    ddrisk analyze       < 1.0 s   (built-in catalog, terminal output)
    ddrisk risk --stack RLHF,RE --json --parts probability   < 0.5 s  (what SCRAM computes)
    ddrisk risk --stack RLHF,RE --json                       < 1.0 s  (the full report)

A last table times what any Python command pays before its own work (the interpreter, and the
interpreter importing numpy and the other libraries the ``risk`` path needs), the floor under
every row above.

The targets assume an idle 2-core machine; the load average at the start of the run is printed
beside the results so a reader can tell a busy machine from a regression. A second table lists
the heavy modules each command imports, because an accidental ``import pandas`` at start-up is
the usual cause of a regression here.

Usage: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 7]``; results go to
``benchmarks/results/startup.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HEAVY_MODULES = ("numpy", "pandas", "scipy", "matplotlib", "pydantic", "rich", "yaml", "jinja2")

CASES: list[tuple[str, list[str], float]] = [
    ("ddrisk --help", ["--help"], 0.3),
    ("ddrisk --version", ["--version"], 0.3),
    ("ddrisk analyze", ["analyze"], 1.0),
    (
        "ddrisk risk --stack RLHF,RE --json --parts probability",
        ["risk", "--stack", "RLHF,RE", "--json", "--parts", "probability"],
        0.5,
    ),
    ("ddrisk risk --stack RLHF,RE --json", ["risk", "--stack", "RLHF,RE", "--json"], 1.0),
]

FLOORS: list[tuple[str, str]] = [
    ("python -c pass", "pass"),
    ("python -c 'import numpy'", "import numpy"),
    ("python -c 'import numpy, pydantic, yaml, click'", "import numpy, pydantic, yaml, click"),
]


def _ddrisk_executable() -> list[str]:
    script = Path(sys.executable).with_name("ddrisk")
    if script.exists():
        return [str(script)]
    found = shutil.which("ddrisk")
    if found:
        return [found]
    raise SystemExit("ddrisk is not installed in this environment: pip install -e .")


def _time_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _heavy_imports(arguments: list[str]) -> list[str]:
    """Heavy top-level packages the command imports (from ``python -X importtime``)."""
    script = _ddrisk_executable()[0]
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", script, *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = set()
    for line in completed.stderr.splitlines():
        if "|" not in line:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name in HEAVY_MODULES:
            seen.add(name)
    return sorted(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()
    executable = _ddrisk_executable()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = []
    for label, arguments, target in CASES:
        command = [*executable, *arguments]
        _time_once(command)  # warm the file cache
        times = [_time_once(command) for _ in range(args.repeat)]
        median = statistics.median(times)
        rows.append(
            {
                "command": label,
                "median_s": round(median, 4),
                "min_s": round(min(times), 4),
                "max_s": round(max(times), 4),
                "target_s": target,
                "meets_target": median < target,
                "heavy_imports": _heavy_imports(arguments),
            }
        )
    floors = []
    for label, code in FLOORS:
        command = [sys.executable, "-c", code]
        _time_once(command)
        times = [_time_once(command) for _ in range(args.repeat)]
        floors.append({"command": label, "median_s": round(statistics.median(times), 4)})
    record = {
        "benchmark": "startup",
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(load, 2),
        "repeat": args.repeat,
        "results": rows,
        "floors": floors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"Start-up, median of {args.repeat} runs (1-min load average at start: {load:.2f}, "
        f"{os.cpu_count()} cores)",
        "",
        "| command | median | min | max | target | meets | heavy modules imported |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| `{row['command']}` | {row['median_s']:.3f} s | {row['min_s']:.3f} s | "
            f"{row['max_s']:.3f} s | < {row['target_s']} s | {'yes' if row['meets_target'] else 'NO'} | "
            f"{', '.join(row['heavy_imports']) or '-'} |"
        )
    lines += ["", "| floor (no ddrisk code) | median |", "|---|---|"]
    lines += [f"| `{floor['command']}` | {floor['median_s']:.3f} s |" for floor in floors]
    table = "\n".join(lines)
    (RESULTS / "startup.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
