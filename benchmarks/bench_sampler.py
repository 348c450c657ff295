"""Benchmark: the importance sampler's ACTUAL error and interval coverage on hard stacks.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sampler.py [--seeds 100] [--draws 20000] [--no-baseline]

The family (:func:`ddrisk.risk.hard_stacks.hard_stack`) is dense (30 layers x 40 modes), in
the low regime, with 8 large shared hub modes and graded cells; the exact DP gives the truth.
Also scored: a structured hard stack (two attack routes, one ending in a 2-of-3 vote) and,
for contrast, an easy stack (bench_risk's paper-scale stack: own modes plus six rare shared
modes, on which the old design met its target). For every stack and seed it records
the estimate's actual relative error against the exact value, the reported relative error,
whether the 95 % interval covers the exact value, the effective sample size and whether the
sampler warned. With a git checkout it also scores the previous design (the cross-entropy
product tilt, loaded from ``BASELINE_COMMIT``) on the same stacks and seeds, so the change is
visible side by side. Writes ``benchmarks/results/bench_sampler.json`` and ``bench_sampler.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench_risk import paper_scale_model  # the rare-event target of bench_risk.py
from ddrisk.risk import structure as st
from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.hard_stacks import hard_stack
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import importance_sample

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BASELINE_COMMIT = "08c1067"
"""The last commit with the cross-entropy product-tilt sampler (src/ddrisk/risk/sampling.py)."""


def _baseline_sampler() -> tuple[Callable[..., Any] | None, str]:
    """The previous design's ``importance_sample``, loaded from git; (None, reason) if absent."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:src/ddrisk/risk/sampling.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"baseline not available ({error})"
    path = Path(tempfile.mkdtemp()) / "ddrisk_sampling_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("ddrisk_sampling_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.importance_sample, f"cross-entropy product tilt ({BASELINE_COMMIT})"


def _score(
    sampler: Callable[..., Any], model: FailureModeModel, exact: float, seeds: int, draws: int
) -> dict[str, Any]:
    runs = []
    for seed in range(seeds):
        start = time.perf_counter()
        result = sampler(model, n=draws, seed=seed)
        runs.append(
            {
                "seconds": time.perf_counter() - start,
                "actual": abs(result.estimate / exact - 1.0),
                "reported": result.relative_error,
                "covered": result.interval[0] <= exact <= result.interval[1],
                "ess": result.effective_sample_size,
                "warned": result.warning is not None,
            }
        )
    return {
        "coverage": sum(r["covered"] for r in runs),
        "seeds": seeds,
        "actual_median": statistics.median(r["actual"] for r in runs),
        "actual_max": max(r["actual"] for r in runs),
        "reported_median": statistics.median(r["reported"] for r in runs),
        "ess_median": statistics.median(r["ess"] for r in runs),
        "warned": sum(r["warned"] for r in runs),
        "covered_when_not_warned": sum(r["covered"] for r in runs if not r["warned"]),
        "not_warned": sum(not r["warned"] for r in runs),
        "seconds_median": statistics.median(r["seconds"] for r in runs),
        "method": getattr(result, "method", ""),
        "strata": getattr(result, "n_strata", 1),
    }


def _ess_text(value: float) -> str:
    """The ESS column; NaN means the sampler had nothing left to sample (the value is exact)."""
    return "exact" if math.isnan(value) else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true", help="skip the previous design")
    options = parser.parse_args(argv)
    stacks = [(f"hard_stack({m})", hard_stack(m)) for m in range(options.members)]
    base = hard_stack(0, n_layers=16, n_modes=24, n_hubs=5)
    routes = st.AnyRoute(
        (
            st.AllMiss(base.layers[:8]),
            st.AllMiss((*base.layers[8:13], st.Vote(2, base.layers[13:16]))),
        )
    )
    stacks.append(
        ("hard_stack(0) 16x24, 2 routes, one with a 2-of-3 vote", replace(base, structure=routes))
    )
    stacks.append(("easy: paper-scale stack (bench_risk), seed 0", paper_scale_model(0)))
    samplers: list[tuple[str, Callable[..., Any]]] = [("stratified (current)", importance_sample)]
    note = ""
    if not options.no_baseline:
        baseline, note = _baseline_sampler()
        if baseline is not None:
            samplers.append(("product tilt (previous)", baseline))
        else:
            print(note, flush=True)
    rows: list[dict[str, Any]] = []
    for label, model in stacks:
        exact = stack_failure_probability(model).probability
        for name, sampler in samplers:
            row: dict[str, Any] = {"stack": label, "sampler": name, "exact": exact}
            row.update(_score(sampler, model, exact, options.seeds, options.draws))
            rows.append(row)
            print(row, flush=True)
    lines = [
        f"{options.draws:,} draws, {options.seeds} seeds per stack and sampler "
        f"(run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); truth: exact DP.",
        "",
        "| stack | sampler | exact P | 95 % interval covered | actual rel. error median (max) | reported rel. error median | ESS median | warned | covered when not warned | time median |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['stack']} | {row['sampler']} | {row['exact']:.3g} | {row['coverage']}/{row['seeds']} | "
            f"{row['actual_median']:.2%} ({row['actual_max']:.1%}) | {row['reported_median']:.2%} | "
            f"{_ess_text(row['ess_median'])} | {row['warned']} | "
            f"{row['covered_when_not_warned']}/{row['not_warned']} | {row['seconds_median']:.2f} s |"
        )
    if note and len(samplers) == 1:
        lines += ["", note]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_sampler.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "bench_sampler.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
