"""Terminal rendering (rich) of rater agreement, pooling and surviving conclusions.

Rater ids, names and rationales are untrusted text: every one passes through
:func:`ddrisk.report.escape.terminal_text` before it reaches the console.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ddrisk.raters.agreement import AgreementResult
from ddrisk.raters.model import RaterCoverage
from ddrisk.raters.pooling import PooledCell, PoolingComparison, cell_text
from ddrisk.raters.spread import DisagreementRisk
from ddrisk.raters.survival import SurvivalResult
from ddrisk.report.escape import terminal_text as esc


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    console = Console()
    return console if console.is_terminal else Console(width=120)


def print_coverage(rows: list[RaterCoverage], console: Console | None = None) -> None:
    console = _console(console)
    for row in rows:
        shown = [f"{t}:{m}" for t, m in row.blank_cells[:8]]
        if len(row.blank_cells) > 8:
            shown.append(f"and {len(row.blank_cells) - 8} more")
        blank = ", ".join(shown)
        console.print(
            f"ok {esc(row.source)}: rater {esc(row.rater)} rates {row.rated} of {row.cells} cells"
            + (f" (blank: {esc(blank)})" if blank else "")
        )


def print_agreement(result: AgreementResult, console: Console | None = None) -> None:
    console = _console(console)
    console.rule(f"[bold]ddrisk raters agree[/] · {esc(result.catalog['label'])}")
    level = f"{result.confidence:.0%}"
    console.print(
        f"{len(result.raters)} raters: {esc(', '.join(result.raters))} · bootstrap over cells, "
        f"{result.n_boot} resamples, seed {result.seed}, {level} percentile intervals · "
        f"input sha256:{result.input_sha256[:12]}"
    )
    table = Table(title="Agreement over the whole matrix")
    for column in ("statistic", "value [interval]", "cells used", "note"):
        table.add_column(column)
    for name, estimate in (
        ("Krippendorff's alpha, ordinal (levels)", result.alpha_ordinal),
        ("Krippendorff's alpha, interval (stated probabilities)", result.alpha_interval),
        ("Fleiss' kappa (levels; cells every rater rated)", result.fleiss_kappa),
        ("mean per-cell disagreement (share of rater pairs)", result.mean_cell_disagreement),
    ):
        value = estimate.text() if estimate.value is not None else "not estimable"
        table.add_row(name, value, str(estimate.n_units), esc(estimate.note))
    console.print(table)
    pairs = Table(
        title="Pairwise agreement: share of co-rated cells with the same level [interval]"
    )
    pairs.add_column("")
    for rater in result.raters:
        pairs.add_column(esc(rater), justify="center")
    lookup = {}
    for pair in result.pairs:
        lookup[(pair.rater_a, pair.rater_b)] = lookup[(pair.rater_b, pair.rater_a)] = pair
    for a in result.raters:
        row = [esc(a)]
        for b in result.raters:
            row.append("·" if a == b else lookup[(a, b)].share_identical.text())
        pairs.add_row(*row)
    console.print(pairs)
    exact = [p for p in result.pairs if p.share_identical.exact]
    if exact:
        names = ", ".join(f"{esc(p.rater_a)} / {esc(p.rater_b)}" for p in exact)
        console.print(f"No interval for {names}: the two agree on every co-rated cell.")
    split = result.split_cells()
    cells = Table(
        title=f"Cells that split the raters ({len(split)} of {len(result.cells)}), "
        "most disagreement first; interval: bootstrap over the cell's raters"
    )
    for column in ("cell", "how", "disagreement", *result.raters):
        cells.add_column(esc(column))
    for cell in split:
        cells.add_row(
            esc(f"{cell.technique} x {cell.failure_mode}"),
            esc(cell.how),
            cell.disagreement.text(),
            *[esc(cell.levels[r] or "blank") for r in result.raters],
        )
    console.print(cells)


def print_pooling(comparison: PoolingComparison, console: Console | None = None) -> None:
    console = _console(console)
    first = comparison.pools[0]
    console.rule(f"[bold]ddrisk raters pool[/] · raters {esc(', '.join(first.raters))}")
    extremize = comparison.pools[0].extremize
    table = Table(
        title="Pooled cells by rule (cells where the raters or the rules differ)"
        + (f"; geometric_odds extremised by {extremize:g}" if extremize != 1 else "")
    )
    table.add_column("cell")
    for pool in comparison.pools:
        table.add_column(esc(pool.rule))
    shown = 0
    for index, cell in enumerate(first.cells):
        texts = [cell_text(pool.cells[index]) for pool in comparison.pools]
        pooled = [pool.cells[index] for pool in comparison.pools]
        inputs = {text.split(",")[0] for text in cell.inputs.values()}
        if len({_derived(c) for c in pooled}) <= 1 and len(inputs) <= 1:
            continue
        shown += 1
        table.add_row(esc(f"{cell.technique} x {cell.failure_mode}"), *[esc(t) for t in texts])
    console.print(table)
    for pool in comparison.pools:
        ties = ", ".join(f"{c.technique}:{c.failure_mode}" for c in pool.ties)
        console.print(
            f"{esc(pool.rule)}: catalog {esc(pool.catalog.label)}"
            + (f"; ties reported (pooled as unclear): {esc(ties)}" if ties else "")
        )
    console.print(f"{shown} of {len(first.cells)} cells split the raters or the rules.")


def _derived(cell: PooledCell) -> str:
    if cell.probability is not None:
        return "prone" if cell.probability >= 0.5 else "not_prone"
    return cell.level.value if cell.level is not None else "unclear"


def print_survival(result: SurvivalResult, console: Console | None = None) -> None:
    console = _console(console)
    console.rule(f"[bold]ddrisk raters compare[/] · {esc(result.catalog['label'])}")
    console.print(
        f"reference: pooled by {esc(result.reference_rule)} · stack {esc('+'.join(result.stack))} · "
        f"P(stack fails) holds within a factor {result.factor:g} · input sha256:"
        f"{result.input_sha256[:12]}"
    )
    table = Table(
        title="Conclusions that survive disagreement (✓ same as the reference; ✗ differs for ...)"
    )
    for column in ("conclusion", "reference", "every rater", "every rule", "one rater left out"):
        table.add_column(column)
    for row in result.rows:
        cells = []
        for kind in ("rater", "pool"):
            failing = row.failing(kind, result.views)
            cells.append("✓" if not failing else "✗ " + ", ".join(failing))
        loo = [v for v in result.views if v.kind == "leave-one-out"]
        failing = row.failing("leave-one-out", result.views)
        if not loo:
            cells.append("— (needs 3+ raters)")
        elif not failing:
            cells.append("✓")
        elif len(failing) == len(loo):
            cells.append("✗ without any one (no single driver)")
        else:
            cells.append("✗ without " + ", ".join(failing) + " (drivers)")
        table.add_row(esc(row.label), esc(row.reference), *[esc(c) for c in cells])
    console.print(table)


def print_spread(result: DisagreementRisk, console: Console | None = None) -> None:
    console = _console(console)
    low, high = result.interval
    u = result.uncertainty
    console.print(
        f"P({esc('+'.join(result.stack))} fails) with rater disagreement as uncertainty: "
        f"median {u.summary()['probability']['p50']:.4g}, 90% interval [{low:.4g}, {high:.4g}] "
        f"({u.n_draws} draws, seed {u.seed}, exact engine; parameters sha256:"
        f"{u.parameters_sha256[:12]})"
    )
    console.print(
        "each rater's own matrix: "
        + ", ".join(f"{esc(r)} {p:.4g}" for r, p in result.by_rater.items())
    )
    console.print("pooled: " + ", ".join(f"{esc(r)} {p:.4g}" for r, p in result.by_rule.items()))
