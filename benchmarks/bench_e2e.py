"""End-to-end benchmark: ``ddrisk risk`` and SCRAM as a user runs them (a benchmark, not a test).

Run from the repository root::

    .venv/bin/python benchmarks/bench_e2e.py            # about 3-5 minutes on 2 cores
    .venv/bin/python benchmarks/bench_e2e.py --repeat 1 # one timed run per tool and stack

For each random stack of ``bench_risk.py`` (its model builders, imported) it writes the files a
user would have: a ddrisk catalog (YAML, every cell with its own probability), a parameter file
with the q and residual values, and ddrisk's Open-PSA MEF export of the same model for SCRAM.
It then times fresh processes, median of ``--repeat`` runs after one untimed warm-up, each capped:

* ``ddrisk risk --catalog FILE --stack ... --params FILE --json`` (its probability must equal
  the exact in-process value), and
* ``scram --bdd --probability true -l 1 FILE.xml`` (its printed probability must agree to its
  printed precision).

A second table gives the engine alone, in process: ddrisk's ``compute_stack_failure`` and the
time SCRAM reports for its own analysis in its XML report. Results go to
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


def _run(command: list[str], cap: float) -> tuple[subprocess.CompletedProcess[str] | None, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap, check=False)
    except subprocess.TimeoutExpired:
        return None, math.inf
    return done, time.perf_counter() - start


def time_ddrisk(
    catalog: Path, params: Path, model: FailureModeModel, exact: float, *, cap: float, repeat: int
) -> dict[str, object]:
    """Median wall time of ``ddrisk risk ... --json``; its probability checked against ``exact``."""
    command = [str(DDRISK), "risk", "--catalog", str(catalog), "--stack", ",".join(model.layers)]
    command += ["--params", str(params), "--json"]
    times: list[float] = []
    probability = None
    for attempt in range(repeat + 1):
        done, seconds = _run(command, cap)
        if done is None:
            return {"status": "timeout", "detail": f"> {cap:g} s"}
        if done.returncode != 0:
            return {"status": "error", "detail": (done.stderr.strip() or "?")[-200:]}
        probability = float(json.loads(done.stdout)["result"]["probability"])
        if attempt:  # the first run warms the file cache
            times.append(seconds)
    assert probability is not None
    agrees = math.isclose(probability, exact, rel_tol=1e-9, abs_tol=0.0)
    return {
        "status": "ok",
        "seconds": statistics.median(times),
        "runs": times,
        "probability": probability,
        "agrees": agrees,
    }


def time_scram(xml: Path, exact: float, *, cap: float, repeat: int) -> dict[str, object]:
    """Median wall time of SCRAM, its printed probability and its own reported analysis time."""
    if shutil.which("scram") is None:
        return {"status": "skipped", "detail": "scram not installed"}
    report = xml.with_suffix(".report.xml")
    command = ["scram", "--bdd", "--probability", "true", "-l", "1", str(xml), "-o", str(report)]
    times: list[float] = []
    reported: list[float] = []
    printed = ""
    for attempt in range(repeat + 1):
        done, seconds = _run(command, cap)
        if done is None:
            return {"status": "timeout", "detail": f"> {cap:g} s"}
        if done.returncode != 0 or not report.exists():
            return {"status": "error", "detail": (done.stderr.strip() or "no report")[:200]}
        text = report.read_text()
        match = re.search(r'<sum-of-products[^>]*\sprobability="([^"]+)"', text)
        if match is None:
            return {"status": "error", "detail": "no probability in SCRAM report"}
        printed = match.group(1)
        if attempt:
            times.append(seconds)
            reported.append(_scram_analysis_seconds(text))
    return {
        "status": "ok",
        "seconds": statistics.median(times),
        "runs": times,
        "reported_seconds": statistics.median(reported) if all(reported) else None,
        "printed": printed,
        "agrees": _scram_agrees(printed, exact),
    }


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
    return text if result.get("agrees") else f"{text} (DISAGREES)"


def _ratio(a: dict[str, object], b: dict[str, object], key_a: str, key_b: str) -> str:
    x, y = a.get(key_a), b.get(key_b)
    if not (isinstance(x, float) and isinstance(y, float)) or x <= 0 or y <= 0:
        return "n/a"
    return f"{y / x:.2f}x"


def render(report: dict[str, object]) -> str:
    env = report["environment"]
    assert isinstance(env, dict)
    rows = report["rows"]
    assert isinstance(rows, list)
    lines = [
        f"End to end, median of {report['repeat']} runs after one warm-up, cap "
        f"{report['cap_seconds']:g} s; {env['cpus']} CPUs, 1-min load average at start "
        f"{env['load_average']:.2f}; Python {env['python']}, SCRAM "
        f"{str(env['scram']).replace(' ()', '')}.",
        "",
        "### End to end (process, files in, JSON out)",
        "",
        "| stack | regime | exact P | ddrisk risk --json | SCRAM --bdd | SCRAM / ddrisk "
        "(< 1: ddrisk slower) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        d, s = row["ddrisk"], row["scram"]
        lines.append(
            f"| {row['name']} | {row['regime']} | {row['exact_probability']:.4g} | "
            f"{_cell(d)} | {_cell(s)} | {_ratio(d, s, 'seconds', 'seconds')} |"
        )
    lines += [
        "",
        "### Engine only (in process)",
        "",
        "| stack | regime | ddrisk compute_stack_failure | SCRAM reported analysis time | "
        "SCRAM / ddrisk |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        engine = {"seconds": row["engine_seconds"]}
        s = row["scram"]
        lines.append(
            f"| {row['name']} | {row['regime']} | {_seconds(row['engine_seconds'])} | "
            f"{_seconds(s.get('reported_seconds'))} | "
            f"{_ratio(engine, s, 'seconds', 'reported_seconds')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool and stack")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds before a run is killed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_average = os.getloadavg()[0]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="ddrisk-e2e-") as tmp:
        workdir = Path(tmp)
        for regime in ("low", "ai"):
            for name, build in STACKS:
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
                rows.append(
                    {
                        "name": name,
                        "regime": regime,
                        "shape": [model.n_layers, model.n_modes],
                        "exact_probability": exact,
                        "engine_seconds": statistics.median(engine_times),
                        "ddrisk": time_ddrisk(
                            catalog, params, model, exact, cap=args.cap, repeat=args.repeat
                        ),
                        "scram": time_scram(xml, exact, cap=args.cap, repeat=args.repeat),
                        "catalog_bytes": catalog.stat().st_size,
                        "mef_bytes": xml.stat().st_size,
                    }
                )
                print(f"  measured {name} ({regime})", file=sys.stderr, flush=True)
    report = {
        "format": "ddrisk-bench-e2e/1",
        "repeat": args.repeat,
        "cap_seconds": args.cap,
        "environment": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": load_average,
            "python": platform.python_version(),
            "ddrisk": _version("ddrisk"),
            "scram": _scram_version(),
        },
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
