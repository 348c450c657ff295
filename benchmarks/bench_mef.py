"""Benchmark: every fault tree shipped with Debian's ``scram`` package, ddrisk against SCRAM.

Run from the repository root::

    .venv/bin/python benchmarks/bench_mef.py

For each published tree under ``/usr/share/scram/input`` (with its basic-event file where one
is shipped) it runs, in one run on this machine:

* ``ddrisk risk --mef ... --json`` as a user runs it (a fresh process: start-up, reading,
  BDD with the ordering portfolio, importance measures, JSON out): end-to-end time;
* ddrisk's reader and engine in this process (engine-only time, importance measures off);
* ``scram --bdd --probability true -l 1`` on the same files (a fresh process): its time and
  its printed top-event probability.

Agreement is checked to SCRAM's printed digits (6 significant). A tree ddrisk cannot read is
listed with the reason. Writes ``benchmarks/results/bench_mef.json`` and ``bench_mef.md``.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ddrisk.errors import DdriskError
from ddrisk.io.mef_fault_tree import read_mef_fault_tree
from ddrisk.risk.faulttree import quantify_fault_tree

INPUT = Path("/usr/share/scram/input")
RESULTS = Path(__file__).resolve().parent / "results"
DDRISK = str(Path(sys.executable).with_name("ddrisk"))
TREES = {
    "Baobab1": ["Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"],
    "Baobab2": ["Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"],
    "CEA9601": ["CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"],
    "Chinese": ["Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"],
    "HIPPS": ["HIPPS/HIPPS.xml"],
    "Lift": ["Lift/lift.xml"],
    "Theatre": ["Theatre/theatre.xml"],
    "ThreeMotor": ["ThreeMotor/three_motor.xml"],
    "TwoTrain": ["TwoTrain/two_train.xml"],
    "ne574": ["ne574/ne574.xml"],
    "BSCU": ["BSCU/BSCU.xml"],
    "SmallTree": ["SmallTree/SmallTree.xml"],
}
CAP_SECONDS = 120.0


def _scram(files: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            ["scram", "--bdd", "--probability", "true", "-l", "1", *files],
            capture_output=True,
            text=True,
            timeout=CAP_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"over {CAP_SECONDS:g} s"}
    seconds = time.perf_counter() - start
    match = re.search(r'<sum-of-products[^>]*probability="([^"]+)"', done.stdout)
    if done.returncode != 0 or match is None:
        return {"status": "error", "seconds": seconds, "stderr": done.stderr[-300:]}
    return {"status": "ok", "seconds": seconds, "printed": match.group(1)}


def _ddrisk_process(files: list[str]) -> dict[str, object]:
    args = [DDRISK, "risk", "--json"]
    for f in files:
        args += ["--mef", f]
    start = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=CAP_SECONDS)
    except subprocess.TimeoutExpired:
        return {"status": f"over {CAP_SECONDS:g} s"}
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"status": "error", "seconds": seconds, "message": done.stderr.strip()[-300:]}
    data = json.loads(done.stdout)
    return {"status": "ok", "seconds": seconds, "probability": data["probability"]}


def _agrees(printed: str, value: float) -> bool:
    digits = len(printed.split("e")[0].replace(".", "").replace("-", "").lstrip("0"))
    return f"{value:.{max(digits, 1)}g}" == f"{float(printed):.{max(digits, 1)}g}"


def measure(name: str, relative: list[str]) -> dict[str, object]:
    files = [str(INPUT / f) for f in relative]
    row: dict[str, object] = {"tree": name, "files": relative}
    row["scram"] = _scram(files)
    try:
        start = time.perf_counter()
        tree = read_mef_fault_tree(files)
        read_seconds = time.perf_counter() - start
        result = quantify_fault_tree(tree)
        row["engine"] = {
            "status": "ok",
            "probability": result.probability,
            "read_seconds": read_seconds,
            "engine_seconds": result.elapsed_seconds,
            "bdd_nodes": result.bdd_nodes,
            "ordering": result.ordering,
            "basic_events": result.n_basic_events,
            "gates": result.n_gates,
            "coherent": result.coherent,
        }
    except DdriskError as error:
        row["engine"] = {"status": "unsupported", "reason": str(error)}
        row["process"] = {"status": "not run"}
        return row
    row["process"] = _ddrisk_process(files)
    scram = row["scram"]
    if scram.get("status") == "ok":
        row["agrees"] = _agrees(str(scram["printed"]), float(result.probability))
    return row


def render(rows: list[dict[str, object]], header: str) -> str:
    lines = [
        header,
        "",
        "| tree | events / gates | SCRAM printed | ddrisk | agrees | ddrisk end to end | SCRAM end to end | ratio (SCRAM / ddrisk) | ddrisk engine only (BDD nodes, ordering) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        engine, scram, process = row["engine"], row["scram"], row.get("process", {})
        if engine["status"] != "ok":
            scram_text = scram.get("printed", scram.get("status"))
            lines.append(
                f"| {row['tree']} | - | {scram_text} | not supported: {engine['reason']} | - | - | "
                f"{_sec(scram.get('seconds'))} | - | - |"
            )
            continue
        ratio = "-"
        if process.get("status") == "ok" and scram.get("status") == "ok":
            ratio = f"{float(scram['seconds']) / float(process['seconds']):.2f}x"
        ddrisk_value = f"{float(engine['probability']):.6g}"
        lines.append(
            f"| {row['tree']} | {engine['basic_events']} / {engine['gates']}"
            f"{'' if engine['coherent'] else ' (not)'} | {scram.get('printed', scram.get('status'))} | "
            f"{ddrisk_value} | {'yes' if row.get('agrees') else 'NO' if 'agrees' in row else '-'} | "
            f"{_sec(process.get('seconds')) if process.get('status') == 'ok' else process.get('status')} | "
            f"{_sec(scram.get('seconds'))} | {ratio} | "
            f"{_sec(float(engine['read_seconds']) + float(engine['engine_seconds']))} "
            f"({engine['bdd_nodes']:,}, {engine['ordering']}) |"
        )
    return "\n".join(lines)


def _sec(value: object) -> str:
    if value is None:
        return "-"
    seconds = float(value)  # type: ignore[arg-type]
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> int:
    if shutil.which("scram") is None or not INPUT.exists():
        print("SCRAM and its input trees are needed: apt-get install scram")
        return 1
    started = time.perf_counter()
    rows = [measure(name, files) for name, files in TREES.items()]
    version = subprocess.run(["scram", "--version"], capture_output=True, text=True).stdout
    header = (
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.platform()} "
        f"({platform.python_version()}); {version.strip().splitlines()[0] if version else 'scram'}; "
        f"wall {time.perf_counter() - started:.0f} s. End to end = one fresh process each, files "
        f"in, answer out (ddrisk: `ddrisk risk --mef ... --json`, with importance measures; SCRAM: "
        f"`scram --bdd --probability true -l 1`). Engine only = ddrisk's reader and BDD in this "
        f"process."
    )
    text = render(rows, header)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_mef.json").write_text(json.dumps(rows, indent=2, default=str))
    (RESULTS / "bench_mef.md").write_text(text + "\n")
    print(text)
    agree = [r for r in rows if "agrees" in r]
    print(
        f"\nagree with SCRAM: {sum(bool(r['agrees']) for r in agree)}/{len(agree)} compared; "
        f"unsupported: {sum(r['engine']['status'] != 'ok' for r in rows)}"
    )
    return 0 if all(r["agrees"] for r in agree) else 1


if __name__ == "__main__":
    raise SystemExit(main())
