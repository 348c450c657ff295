"""Benchmark: the importance sampler's ACTUAL error and interval coverage on hard stacks.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sampler.py [--seeds 100] [--draws 20000]

The family (:func:`ddrisk.risk.hard_stacks.hard_stack`) is dense (30 layers x 40 modes), in
the low regime, with 8 large shared hub modes and graded cells; the exact DP gives the truth.
For every member and every seed it records the estimate's actual relative error against the
exact value, the reported relative error, whether the 95 % interval covers the exact value,
the effective sample size and whether the sampler warned. Writes
``benchmarks/results/bench_sampler.json`` and ``bench_sampler.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.hard_stacks import hard_stack
from ddrisk.risk.sampling import importance_sample

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=3)
    options = parser.parse_args(argv)
    rows = []
    for member in range(options.members):
        model = hard_stack(member)
        exact = stack_failure_probability(model).probability
        runs = []
        for seed in range(options.seeds):
            start = time.perf_counter()
            result = importance_sample(model, n=options.draws, seed=seed)
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
        rows.append(
            {
                "member": member,
                "exact": exact,
                "coverage": sum(r["covered"] for r in runs),
                "seeds": options.seeds,
                "actual_median": statistics.median(r["actual"] for r in runs),
                "actual_max": max(r["actual"] for r in runs),
                "reported_median": statistics.median(r["reported"] for r in runs),
                "ess_median": statistics.median(r["ess"] for r in runs),
                "warned": sum(r["warned"] for r in runs),
                "covered_when_not_warned": sum(r["covered"] for r in runs if not r["warned"]),
                "not_warned": sum(not r["warned"] for r in runs),
                "seconds_median": statistics.median(r["seconds"] for r in runs),
            }
        )
        print(rows[-1], flush=True)
    lines = [
        f"Hard family, {options.draws:,} draws, {options.seeds} seeds per member "
        f"(run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        "",
        "| member | exact P | 95 % interval covered | actual rel. error median (max) | reported rel. error median | ESS median | warned | covered when not warned | time median |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| hard_stack({row['member']}) | {row['exact']:.3g} | {row['coverage']}/{row['seeds']} | "
            f"{row['actual_median']:.2%} ({row['actual_max']:.1%}) | {row['reported_median']:.2%} | "
            f"{row['ess_median']:,.0f} | {row['warned']} | "
            f"{row['covered_when_not_warned']}/{row['not_warned']} | {row['seconds_median']:.2f} s |"
        )
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_sampler.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "bench_sampler.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
