"""Terminal rendering of stress results: ``ddrisk stress run`` and ``ddrisk stress analyze``.

The CLI builds a rich console and hands these functions the results' ``to_dict()`` form;
every piece of untrusted text (layer names, run ids, warnings) goes through
:func:`~ddrisk.report.escape.terminal_text`, and every number through
:mod:`ddrisk.report.number_format`, so the terminal reads like the Markdown and HTML reports.
"""

from __future__ import annotations

from typing import Any

from ddrisk.report.escape import terminal_text as esc
from ddrisk.report.number_format import (
    fixed,
    interval_text,
    observed_text,
    prefixed_rate_text,
    rate_text,
)

__all__ = ["render_analysis", "render_run", "render_run_summary"]


def _lift(value: dict[str, Any]) -> str:
    if value.get("estimable") is False:
        return "not estimable"
    return f"{fixed(value.get('estimate'), 2)}x"


def render_run(data: dict[str, Any], *, console: Any) -> None:
    """Print what a ``stress run`` did (:meth:`RunResult.to_dict` output): layers, counts, speed."""
    from rich.table import Table

    head = "resumed" if data["resumed"] else "run"
    console.print(
        f"{head} {esc(data['run_id'])}: {data['n_items']} items, {len(data['layers'])} layers, "
        f"{data['wall_s']:.1f} s"
    )
    table = Table(show_edge=False, pad_edge=False)
    for column in ("layer", "status", "computed", "cached", "errors", "items/s"):
        table.add_column(column, justify="left" if column in ("layer", "status") else "right")
    for layer in data["layers"]:
        rate = layer["items_per_s"]
        table.add_row(
            esc(layer["name"]),
            esc(layer["status"]),
            str(layer["n_computed"]),
            str(layer["n_cached"] + layer["n_already_stored"]),
            str(layer["n_errors"]),
            "-" if rate is None else f"{rate:.0f}",
        )
    console.print(table)
    for name, reason in data["unavailable_layers"].items():
        console.print(f"[bold]unavailable[/bold] {esc(name)}: {esc(reason)}")


def render_run_summary(summary: dict[str, Any], *, console: Any) -> None:
    """Print the short statistics a ``stress run`` ends with: per layer, the stack, warnings."""
    from rich.table import Table

    if summary["kind"] == "none":
        console.print(f"no summary: {esc(summary['reason'])}")
        return
    table = Table(
        show_edge=False, pad_edge=False, title="per layer (harmful: miss; benign: false block)"
    )
    table.add_column("layer")
    table.add_column("miss on harmful", justify="right")
    table.add_column("false block on benign", justify="right")
    for row in summary["layers"]:
        table.add_row(
            esc(row["layer"]),
            prefixed_rate_text(row, "miss"),
            prefixed_rate_text(row, "false_block"),
        )
    console.print(table)
    stack = summary["stack"]
    all_miss = stack["all_miss"]
    pooled, strat = stack["independence_pooled"], stack["independence_stratified"]
    observed = observed_text(all_miss)
    console.print(
        f"all layers miss: {observed}; independence predicts {fixed(pooled['estimate'])} pooled "
        f"[{fixed(pooled['lo'])}, {fixed(pooled['hi'])}], {fixed(strat['estimate'])} stratified by "
        f"family [{fixed(strat['lo'])}, {fixed(strat['hi'])}]"
    )
    console.print(
        f"lift (observed / independence): {_lift(stack['lift_pooled'])} pooled, "
        f"{_lift(stack['lift_stratified'])} stratified"
    )
    benign = summary["benign_stack"]
    any_block = benign["any_block"]
    console.print(
        f"benign blocked by any layer: {observed_text(any_block, with_count=True)}; independence "
        f"predicts {fixed(benign['independence_pooled']['estimate'])}"
    )
    console.print(f"master keys (harmful items every layer passes): {len(summary['master_keys'])}")
    redundant = stack.get("redundant_layers") or []
    console.print(
        "layers that block no harmful item the others all miss: "
        + (", ".join(esc(name) for name in redundant) if redundant else "none")
    )
    calibration = summary.get("calibration")
    if calibration:
        percent = f"{calibration['target_false_block_rate'] * 100:g} %"
        split = calibration["split"]
        console.print(
            f"operating points: scored layers block at most {percent} of {split['n_items']} "
            f"benign calibration prompts (split sha256 {split['sha256'][:12]})"
        )
        for entry in calibration["layers"]:
            native = entry.get("native_false_block_rate")
            native_text = "-" if native is None else f"{native:.3f}"
            if entry["status"] == "calibrated":
                console.print(
                    f"  {esc(entry['layer'])}: blocks score > {entry['threshold']:.4g} (own rule "
                    f"blocked {native_text} of the split, now "
                    f"{entry['calibrated_false_block_rate']:.3f})"
                )
            else:
                console.print(
                    f"  {esc(entry['layer'])}: own threshold ({esc(entry['reason'] or '')}; "
                    f"blocks {native_text} of the split)"
                )
    else:
        console.print("operating points: each layer's own threshold (no calibration)")
    for warning in summary.get("warnings", [])[:5]:
        console.print(
            f"warning ({esc(warning.get('subject', '-'))}): {esc(warning.get('message', warning))}"
        )
    extra = len(summary.get("warnings", [])) - 5
    if extra > 0:
        console.print(f"(+{extra} more warnings: ddrisk stress analyze RUN)")


def _ci(row: dict[str, Any], name: str, digits: int = 2) -> str:
    if row.get(name + "_estimable") is False:
        return "not estimable"
    return interval_text(row.get(name), row.get(name + "_lo"), row.get(name + "_hi"), digits)


def _triple(value: dict[str, Any], digits: int = 3) -> str:
    if value.get("estimable") is False:
        return "not estimable"
    return interval_text(value.get("estimate"), value.get("lo"), value.get("hi"), digits)


def _family_observed(row: dict[str, Any], confidence: float) -> str:
    return rate_text(
        row["all_miss_k"],
        row["n"],
        estimate=row["observed"],
        lo=row["observed_lo"],
        hi=row["observed_hi"],
        confidence=confidence,
        upper_bound=row.get("upper_bound"),
    )


def render_analysis(data: dict[str, Any], *, console: Any, max_master_keys: int = 5) -> None:
    """Print the rich summary of :meth:`StressAnalysis.to_dict` output."""
    from rich.table import Table

    params, source = data["parameters"], data["input"]
    level = f"{params['confidence'] * 100:g} %"
    confidence = params["confidence"]
    console.print(
        f"[bold]stress analysis[/bold] of {esc(source['run_id'])} ({esc(source['source'])}): "
        f"{source['n_items']} items ({source['n_harmful']} harmful, {source['n_benign']} benign), "
        f"{len(source['layers'])} layers, {source['n_clusters_harmful']} clusters of harmful "
        f"items (shared behavior or template); "
        f"{level} intervals, {params['n_bootstrap']} cluster-bootstrap replicates, "
        f"seed {params['seed']}"
    )
    console.print(
        f"input sha256 {esc(source['input_sha256'][:16])}; errors are excluded from every rate"
    )
    for name, reason in source.get("unavailable_layers", {}).items():
        console.print(
            f"[bold]unavailable[/bold] layer {esc(name)}: {esc(reason)} (not in these statistics)"
        )

    table = Table(
        title="per layer (cluster-aware Wilson intervals; k = 0 shown as a one-sided bound)",
        show_edge=False,
    )
    for column in ("layer", "miss on harmful", "false block on benign", "no verdict"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in data["layers"]:
        table.add_row(
            esc(row["layer"]),
            prefixed_rate_text(row, "miss", confidence=confidence),
            prefixed_rate_text(row, "false_block", confidence=confidence),
            str(row["miss_errors"] + row["false_block_errors"]),
        )
    console.print(table)

    if data["pairs"]:
        table = Table(title="pairs on harmful items (cluster-bootstrap intervals)", show_edge=False)
        for column in (
            "A",
            "B",
            "n",
            "both miss",
            "phi",
            "Yule's Q",
            "lift",
            "lift within families",
            "P(B|A) vs P(B)",
        ):
            table.add_column(column, justify="left" if column in ("A", "B") else "right")
        for row in data["pairs"]:
            table.add_row(
                esc(row["layer_a"]),
                esc(row["layer_b"]),
                str(row["n"]),
                str(row["both_miss"]),
                _ci(row, "phi"),
                _ci(row, "yule_q"),
                _ci(row, "lift"),
                _ci(row, "lift_stratified"),
                f"{fixed(row['p_b_given_a'], 2)} vs {fixed(row['p_b'], 2)}",
            )
        console.print(table)

    stack = data["stack"]
    all_miss = stack["all_miss"]
    table = Table(title="the stack: every layer misses (harmful items)", show_edge=False)
    for column in ("", "all-miss rate", "lift (observed / predicted)"):
        table.add_column(column, justify="left" if not column else "right")
    observed = observed_text(all_miss, confidence=confidence)
    table.add_row("observed", observed, "")
    table.add_row(
        "independence, pooled",
        _triple(stack["independence_pooled"]),
        _triple(stack["lift_pooled"], 2),
    )
    table.add_row(
        "independence, stratified by family",
        _triple(stack["independence_stratified"]),
        _triple(stack["lift_stratified"], 2),
    )
    console.print(table)
    if stack["excluded_for_errors"]:
        console.print(
            f"({stack['excluded_for_errors']} harmful items without every verdict left out)"
        )

    if data["stack_by_family"]:
        table = Table(
            title="per family: all-miss observed vs independence within the family", show_edge=False
        )
        for column in ("family", "n", "observed", "independence", "lift"):
            table.add_column(column, justify="left" if column == "family" else "right")
        for row in data["stack_by_family"]:
            table.add_row(
                esc(row["family"]),
                str(row["n"]),
                _family_observed(row, confidence),
                fixed(row["independence"]),
                _ci(row, "lift"),
            )
        console.print(table)

    table = Table(title="k of n: P(at least k layers miss)", show_edge=False)
    for column in ("k", "observed", "independence pooled", "independence stratified"):
        table.add_column(column, justify="right")
    for row in data["k_of_n"]:
        table.add_row(
            str(row["k"]),
            _ci(row, "observed", 3),
            fixed(row["independence_pooled"]),
            fixed(row["independence_stratified"]),
        )
    console.print(table)

    benign = data["benign_stack"]
    any_block = benign["any_block"]
    if any_block["n"]:
        console.print(
            f"benign blocked by any layer: {observed_text(any_block, confidence=confidence)}; "
            "independence 1 - prod(1 - fpr) predicts "
            f"{_triple(benign['independence_pooled'])} pooled, "
            f"{_triple(benign['independence_stratified'])} stratified"
        )
    else:
        console.print("benign blocked by any layer: no benign items with every verdict")

    keys = data["master_keys"]
    console.print(f"[bold]master keys[/bold] (harmful items that pass every layer): {len(keys)}")
    for row in keys[:max_master_keys]:
        console.print(
            f"  {esc(row['item_id'])}  family={esc(row['family'])}  "
            f"behavior={esc(row['behavior_id'])}"
        )
    if len(keys) > max_master_keys:
        console.print(f"  ... {len(keys) - max_master_keys} more (--json lists them all)")

    table = Table(title="marginal value: all-miss rate without the layer", show_edge=False)
    for column in ("layer", "without", "rise", "items only it blocks"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in data["marginal_value"]:
        table.add_row(
            esc(row["layer"]),
            fixed(row["all_miss_without"]),
            _ci(row, "rise", 3),
            str(row["unique_blocks"]),
        )
    console.print(table)

    resistance = data["alignment_metrics"]["jailbreak_resistance"]["rows"]
    if resistance:
        families = sorted({r["family"] for r in resistance})
        layers = [row["layer"] for row in data["layers"]]
        table = Table(
            title="jailbreak resistance per family (share of harmful items blocked)",
            show_edge=False,
        )
        table.add_column("family")
        for layer in [*layers, "stack"]:
            table.add_column(esc(layer), justify="right")
        cells = {
            (r["family"], r["layer"] if r["scope"] == "layer" else "stack"): r for r in resistance
        }
        for fam in families:
            values = []
            for layer in [*layers, "stack"]:
                cell = cells.get((fam, layer))
                values.append(
                    rate_text(
                        cell["k_blocked"],
                        cell["n"],
                        estimate=cell["resistance"],
                        lo=cell.get("lo"),
                        hi=cell.get("hi"),
                        confidence=confidence,
                        lower_bound=cell.get("lower_bound"),
                        digits=2,
                    )
                    if cell and cell["n"]
                    else "-"
                )
            table.add_row(esc(fam), *values)
        console.print(table)

    for warning in data["warnings"]:
        console.print(
            f"[yellow]warning[/yellow] {esc(warning['subject'])}: {esc(warning['message'])}"
        )
