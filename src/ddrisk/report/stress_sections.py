"""Report section for a stress run, built from a :class:`~ddrisk.stress.statistics.StressAnalysis`.

Numbers come from the analysis tables (the same ones ``ddrisk stress analyze
--json`` prints) and figures from :mod:`ddrisk.report.stress_figures`; this
module only selects and formats them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddrisk.report.blocks import (
    Cell,
    Details,
    FigureBlock,
    FindingItem,
    Paragraph,
    Section,
    Table,
    cells,
)
from ddrisk.report.number_format import fixed, interval_text
from ddrisk.report.rates import observed_text, prefixed_rate_text, rate_text

if TYPE_CHECKING:
    from ddrisk.stress.statistics import StressAnalysis

MAX_MASTER_KEYS_SHOWN = 25


def stress_analysis_for_run(
    run: str | Path, *, runs_dir: str | Path = "ddrisk-runs", seed: int = 0
) -> StressAnalysis:
    """Load a stored stress run and compute its statistics (``ddrisk stress analyze`` defaults)."""
    from ddrisk.stress.experiment import analyze_run

    return analyze_run(run, runs_dir=Path(runs_dir), seed=seed)


def _num(value: Any, digits: int = 3) -> str:
    """A float for a table, with '—' for missing values (:func:`~ddrisk.report.number_format.fixed`).

    >>> _num(0.12345), _num(None), _num(float("nan"))
    ('0.123', '—', '—')
    """
    return fixed(value, digits, missing="—")


def _interval(estimate: Any, lo: Any, hi: Any, digits: int = 3) -> str:
    return interval_text(estimate, lo, hi, digits, missing="—")


def _triple(value: dict[str, Any], digits: int = 3) -> str:
    if value.get("estimable") is False:
        return NOT_ESTIMABLE
    return _interval(value.get("estimate"), value.get("lo"), value.get("hi"), digits)


NOT_ESTIMABLE = "not estimable"


def _guarded(row: dict[str, Any], name: str, digits: int = 2) -> str:
    """A ratio or association with its interval, or "not estimable" on too few expected events."""
    if row.get(f"{name}_estimable") is False:
        return NOT_ESTIMABLE
    return _interval(row[name], row[f"{name}_lo"], row[f"{name}_hi"], digits)


def stress_provenance(stress: StressAnalysis) -> dict[str, Any]:
    """Model, parameters and input (run id, hash) of a stress analysis."""
    return {
        "model": stress.model,
        "seed": stress.parameters.get("seed"),
        "n_bootstrap": stress.parameters.get("n_bootstrap"),
        "confidence": stress.parameters.get("confidence"),
        "run_id": stress.input.get("run_id"),
        "input_sha256": stress.input.get("input_sha256"),
    }


def _caption_provenance(stress: StressAnalysis) -> str:
    p = stress_provenance(stress)
    return (
        f"model: {p['model']} · seed {p['seed']} · {p['n_bootstrap']} cluster-bootstrap replicates "
        f"over behavior_id · {p['confidence']:.0%} intervals · run {p['run_id']} · input "
        f"sha256:{p['input_sha256']}"
    )


def _reading(data: dict[str, Any]) -> str:
    stack = data["stack"]
    lift = stack["lift_stratified"].get("estimate")
    confidence = data["parameters"]["confidence"]
    return (
        f"Observed all-miss rate {observed_text(stack['all_miss'], confidence=confidence)} against "
        f"{_triple(stack['independence_stratified'])} predicted by independence within families "
        f"(ratio {_num(lift, 2)})."
    )


def stress_headline(stress: StressAnalysis) -> FindingItem:
    """The stress run's joint-failure result as one line for the summary of findings."""
    data = stress.to_dict()
    layers = data["input"]["layers"]
    return FindingItem(
        f"Measured: do {len(layers)} layers miss the same attacks?",
        "info",
        "measured",
        f"{', '.join(layers)} on {data['input']['n_harmful']} harmful items: {_reading(data)}",
        provenance=_caption_provenance(stress),
    )


def stress_sections(stress: StressAnalysis) -> list[Section]:
    """The stress-test section: layers, stack vs independence, pairs, families, master keys."""
    from ddrisk.report import stress_figures

    data = stress.to_dict()
    provenance = _caption_provenance(stress)
    source = data["input"]
    stack = data["stack"]
    level = f"{data['parameters']['confidence']:.0%}"
    confidence = data["parameters"]["confidence"]

    layer_rows = [
        cells(
            r["layer"],
            prefixed_rate_text(r, "miss", confidence=confidence),
            prefixed_rate_text(r, "false_block", confidence=confidence),
            _interval(r["refusal_rate"], r["refusal_lo"], r["refusal_hi"]),
        )
        for r in data["layers"]
    ]
    stack_rows = [
        cells(
            "all layers miss (observed)",
            f"{stack['all_miss']['k']}/{stack['all_miss']['n']}",
            observed_text(stack["all_miss"], confidence=confidence, with_count=False),
        ),
        cells("independence prediction, pooled", "", _triple(stack["independence_pooled"])),
        cells(
            "independence prediction, stratified by family",
            "",
            _triple(stack["independence_stratified"]),
        ),
        cells("observed / pooled prediction", "", _triple(stack["lift_pooled"], 2)),
        cells("observed / stratified prediction", "", _triple(stack["lift_stratified"], 2)),
    ]
    benign = data["benign_stack"]
    if benign.get("n"):
        stack_rows += [
            cells(
                "benign: any layer blocks (observed)",
                f"{benign['any_block']['k']}/{benign['any_block']['n']}",
                observed_text(benign["any_block"], confidence=confidence, with_count=False),
            ),
            cells(
                "benign: independence prediction, pooled",
                "",
                _triple(benign["independence_pooled"]),
            ),
        ]
    family_rows = [
        cells(
            r["family"],
            f"{r['all_miss_k']}/{r['n']}",
            rate_text(
                r["all_miss_k"],
                r["n"],
                estimate=r["observed"],
                lo=r["observed_lo"],
                hi=r["observed_hi"],
                confidence=confidence,
                upper_bound=r.get("upper_bound"),
                with_count=False,
            ),
            _interval(r["independence"], r["independence_lo"], r["independence_hi"]),
            _guarded(r, "lift"),
        )
        for r in data["stack_by_family"]
    ]
    pair_rows = [
        cells(
            f"{r['layer_a']} + {r['layer_b']}",
            f"{r['both_miss']}/{r['n']}",
            _guarded(r, "phi"),
            _guarded(r, "yule_q"),
            _guarded(r, "lift"),
            f"{_num(r['p_b_given_a'])} vs {_num(r['p_b'])}",
        )
        for r in data["pairs"]
    ]
    marginal_rows = [
        cells(
            r["layer"],
            _num(r["all_miss_with"]),
            _num(r["all_miss_without"]),
            _interval(r["rise"], r["rise_lo"], r["rise_hi"]),
            str(r["unique_blocks"]),
        )
        for r in data["marginal_value"]
    ]
    keys = data["master_keys"]
    key_rows = [
        cells(r["item_id"], r.get("family"), r.get("behavior_id"))
        for r in keys[:MAX_MASTER_KEYS_SHOWN]
    ]
    warning_rows = [
        cells(w.get("code"), w.get("subject"), w.get("message")) for w in data["warnings"]
    ]
    resistance_rows = [
        cells(
            r["family"],
            r["layer"] if r["scope"] == "layer" else "whole stack",
            f"{r['k_blocked']}/{r['n']}",
            rate_text(
                r["k_blocked"],
                r["n"],
                estimate=r["resistance"],
                lo=r["lo"],
                hi=r["hi"],
                confidence=confidence,
                lower_bound=r.get("lower_bound"),
                with_count=False,
            ),
        )
        for r in data["alignment_metrics"]["jailbreak_resistance"]["rows"]
    ]
    reading = _reading(data)
    blocks: list[Any] = [
        Paragraph(reading),
        Table(
            f"Per layer on {source['n_harmful']} harmful and {source['n_benign']} benign items "
            f"(k/n = rate [{level} Wilson]; zero failures as an upper bound)",
            ["layer", "miss rate (harmful)", "false-block rate (benign)", "refusal rate"],
            layer_rows,
            provenance,
        ),
        Table(
            "The stack against the independence prediction",
            ["quantity", "count", f"estimate [{level} interval]"],
            stack_rows,
            provenance,
        ),
        FigureBlock(
            "stress_k_of_n",
            "P(at least k layers miss) on harmful items, observed and under independence.",
            provenance,
            lambda: stress_figures.k_of_n_figure(stress),
        ),
        FigureBlock(
            "stress_phi",
            "Pairwise phi of misses on harmful items (0 = independent), with intervals.",
            provenance,
            lambda: stress_figures.phi_heatmap_figure(stress),
        ),
        Table(
            "Pairs of layers on harmful items",
            [
                "pair",
                "both miss",
                "phi",
                "Yule's Q",
                "lift",
                "P(B misses | A missed) vs P(B misses)",
            ],
            pair_rows,
            provenance,
        ),
        Table(
            "Stack by attack family (a mix of easy and hard families alone creates apparent "
            "correlation; within-family lifts remove that)",
            ["family", "all miss", "observed", "independence", "lift"],
            family_rows,
            provenance,
        ),
        FigureBlock(
            "stress_families",
            "Miss rate per layer and attack family: the measured matrix, in catalog shape.",
            provenance,
            lambda: stress_figures.family_miss_figure(stress),
        ),
        Table(
            "Each layer's marginal value: how much the all-miss rate rises without it",
            ["layer", "all-miss with", "all-miss without", "rise", "items only it blocks"],
            marginal_rows,
            provenance,
        ),
        Details(
            f"Master keys: {len(keys)} harmful item(s) that pass every layer",
            [
                Table(
                    f"Master keys (first {min(len(keys), MAX_MASTER_KEYS_SHOWN)} of {len(keys)})",
                    ["item", "family", "behavior"],
                    key_rows,
                    provenance,
                )
            ]
            if keys
            else [Paragraph("No item passed every layer.")],
        ),
        Details(
            "Jailbreak resistance per attack family",
            [
                Table(
                    "Share of harmful items blocked",
                    ["family", "layer", "blocked", "resistance"],
                    resistance_rows,
                    provenance,
                )
            ],
        ),
    ]
    if warning_rows:
        blocks.append(
            Table(
                "Warnings: where the estimates are fragile",
                ["code", "subject", "message"],
                [[Cell(r[0].text, css="fragile"), *r[1:]] for r in warning_rows],
                provenance,
            )
        )
    return [
        Section(
            "stress",
            "Stress test: do the layers fail on the same inputs?",
            f"Run {source.get('run_id')} ({source.get('source')}): {source['n_items']} items in "
            f"{len(source.get('families', []))} families, {source.get('n_clusters_harmful')} "
            f"harmful behavior clusters, layers {', '.join(source['layers'])}.",
            blocks,
        )
    ]
