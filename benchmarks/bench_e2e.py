"""End-to-end benchmark: ``ddrisk risk`` and SCRAM as a user runs them (a benchmark, not a test).

Run from the repository root::

    .venv/bin/python benchmarks/bench_e2e.py            # about 6-10 minutes on 2 cores
    .venv/bin/python benchmarks/bench_e2e.py --repeat 1 # one timed run per tool and stack

For each random stack of ``bench_risk.py`` (its model builders, imported) it writes the files a
user would have: a ddrisk catalog (YAML, every cell with its own probability), a parameter file
with the q and residual values, and ddrisk's Open-PSA MEF export of the same model for SCRAM.
It then times fresh processes, median of ``--repeat`` runs after one untimed warm-up (a run
whose warm-up already takes over ``SLOW_SECONDS`` is timed once: the file cache no longer
matters), each capped, like with like:

(a) P(stack fails) only: ``ddrisk risk ... --json --parts probability`` against
    ``scram --bdd --probability true -l 1 FILE.xml``;
(b) P and importance measures: ``ddrisk risk ... --json --parts probability,importance``
    against ``scram --bdd --probability true --importance true -l 1`` (what SCRAM then reports
    is importance for the events of its order-1 products, none on these stacks: its importance
    comes from the minimal cut sets) and, once, against the same without the order limit,
    where SCRAM computes importance for every event from all minimal cut sets (capped at
    ``--cap-importance``);
(c) the full default ``ddrisk risk ... --json`` report (importance, marginal values, four
    dependence models, the P(first n fail) curve), for information.

Every ddrisk probability must equal the exact in-process value, every SCRAM probability must
agree to its printed precision. The engine-only table gives ddrisk's ``compute_stack_failure``
in process and the analysis time SCRAM reports in its XML report. The floor table times what
no Python program avoids: the interpreter, and the interpreter with numpy and with every
library the ``risk`` path imports (numpy, pydantic, yaml, click). Results go to
``benchmarks/results/bench_e2e.json`` and ``bench_e2e.md``; the Markdown is also printed.

The banded 1000 x 1500 stack of ``bench_risk.py`` is not run here: as a catalog it has 1.5
million ratings, past the document reader's node limit, so a user could not hand it to
``ddrisk risk`` as a file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bench_risk import _scram_agrees, _scram_version, _version, zipf_dense_model
from ddrisk.io.mef import model_to_mef
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.model import FailureModeModel

RESULTS = Path(__file__).resolve().parent / "results"
DDRISK = Path(sys.executable).with_name("ddrisk")

STACKS: list[tuple[str, Callable[[str], FailureModeModel]]] = [
    ("dense 30x40", lambda regime: zipf_dense_model(30, 40, regime=regime, seed=1)),
    (
        "dense 30x40 graded",
        lambda regime: zipf_dense_model(30, 40, regime=regime, seed=1, graded=True),
    ),
    ("dense 40x60", lambda regime: zipf_dense_model(40, 60, regime=regime, seed=2)),
    ("dense 50x80", lambda regime: zipf_dense_model(50, 80, regime=regime, seed=3)),
]


def catalog_document(model: FailureModeModel, name: str) -> dict[str, object]:
    """The model as a ddrisk catalog: layers are techniques, every cell carries its p."""
    return {
        "schema_version": "1.0",
        "id": re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-"),
        "version": "1",
        "title": f"Benchmark stack {name}",
        "raters": [{"id": "bench", "name": "bench_e2e.py", "kind": "tool"}],
        "techniques": [
            {"id": layer, "name": layer, "category": "benchmark", "safety_tax": "low"}
            for layer in model.layers
        ],
        "failure_modes": [{"id": mode, "name": mode} for mode in model.modes],
        "ratings": [
            {
                "technique": layer,
                "failure_mode": mode,
                "probability": float(model.p[i, j]),
                "rater": "bench",
            }
            for i, layer in enumerate(model.layers)
            for j, mode in enumerate(model.modes)
        ],
    }


def parameter_document(model: FailureModeModel) -> dict[str, object]:
    """q per failure mode and residual per layer, as ``--params`` reads them."""
    return {
        "q": {mode: float(model.q[j]) for j, mode in enumerate(model.modes)},
        "residual": {layer: float(model.r[i]) for i, layer in enumerate(model.layers)},
    }


SLOW_SECONDS = 5.0
"""A command whose warm-up run takes longer than this is timed once (that run)."""

PARTS = {
    "probability": "probability",
    "importance": "probability,importance",
    "full": "all",
}

FLOORS: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("python -c 'import numpy'", [sys.executable, "-c", "import numpy"]),
    (
        "python -c 'import numpy, pydantic, yaml, click'",
        [sys.executable, "-c", "import numpy, pydantic, yaml, click"],
    ),
    ("ddrisk --version", [str(DDRISK), "--version"]),
]


def _run(command: list[str], cap: float) -> tuple[subprocess.CompletedProcess[str] | None, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap, check=False)
    except subprocess.TimeoutExpired:
        return None, math.inf
    return done, time.perf_counter() - start


def _timed_runs(
    command: list[str], cap: float, repeat: int, check: Callable[[str], str | None]
) -> dict[str, object]:
    """Warm-up then ``repeat`` timed runs (one, if the warm-up was slow); ``check`` reads stdout
    or a report and returns an error text, or None when the output is as expected."""
    times: list[float] = []
    for attempt in range(repeat + 1):
        done, seconds = _run(command, cap)
        if done is None:
            return {"status": "timeout", "detail": f"> {cap:g} s"}
        if done.returncode != 0:
            return {"status": "error", "detail": (done.stderr.strip() or "?")[-200:]}
        problem = check(done.stdout)
        if problem:
            return {"status": "error", "detail": problem}
        if attempt or seconds > SLOW_SECONDS:
            times.append(seconds)
        if seconds > SLOW_SECONDS:
            break
    return {"status": "ok", "seconds": statistics.median(times), "runs": times}


def time_ddrisk(
    catalog: Path,
    params: Path,
    model: FailureModeModel,
    exact: float,
    *,
    parts: str,
    cap: float,
    repeat: int,
) -> dict[str, object]:
    """Median wall time of ``ddrisk risk ... --json --parts PARTS``; P checked against ``exact``."""
    command = [str(DDRISK), "risk", "--catalog", str(catalog), "--stack", ",".join(model.layers)]
    command += ["--params", str(params), "--json", "--parts", parts]
    seen: dict[str, object] = {}

    def check(stdout: str) -> str | None:
        data = json.loads(stdout)
        seen["probability"] = float(data["result"]["probability"])
        seen["parts"] = data.get("parts")
        if "importance" in parts and data.get("importance") is None:
            return "no importance measures in the output"
        return None

    result = _timed_runs(command, cap, repeat, check)
    if result["status"] == "ok":
        probability = seen["probability"]
        assert isinstance(probability, float)
        result["probability"] = probability
        result["parts"] = seen["parts"]
        result["agrees"] = math.isclose(probability, exact, rel_tol=1e-9, abs_tol=0.0)
    return result


def time_scram(
    xml: Path, exact: float, *, importance: bool, limit: bool, cap: float, repeat: int
) -> dict[str, object]:
    """Median wall time of SCRAM, its printed probability and its own reported analysis time."""
    if shutil.which("scram") is None:
        return {"status": "skipped", "detail": "scram not installed"}
    report = xml.with_name(xml.stem + f"-{int(importance)}{int(limit)}.report.xml")
    command = ["scram", "--bdd", "--probability", "true"]
    if importance:
        command += ["--importance", "true"]
    if limit:
        command += ["-l", "1"]
    command += [str(xml), "-o", str(report)]
    seen: dict[str, object] = {}
    reported: list[float] = []

    def check(_stdout: str) -> str | None:
        if not report.exists():
            return "no report"
        text = report.read_text()
        match = re.search(r'<sum-of-products[^>]*\sprobability="([^"]+)"', text)
        if match is None:
            return "no probability in SCRAM report"
        seen["printed"] = match.group(1)
        reported.append(_scram_analysis_seconds(text))
        events = re.search(r'<importance[^>]*basic-events="(\d+)"', text)
        seen["importance_events"] = int(events.group(1)) if events else None
        report.unlink()
        return None

    result = _timed_runs(command, cap, repeat, check)
    if result["status"] == "ok":
        runs = result["runs"]
        assert isinstance(runs, list)
        timed = reported[-len(runs) :]
        result["reported_seconds"] = statistics.median(timed) if all(timed) else None
        result["printed"] = seen["printed"]
        result["agrees"] = _scram_agrees(str(seen["printed"]), exact)
        result["importance_events"] = seen["importance_events"]
    return result


def time_floors(repeat: int) -> list[dict[str, object]]:
    """What every Python command pays before its own work (median of ``repeat`` after a warm-up)."""
    rows = []
    for label, command in FLOORS:
        result = _timed_runs(command, 30.0, max(repeat, 5), lambda _out: None)
        rows.append({"command": label, **result})
    return rows


def _scram_analysis_seconds(report: str) -> float:
    """SCRAM's own timing of the analysis: the sum of its ``<calculation-time>`` entries.

    0.0 when the report has none (the caller then prints n/a).
    """
    block = re.search(r"<calculation-time[^>]*>(.*?)</calculation-time>", report, re.S)
    if block is None:
        return 0.0
    return sum(float(value) for value in re.findall(r">\s*([0-9.eE+-]+)\s*<", block.group(1)))


def _seconds(value: object) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _cell(result: dict[str, object], key: str = "seconds") -> str:
    if result["status"] != "ok":
        return f"{result['status']} ({result.get('detail', '')})"
    text = _seconds(result.get(key))
    return text if result.get("agrees", True) else f"{text} (DISAGREES)"


def _ratio(a: dict[str, object], b: dict[str, object], key_a: str, key_b: str) -> str:
    x, y = a.get(key_a), b.get(key_b)
    if b.get("status") == "timeout" and isinstance(x, float):
        return f"> {float(str(b['detail']).split()[1]) / x:.0f}x"
    if not (isinstance(x, float) and isinstance(y, float)) or x <= 0 or y <= 0:
        return "n/a"
    return f"{y / x:.2f}x"


def render(report: dict[str, object]) -> str:
    env = report["environment"]
    assert isinstance(env, dict)
    rows = report["rows"]
    assert isinstance(rows, list)
    lines = [
        f"End to end, median of {report['repeat']} runs after one warm-up (runs over "
        f"{SLOW_SECONDS:g} s: once), cap {report['cap_seconds']:g} s; {env['cpus']} CPUs, 1-min "
        f"load average at start {env['load_average']:.2f}; Python {env['python']}, SCRAM "
        f"{str(env['scram']).replace(' ()', '')}. Ratio = SCRAM time / ddrisk time (> 1: ddrisk "
        "faster).",
        "",
        "#### (a) P(stack fails) only (process, files in, JSON out)",
        "",
        "| stack | regime | exact P | ddrisk risk --parts probability | SCRAM --bdd "
        "--probability -l 1 | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        d, s = row["ddrisk_probability"], row["scram_probability"]
        lines.append(
            f"| {row['name']} | {row['regime']} | {row['exact_probability']:.4g} | "
            f"{_cell(d)} | {_cell(s)} | {_ratio(d, s, 'seconds', 'seconds')} |"
        )
    lines += [
        "",
        "#### (b) P(stack fails) and importance measures",
        "",
        "ddrisk: Birnbaum, Fussell-Vesely, RAW and RRW for every mode and every layer residual. "
        "SCRAM with `-l 1` reports importance for the events of its order-1 products (the count "
        "is shown: 0 on these stacks); without the limit it computes importance for every event "
        f"from all minimal cut sets (one run, cap {report['cap_importance']:g} s).",
        "",
        "| stack | regime | ddrisk --parts probability,importance | SCRAM --importance -l 1 "
        "(events) | ratio | SCRAM --importance, no limit | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        d, s, u = row["ddrisk_importance"], row["scram_importance"], row["scram_importance_all"]
        events = s.get("importance_events")
        lines.append(
            f"| {row['name']} | {row['regime']} | {_cell(d)} | {_cell(s)} ({events}) | "
            f"{_ratio(d, s, 'seconds', 'seconds')} | {_cell(u)} | "
            f"{_ratio(d, u, 'seconds', 'seconds')} |"
        )
    lines += [
        "",
        "#### (c) The full default report (for information: SCRAM has no counterpart)",
        "",
        "| stack | regime | ddrisk risk --json (all parts) | SCRAM --probability -l 1 | ratio |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        d, s = row["ddrisk_full"], row["scram_probability"]
        lines.append(
            f"| {row['name']} | {row['regime']} | {_cell(d)} | {_cell(s)} | "
            f"{_ratio(d, s, 'seconds', 'seconds')} |"
        )
    lines += [
        "",
        "#### Engine only (in process)",
        "",
        "| stack | regime | ddrisk compute_stack_failure | SCRAM reported analysis time | "
        "SCRAM / ddrisk |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        engine = {"seconds": row["engine_seconds"]}
        s = row["scram_probability"]
        lines.append(
            f"| {row['name']} | {row['regime']} | {_seconds(row['engine_seconds'])} | "
            f"{_seconds(s.get('reported_seconds'))} | "
            f"{_ratio(engine, s, 'seconds', 'reported_seconds')} |"
        )
    floors = report["floors"]
    assert isinstance(floors, list)
    fastest = min(
        (
            float(row["scram_probability"]["seconds"])
            for row in rows
            if row["scram_probability"].get("status") == "ok"
        ),
        default=math.nan,
    )
    lines += [
        "",
        "#### The floor: what any Python process pays before its own work",
        "",
        f"| command | median | vs SCRAM's fastest whole run ({_seconds(fastest)}) |",
        "|---|---|---|",
    ]
    for floor in floors:
        seconds = floor.get("seconds")
        share = (
            f"{float(seconds) / fastest:.2f}x"
            if isinstance(seconds, float) and fastest == fastest
            else "n/a"
        )
        lines.append(f"| `{floor['command']}` | {_seconds(seconds)} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool and stack")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds before a run is killed")
    parser.add_argument(
        "--cap-importance",
        type=float,
        default=30.0,
        help="seconds before SCRAM's unlimited importance run is killed",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--only", help="run only the stacks whose name contains this text")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_average = os.getloadavg()[0]
    rows: list[dict[str, object]] = []
    floors = time_floors(args.repeat)
    with tempfile.TemporaryDirectory(prefix="ddrisk-e2e-") as tmp:
        workdir = Path(tmp)
        for regime in ("low", "ai"):
            for name, build in STACKS:
                if args.only and args.only not in name:
                    continue
                model = build(regime)
                stem = workdir / f"{re.sub(r'[^a-z0-9]+', '-', name)}-{regime}"
                catalog = stem.with_suffix(".catalog.yaml")
                params = stem.with_suffix(".params.yaml")
                xml = stem.with_suffix(".xml")
                dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
                catalog.write_text(yaml.dump(catalog_document(model, name), Dumper=dumper))
                params.write_text(yaml.dump(parameter_document(model), Dumper=dumper))
                xml.write_text(model_to_mef(model, name="bench"))
                engine_times = []
                exact = 0.0
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    exact = compute_stack_failure(model, engine="exact").probability
                    engine_times.append(time.perf_counter() - start)
                row: dict[str, object] = {
                    "name": name,
                    "regime": regime,
                    "shape": [model.n_layers, model.n_modes],
                    "exact_probability": exact,
                    "engine_seconds": statistics.median(engine_times),
                    "catalog_bytes": catalog.stat().st_size,
                    "mef_bytes": xml.stat().st_size,
                }
                for label, parts in PARTS.items():
                    row[f"ddrisk_{label}"] = time_ddrisk(
                        catalog, params, model, exact, parts=parts, cap=args.cap, repeat=args.repeat
                    )
                for label, importance in (("probability", False), ("importance", True)):
                    row[f"scram_{label}"] = time_scram(
                        xml,
                        exact,
                        importance=importance,
                        limit=True,
                        cap=args.cap,
                        repeat=args.repeat,
                    )
                row["scram_importance_all"] = time_scram(
                    xml, exact, importance=True, limit=False, cap=args.cap_importance, repeat=0
                )
                rows.append(row)
                print(f"  measured {name} ({regime})", file=sys.stderr, flush=True)
    report = {
        "format": "ddrisk-bench-e2e/2",
        "repeat": args.repeat,
        "cap_seconds": args.cap,
        "cap_importance": args.cap_importance,
        "environment": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": load_average,
            "python": platform.python_version(),
            "ddrisk": _version("ddrisk"),
            "scram": _scram_version(),
        },
        "floors": floors,
        "rows": rows,
        "wall_seconds": time.perf_counter() - started,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench_e2e.json").write_text(json.dumps(report, indent=2, default=str))
    markdown = render(report)
    (args.output / "bench_e2e.md").write_text(markdown + "\n")
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
