"""Benchmark of ddrisk's risk engines (a benchmark, not a test).

Run from the repository root::

    .venv/bin/python benchmarks/bench_risk.py           # full run, a few minutes
    .venv/bin/python benchmarks/bench_risk.py --quick   # smaller caps and fewer repetitions

It measures, in one run on this machine, the exact engine (DP and BDD), the importance measures
and the importance sampler on the built-in 7 x 7 catalog (all 127 stacks) and on random stacks
(dense 30 x 40, 40 x 60, 50 x 80 with Zipf mode popularity and 3-8 modes per layer; banded
1000 x 1500), each in a low regime and an AI-realistic one, against plain mode-subset
enumeration, crude Monte Carlo at equal time, the ``faultree`` package and SCRAM (run on ddrisk's
MEF export with ``--bdd --probability true -l 1``). Results go to
``benchmarks/results/bench_risk.json`` and ``bench_risk.md``; the Markdown is also printed, with
PASS/FAIL for the issue's targets.
"""

from __future__ import annotations

import argparse
import importlib.metadata
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ddrisk.io.catalog import load_catalog
from ddrisk.risk.exact import (
    BudgetExceeded,
    enumerate_modes,
    stack_failure_probability,
)
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import crude_monte_carlo, importance_sample

RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable

# ----------------------------------------------------------------------------- models


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{k}" for k in range(n))


def _regime_parameters(
    p: np.ndarray, regime: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mode probabilities q and residuals r for a regime.

    ``low``: q log-uniform on [1e-3, 3e-2], r log-uniform on [1e-4, 1e-3].
    ``ai``: q uniform on [0.02, 0.10]; each layer's marginal failure is drawn uniform on
    [0.10, 0.50] and r solves for it (floored at 0.005 when the modes alone exceed it).
    """
    n_layers, n_modes = p.shape
    if regime == "low":
        q = np.exp(rng.uniform(math.log(1e-3), math.log(3e-2), n_modes))
        r = np.exp(rng.uniform(math.log(1e-4), math.log(1e-3), n_layers))
        return q, r
    q = rng.uniform(0.02, 0.10, n_modes)
    target = rng.uniform(0.10, 0.50, n_layers)
    keep_modes = np.exp(np.log1p(-p * q[None, :]).sum(axis=1))
    r = np.clip(1.0 - (1.0 - target) / keep_modes, 0.005, 1.0)
    return q, r


def zipf_dense_model(
    n_layers: int, n_modes: int, *, regime: str, seed: int, graded: bool = False
) -> FailureModeModel:
    """Random stack: each layer draws 3-8 distinct modes with Zipf(1) popularity.

    Cells are certain (p = 1: the mode defeats every layer it touches) unless ``graded``, in
    which case they are drawn from {0.5, 0.9, 1.0} like the catalog's unclear / prone levels.
    """
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_modes + 1)
    popularity /= popularity.sum()
    reach = np.zeros((n_layers, n_modes), bool)
    for i in range(n_layers):
        k = int(rng.integers(3, 9))
        reach[i, rng.choice(n_modes, size=k, replace=False, p=popularity)] = True
    cells = rng.choice([0.5, 0.9, 1.0], size=reach.shape) if graded else np.ones(reach.shape)
    p = np.where(reach, cells, 0.0)
    q, r = _regime_parameters(p, regime, rng)
    return FailureModeModel(layers=_names("L", n_layers), modes=_names("m", n_modes), q=q, p=p, r=r)


def banded_model(
    n_layers: int, n_modes: int, *, regime: str, seed: int, half_width: int = 6
) -> FailureModeModel:
    """Layer i draws 3-8 modes within ``half_width`` of position i * n_modes / n_layers.

    Graded cells from {0.5, 0.9, 1.0}. One connected chain: no decomposition helps, but the
    width of the mode-sharing graph stays small.
    """
    rng = np.random.default_rng(seed)
    p = np.zeros((n_layers, n_modes))
    for i in range(n_layers):
        centre = round(i * (n_modes - 1) / max(n_layers - 1, 1))
        window = np.arange(max(0, centre - half_width), min(n_modes, centre + half_width + 1))
        k = min(int(rng.integers(3, 9)), window.size)
        chosen = rng.choice(window, size=k, replace=False)
        p[i, chosen] = rng.choice([0.5, 0.9, 1.0], size=k)
    q, r = _regime_parameters(p, regime, rng)
    return FailureModeModel(layers=_names("L", n_layers), modes=_names("m", n_modes), q=q, p=p, r=r)


def paper_scale_model(seed: int, *, n_layers: int = 16, n_shared: int = 6) -> FailureModeModel:
    """The paper's picture at larger scale: layers failing at ~0.1 each on their own, plus a few
    rare shared modes (q log-uniform on [1e-4, 1e-3]) reaching 3-6 layers with p in {0.5, 0.9}.

    Independence predicts ~4e-16; the shared modes lift P(stack fails) to ~1e-13..1e-12.
    """
    rng = np.random.default_rng(seed)
    p = np.zeros((n_layers, n_layers + n_shared))
    p[:, :n_layers] = np.eye(n_layers)
    for k in range(n_shared):
        hit = rng.choice(n_layers, size=int(rng.integers(3, 7)), replace=False)
        p[hit, n_layers + k] = rng.choice([0.5, 0.9], size=hit.size)
    q = np.concatenate(
        [np.full(n_layers, 0.1), np.exp(rng.uniform(math.log(1e-4), math.log(1e-3), n_shared))]
    )
    return FailureModeModel(
        layers=_names("L", n_layers),
        modes=_names("m", n_layers + n_shared),
        q=q,
        p=p,
        r=np.full(n_layers, 0.01),
    )


def catalog_models(regime: str) -> tuple[list[tuple[str, FailureModeModel]], str]:
    """All 127 non-empty stacks of the built-in catalog, with the mapping used."""
    catalog = load_catalog()
    techniques = catalog.technique_ids
    try:
        from ddrisk.risk.parameters import resolve_parameters

        def to_model(stack: list[str]) -> FailureModeModel:
            return resolve_parameters(catalog, stack).model

        mapping = (
            "ddrisk.risk.parameters defaults (q=0.1, p prone/unclear/not=0.9/0.5/0.05, r=0.05)"
        )
    except ImportError:  # the application layer is not installed: use the documented fallback
        level_p = {"prone": 0.9, "unclear": 0.5, "not_prone": 0.0}

        def to_model(stack: list[str]) -> FailureModeModel:
            modes = catalog.failure_mode_ids
            p = [
                [level_p[catalog.rating(t, f).effective_level.value] for f in modes] for t in stack
            ]
            return FailureModeModel(
                layers=tuple(stack),
                modes=tuple(modes),
                q=[0.1] * len(modes),
                p=p,
                r=[0.01] * len(stack),
            )

        mapping = "fallback mapping (prone 0.9, unclear 0.5, not prone 0; q=0.1, r=0.01)"
    stacks = []
    for mask in range(1, 2 ** len(techniques)):
        stack = [t for k, t in enumerate(techniques) if mask >> k & 1]
        model = to_model(stack)
        if regime == "low":
            model = FailureModeModel(
                layers=model.layers,
                modes=model.modes,
                q=np.full(model.n_modes, 0.01),
                p=model.p,
                r=np.full(model.n_layers, 0.001),
            )
        stacks.append(("+".join(stack), model))
    if regime == "low":
        mapping += "; low regime: q=0.01, r=0.001"
    return stacks, mapping


# ----------------------------------------------------------------------------- comparators


def _timed(function: Callable[[], object], repeats: int = 1) -> tuple[object, float]:
    """Result and median wall time of ``repeats`` calls."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def faultree_tree(model: FailureModeModel) -> dict[str, object]:
    """The stack as a faultree JSON tree: AND over layers of OR(residual, mode AND cell)."""
    defined: set[str] = set()

    def basic(event_id: str, probability: float) -> dict[str, object]:
        if event_id in defined:
            return {"ref": event_id}
        defined.add(event_id)
        return {
            "id": event_id,
            "event_type": "basic",
            "gate": None,
            "prob": float(probability),
            "children": [],
        }

    layers = []
    for i, layer in enumerate(model.layers):
        children: list[dict[str, object]] = []
        if model.r[i] > 0:
            children.append(basic(f"R_{i}", model.r[i]))
        for j in np.flatnonzero(model.p[i] > 0):
            occurs = basic(f"Q_{j}", model.q[j])
            if model.p[i, j] >= 1.0:
                children.append(occurs)
            else:
                children.append(
                    {
                        "id": f"H_{i}_{j}",
                        "event_type": "intermediate",
                        "gate": "AND",
                        "children": [occurs, basic(f"C_{i}_{j}", model.p[i, j])],
                    }
                )
        layers.append(
            {"id": f"G_{layer}", "event_type": "intermediate", "gate": "OR", "children": children}
        )
    return {"id": "TOP", "event_type": "top event", "gate": "AND", "children": layers}


_FAULTREE_SCRIPT = """
import json, sys, time
sys.setrecursionlimit(100000)
import faultree
tree = json.load(open(sys.argv[1]))
start = time.perf_counter()
if sys.argv[2] == "importance":
    result = faultree.analyze(tree)
    value = result["Q"]
else:
    compiled = faultree.compile_tree(tree, include_expressions=False)
    value = faultree.quantify_compiled(compiled)["TOP"]
print(json.dumps({"probability": float(value), "seconds": time.perf_counter() - start}))
"""


@dataclass
class External:
    """Outcome of one external tool run."""

    status: str  # "ok", "timeout", "error", "skipped"
    seconds: float | None = None
    probability: float | None = None
    printed: str | None = None
    agrees: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "seconds": self.seconds,
            "probability": self.probability,
            "printed": self.printed,
            "agrees": self.agrees,
            "detail": self.detail,
        }


def run_faultree(model: FailureModeModel, workdir: Path, *, cap: float, mode: str) -> External:
    """faultree (PyPI) in a subprocess: BDD compile + weighted model count, capped."""
    tree_path = workdir / "tree.json"
    tree_path.write_text(json.dumps(faultree_tree(model)))
    try:
        done = subprocess.run(
            [PYTHON, "-c", _FAULTREE_SCRIPT, str(tree_path), mode],
            capture_output=True,
            text=True,
            timeout=cap,
        )
    except subprocess.TimeoutExpired:
        return External("timeout", seconds=None, detail=f"> {cap:g} s")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return External("error", detail=last[:160])
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    return External("ok", seconds=payload["seconds"], probability=payload["probability"])


def _scram_agrees(printed: str, exact: float) -> bool:
    """Does ``exact`` round to what SCRAM printed (its %g precision, 1 unit of slack)?"""
    mantissa = printed.lower().split("e")[0]
    digits = len(mantissa.replace("-", "").replace(".", "").lstrip("0")) or 1
    value = float(printed)
    if value == 0.0:
        return exact < 1e-300
    unit = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return abs(value - exact) <= unit


def run_scram(model: FailureModeModel, workdir: Path, exact: float, *, cap: float) -> External:
    """SCRAM on ddrisk's MEF export, BDD probability with cut-set order limit 1, capped."""
    try:
        from ddrisk.io.mef import model_to_mef
    except ImportError:
        return External("skipped", detail="ddrisk.io.mef.model_to_mef not available")
    if shutil.which("scram") is None:
        return External("skipped", detail="scram not installed (apt-get install scram)")
    xml_path = workdir / "stack.xml"
    report_path = workdir / "report.xml"
    xml_path.write_text(model_to_mef(model, name="bench"))
    command = ["scram", "--bdd", "--probability", "true", "-l", "1", str(xml_path)]
    command += ["-o", str(report_path)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return External("timeout", detail=f"> {cap:g} s")
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not report_path.exists():
        return External("error", detail=(done.stderr.strip() or "no report")[:160])
    match = re.search(r'<sum-of-products[^>]*\sprobability="([^"]+)"', report_path.read_text())
    if match is None:
        return External("error", detail="no probability in SCRAM report")
    printed = match.group(1)
    return External(
        "ok",
        seconds=seconds,
        probability=float(printed),
        printed=printed,
        agrees=_scram_agrees(printed, exact),
    )


def enumeration_time(model: FailureModeModel, *, max_modes: int = 20) -> tuple[float, bool]:
    """Seconds plain enumeration takes: measured when it fits, else extrapolated.

    The extrapolation times enumeration of the same stack restricted to its first 12 modes and
    scales by ``2 ** (M - 12)``.
    """
    n_free = int(((model.q > 0) & (model.q < 1)).sum())
    if n_free <= max_modes:
        _, seconds = _timed(lambda: enumerate_modes(model, max_modes=max_modes))
        return seconds, False
    keep = np.arange(12)
    small = FailureModeModel(
        layers=model.layers,
        modes=tuple(model.modes[k] for k in keep),
        q=model.q[keep],
        p=model.p[:, keep],
        r=model.r,
    )
    _, seconds = _timed(lambda: enumerate_modes(small))
    log10_seconds = math.log10(seconds) + (n_free - 12) * math.log10(2.0)
    return (10.0**log10_seconds if log10_seconds < 300 else math.inf), True


# ----------------------------------------------------------------------------- measurements


@dataclass
class Row:
    """Everything measured on one model."""

    name: str
    regime: str
    shape: tuple[int, int]
    values: dict[str, object] = field(default_factory=dict)


def measure_model(
    name: str,
    regime: str,
    model: FailureModeModel,
    workdir: Path,
    *,
    caps: dict[str, float],
    importance: bool,
    run_faultree_now: bool,
    run_scram_now: bool,
    bdd: bool,
) -> Row:
    row = Row(name, regime, (model.n_layers, model.n_modes))
    v = row.values
    marginals = model.layer_failure_probabilities()
    v["marginal_range"] = [float(marginals.min()), float(marginals.max())]
    exact, dp_seconds = _timed(lambda: stack_failure_probability(model, method="dp"), repeats=3)
    v["exact_probability"] = exact.probability
    v["exact_log_probability"] = exact.log_probability
    v["dp_seconds"] = dp_seconds
    v["dp_peak_states"] = exact.peak_states
    v["components"] = exact.n_components
    if bdd:
        try:
            result, seconds = _timed(
                lambda: stack_failure_probability(model, method="bdd", node_budget=1_000_000)
            )
            v["bdd_seconds"] = seconds
            v["bdd_nodes"] = result.bdd_nodes
            v["bdd_ordering"] = result.ordering
            v["bdd_relative_difference"] = _relative_difference(
                result.log_probability, exact.log_probability
            )
        except BudgetExceeded as error:
            v["bdd_seconds"] = None
            v["bdd_note"] = str(error)
    if importance:
        _, seconds = _timed(lambda: importance_measures(model), repeats=3)
        v["importance_seconds"] = seconds
    enum_seconds, extrapolated = enumeration_time(model)
    v["enumeration_seconds"] = enum_seconds
    v["enumeration_free_modes"] = int(((model.q > 0) & (model.q < 1)).sum())
    v["enumeration_extrapolated"] = extrapolated
    sampled, is_seconds = _timed(lambda: importance_sample(model, seed=1))
    v["is_estimate"] = sampled.estimate
    v["is_relative_error"] = sampled.relative_error
    v["is_seconds"] = is_seconds
    v["is_error_in_se"] = (
        (sampled.estimate - exact.probability) / sampled.standard_error
        if sampled.standard_error > 0
        else None
    )
    crude = crude_monte_carlo(model, n=10**9, seed=1, time_limit=is_seconds)
    v["crude_samples"] = crude.n_samples
    v["crude_relative_error"] = crude.relative_error
    v["crude_estimate"] = crude.estimate
    v["faultree"] = (
        run_faultree(model, workdir, cap=caps["faultree"], mode="probability").to_dict()
        if run_faultree_now
        else External(
            "skipped", detail="a smaller stack of this kind already hit the cap"
        ).to_dict()
    )
    v["scram"] = (
        run_scram(model, workdir, exact.probability, cap=caps["scram"]).to_dict()
        if run_scram_now
        else External(
            "skipped", detail="a smaller stack of this kind already hit the cap"
        ).to_dict()
    )
    return row


def _relative_difference(log_a: float, log_b: float) -> float:
    if not (math.isfinite(log_a) and math.isfinite(log_b)):
        return 0.0 if log_a == log_b else math.inf
    return abs(math.expm1(log_a - log_b))


def measure_catalog(regime: str, workdir: Path, *, caps: dict[str, float]) -> dict[str, object]:
    """All 127 stacks: totals, worst times, worst disagreements."""
    stacks, mapping = catalog_models(regime)
    dp_total = bdd_total = enum_total = scram_total = faultree_total = 0.0
    worst = {"dp_vs_enum": 0.0, "bdd_vs_enum": 0.0}
    scram_agree = scram_ok = faultree_ok = 0
    faultree_worst = 0.0
    probabilities = {}
    for label, model in stacks:
        dp, seconds = _timed(lambda m=model: stack_failure_probability(m, method="dp"))
        dp_total += seconds
        bdd, seconds = _timed(lambda m=model: stack_failure_probability(m, method="bdd"))
        bdd_total += seconds
        reference, seconds = _timed(lambda m=model: enumerate_modes(m))
        enum_total += seconds
        probabilities[label] = dp.probability
        worst["dp_vs_enum"] = max(worst["dp_vs_enum"], abs(dp.probability / reference - 1))
        worst["bdd_vs_enum"] = max(worst["bdd_vs_enum"], abs(bdd.probability / reference - 1))
        scram = run_scram(model, workdir, dp.probability, cap=caps["scram"])
        if scram.status == "ok":
            scram_ok += 1
            scram_total += scram.seconds or 0.0
            scram_agree += bool(scram.agrees)
        tree = run_faultree(model, workdir, cap=caps["faultree"], mode="probability")
        if tree.status == "ok":
            faultree_ok += 1
            faultree_total += tree.seconds or 0.0
            faultree_worst = max(faultree_worst, abs(tree.probability / dp.probability - 1))
    full = stacks[-1][1]
    return {
        "regime": regime,
        "mapping": mapping,
        "stacks": len(stacks),
        "dp_total_seconds": dp_total,
        "bdd_total_seconds": bdd_total,
        "enumeration_total_seconds": enum_total,
        "max_relative_difference": worst,
        "scram_runs_ok": scram_ok,
        "scram_agreeing": scram_agree,
        "scram_total_seconds": scram_total,
        "faultree_runs_ok": faultree_ok,
        "faultree_total_seconds": faultree_total,
        "faultree_max_relative_difference": faultree_worst,
        "full_stack_probability": probabilities[stacks[-1][0]],
        "full_stack_independence": float(np.prod(full.layer_failure_probabilities())),
    }


def sampler_target(repetitions: int, n: int = 100_000) -> dict[str, object]:
    """The 1e-12 target: relative error, time and interval coverage over seeded repetitions."""
    model = paper_scale_model(0)
    exact = stack_failure_probability(model)
    covered = 0
    errors, times, reported = [], [], []
    for seed in range(repetitions):
        result, seconds = _timed(lambda s=seed: importance_sample(model, n=n, seed=s))
        covered += result.interval[0] <= exact.probability <= result.interval[1]
        errors.append(abs(result.estimate / exact.probability - 1))
        reported.append(result.relative_error)
        times.append(seconds)
    return {
        "model": (
            f"paper-scale 16 layers (own mode q=0.1 each) + 6 rare shared modes, seed 0; "
            f"{n:,} draws per run"
        ),
        "exact_probability": exact.probability,
        "repetitions": repetitions,
        "covered": covered,
        "median_reported_relative_error": statistics.median(reported),
        "max_reported_relative_error": max(reported),
        "runs_within_2_percent": sum(e <= 0.02 for e in reported),
        "median_actual_relative_error": statistics.median(errors),
        "median_seconds": statistics.median(times),
        "max_seconds": max(times),
    }


def importance_versus_faultree(model: FailureModeModel, workdir: Path, cap: float) -> dict:
    _, ours = _timed(lambda: importance_measures(model), repeats=3)
    theirs = run_faultree(model, workdir, cap=cap, mode="importance")
    return {"ddrisk_seconds": ours, "faultree": theirs.to_dict()}


# ----------------------------------------------------------------------------- report


def _fmt_seconds(value: object) -> str:
    if value is None:
        return "-"
    seconds = float(value)
    if math.isinf(seconds):
        return "> 1e300 yr"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 3600:
        return f"{seconds:.2f} s"
    if seconds < 3.2e7:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 3.15e7:.2g} yr"


def _fmt_probability(probability: float, log_probability: float) -> str:
    if probability > 0 or not math.isfinite(log_probability):
        return f"{probability:.4g}"
    exponent = log_probability / math.log(10.0)
    return f"{10 ** (exponent - math.floor(exponent)):.4g}e{math.floor(exponent)}"


def _fmt_relative(value: float) -> str:
    return f"{value:.2%}" if math.isfinite(value) else "no failure seen"


def _fmt_external(entry: dict[str, object], dp_seconds: float) -> str:
    status = entry["status"]
    if status == "ok":
        seconds = float(entry["seconds"])
        mark = ""
        if entry.get("agrees") is not None:
            mark = " ✓" if entry["agrees"] else " ✗"
        return f"{_fmt_seconds(seconds)} ({seconds / dp_seconds:.0f}x){mark}"
    if status == "timeout":
        return f"{entry['detail']} (>{float(str(entry['detail'])[2:-2]) / dp_seconds:.0f}x)"
    return f"{status}: {entry['detail']}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def render(report: dict[str, object]) -> str:
    lines = ["# ddrisk risk-engine benchmark", ""]
    env = report["environment"]
    lines.append(
        f"Run {env['date']} on {env['machine']} ({env['cpus']} CPUs), Python {env['python']}; "
        f"scram {env['scram']}, faultree {env['faultree']}, dd {env['dd']}. "
        f"Mode: {'quick' if report['quick'] else 'full'}; wall time {report['wall_seconds']:.0f} s."
    )
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for target in report["targets"]:
        lines.append(f"| {target['target']} | {target['measured']} | {target['verdict']} |")
    lines += [
        "",
        "## Random and banded stacks",
        "",
        "Ratios are the comparator's time over the exact DP's time, measured in the same run. "
        "Enumeration times marked ~ are extrapolated from 12 modes. Crude MC ran for as long as "
        "the importance sampler (IS); its relative error is infinite when it saw no failure. "
        "✓ = SCRAM agrees with the exact value to its printed precision.",
        "",
        "| stack | regime | P(stack fails) | DP | BDD (nodes) | importance | enumeration | "
        "IS rel. err (time) | crude MC rel. err | faultree | SCRAM |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        v = row["values"]
        dp = float(v["dp_seconds"])
        bdd = (
            f"{_fmt_seconds(v['bdd_seconds'])} ({v['bdd_nodes']:,})"
            if v.get("bdd_seconds") is not None
            else ("over budget" if "bdd_note" in v else "-")
        )
        enum = ("~" if v["enumeration_extrapolated"] else "") + _fmt_seconds(
            v["enumeration_seconds"]
        )
        if math.isfinite(float(v["enumeration_seconds"])):
            enum += f" ({float(v['enumeration_seconds']) / dp:.2g}x)"
        else:
            enum = f"2^{v['enumeration_free_modes']} subsets"
        crude = v["crude_relative_error"]
        crude_text = "inf (0 hits)" if not math.isfinite(crude) else f"{crude:.2%}"
        lines.append(
            f"| {row['name']} | {row['regime']} | "
            f"{_fmt_probability(v['exact_probability'], v['exact_log_probability'])} | "
            f"{_fmt_seconds(dp)} | {bdd} | {_fmt_seconds(v.get('importance_seconds'))} | {enum} | "
            f"{_fmt_relative(v['is_relative_error'])} ({_fmt_seconds(v['is_seconds'])}) | "
            f"{crude_text} ({v['crude_samples']:,} draws) | {_fmt_external(v['faultree'], dp)} | "
            f"{_fmt_external(v['scram'], dp)} |"
        )
    lines += [
        "",
        "## Built-in 7 x 7 catalog, all 127 stacks",
        "",
        "| regime | mapping | DP total | BDD total | enumeration total | max DP/BDD vs "
        "enumeration | SCRAM agreeing | SCRAM total | faultree total | full stack P (independence) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cat in report["catalog"]:
        worst = cat["max_relative_difference"]
        lines.append(
            f"| {cat['regime']} | {cat['mapping']} | {_fmt_seconds(cat['dp_total_seconds'])} | "
            f"{_fmt_seconds(cat['bdd_total_seconds'])} | "
            f"{_fmt_seconds(cat['enumeration_total_seconds'])} | "
            f"{max(worst.values()):.1e} | {cat['scram_agreeing']}/{cat['stacks']} | "
            f"{_fmt_seconds(cat['scram_total_seconds'])} | "
            f"{_fmt_seconds(cat['faultree_total_seconds'])} ({cat['faultree_runs_ok']} ok) | "
            f"{cat['full_stack_probability']:.4g} ({cat['full_stack_independence']:.3g}) |"
        )
    sampler = report["sampler_target"]
    lines += [
        "",
        "## Importance sampler near 1e-12",
        "",
        f"{sampler['model']}: exact {sampler['exact_probability']:.4g}; over "
        f"{sampler['repetitions']} seeds the 95 % interval covered it {sampler['covered']} times; "
        f"reported relative error median {sampler['median_reported_relative_error']:.2%} (max "
        f"{sampler['max_reported_relative_error']:.2%}), actual median "
        f"{sampler['median_actual_relative_error']:.2%}; time median "
        f"{_fmt_seconds(sampler['median_seconds'])} (max {_fmt_seconds(sampler['max_seconds'])}); "
        f"{sampler['runs_within_2_percent']} of {sampler['repetitions']} runs reported a relative "
        "error of at most 2 %.",
    ]
    imp = report["importance_vs_faultree"]
    lines += [
        "",
        "## Importance measures, dense 30 x 40 (AI-realistic)",
        "",
        f"ddrisk (all modes and layers, exact): {_fmt_seconds(imp['ddrisk_seconds'])}; faultree "
        f"`analyze`: {_fmt_external(imp['faultree'], imp['ddrisk_seconds'])}.",
        "",
    ]
    return "\n".join(lines)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _scram_version() -> str:
    if shutil.which("scram") is None:
        return "not installed"
    done = subprocess.run(["scram", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.split("\n") or ["?"])[0].replace("SCRAM ", "").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller caps, fewer repetitions")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    caps = {"faultree": 10.0, "scram": 10.0} if args.quick else {"faultree": 30.0, "scram": 30.0}
    started = time.perf_counter()
    random_specs = [
        ("dense 30x40", lambda regime: zipf_dense_model(30, 40, regime=regime, seed=1), "dense"),
        (
            "dense 30x40 graded",
            lambda regime: zipf_dense_model(30, 40, regime=regime, seed=1, graded=True),
            "graded",
        ),
        ("dense 40x60", lambda regime: zipf_dense_model(40, 60, regime=regime, seed=2), "dense"),
        ("dense 50x80", lambda regime: zipf_dense_model(50, 80, regime=regime, seed=3), "dense"),
        (
            "banded 1000x1500",
            lambda regime: banded_model(1000, 1500, regime=regime, seed=4),
            "banded",
        ),
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ddrisk-bench-") as tmp:
        workdir = Path(tmp)
        capped: set[tuple[str, str, str]] = set()
        for regime in ("low", "ai"):
            for name, build, family in random_specs:
                model = build(regime)
                row = measure_model(
                    name,
                    regime,
                    model,
                    workdir,
                    caps=caps,
                    importance=model.n_layers <= 50,
                    run_faultree_now=("faultree", family, regime) not in capped,
                    run_scram_now=("scram", family, regime) not in capped,
                    bdd=family == "dense",
                )
                for tool in ("faultree", "scram"):
                    if row.values[tool]["status"] == "timeout":
                        capped.add((tool, family, regime))
                rows.append(row)
                print(f"  measured {name} ({regime})", file=sys.stderr, flush=True)
        catalog = [measure_catalog(regime, workdir, caps=caps) for regime in ("low", "ai")]
        print("  measured the 127 catalog stacks", file=sys.stderr, flush=True)
        sampler = sampler_target(30 if args.quick else 100)
        importance_cmp = importance_versus_faultree(
            zipf_dense_model(30, 40, regime="ai", seed=1), workdir, caps["faultree"] * 2
        )
    by_key = {(row.name, row.regime): row.values for row in rows}
    targets = []
    worst_30 = max(by_key[("dense 30x40", r)]["dp_seconds"] for r in ("low", "ai"))
    worst_imp = max(by_key[("dense 30x40", r)]["importance_seconds"] for r in ("low", "ai"))
    worst_50 = max(by_key[("dense 50x80", r)]["dp_seconds"] for r in ("low", "ai"))
    worst_band = max(by_key[("banded 1000x1500", r)]["dp_seconds"] for r in ("low", "ai"))
    targets.append(
        {
            "target": "30 x 40 exact < 0.1 s",
            "measured": _fmt_seconds(worst_30),
            "verdict": _verdict(worst_30 < 0.1),
        }
    )
    targets.append(
        {
            "target": "30 x 40 all importance measures < 1 s",
            "measured": _fmt_seconds(worst_imp),
            "verdict": _verdict(worst_imp < 1.0),
        }
    )
    targets.append(
        {
            "target": "50 x 80 exact < 10 s",
            "measured": _fmt_seconds(worst_50),
            "verdict": _verdict(worst_50 < 10.0),
        }
    )
    targets.append(
        {
            "target": "banded 1000 x 1500 exact < 1 s",
            "measured": _fmt_seconds(worst_band),
            "verdict": _verdict(worst_band < 1.0),
        }
    )
    sampler_ok = (
        sampler["median_reported_relative_error"] <= 0.02
        and sampler["max_seconds"] < 1.0
        and sampler["covered"] >= 0.9 * sampler["repetitions"]
    )
    targets.append(
        {
            "target": "~1e-12 case: rel. error <= 2 % in < 1 s, interval covers in >= 90 %",
            "measured": (
                f"P={sampler['exact_probability']:.3g}, median rel. err "
                f"{sampler['median_reported_relative_error']:.2%} (max "
                f"{sampler['max_reported_relative_error']:.2%}), max "
                f"{_fmt_seconds(sampler['max_seconds'])}, covered "
                f"{sampler['covered']}/{sampler['repetitions']}"
            ),
            "verdict": _verdict(sampler_ok),
        }
    )
    scram_rows = [v["scram"] for v in by_key.values() if v["scram"]["status"] == "ok"]
    scram_catalog_agree = sum(c["scram_agreeing"] for c in catalog)
    scram_catalog_ok = sum(c["scram_runs_ok"] for c in catalog)
    agree = sum(bool(s["agrees"]) for s in scram_rows) + scram_catalog_agree
    total = len(scram_rows) + scram_catalog_ok
    targets.append(
        {
            "target": "SCRAM agrees to its printed precision",
            "measured": f"{agree}/{total} runs",
            "verdict": _verdict(total > 0 and agree == total),
        }
    )
    report = {
        "quick": args.quick,
        "caps_seconds": caps,
        "environment": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": _version("numpy"),
            "dd": _version("dd"),
            "faultree": _version("faultree"),
            "scram": _scram_version(),
        },
        "rows": [
            {"name": r.name, "regime": r.regime, "shape": list(r.shape), "values": r.values}
            for r in rows
        ],
        "catalog": catalog,
        "sampler_target": sampler,
        "importance_vs_faultree": importance_cmp,
        "targets": targets,
        "wall_seconds": time.perf_counter() - started,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench_risk.json").write_text(
        json.dumps(_clean(report), indent=2, default=_json_default)
    )
    markdown = render(report)
    (args.output / "bench_risk.md").write_text(markdown + "\n")
    print(markdown)
    return 0


def _clean(value: object) -> object:
    """Non-finite floats become strings so the JSON stays standard."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return str(float(value))
    return value


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


if __name__ == "__main__":
    raise SystemExit(main())
