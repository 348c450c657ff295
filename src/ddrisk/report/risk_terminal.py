"""Terminal rendering (rich) of the risk commands: one stack, the paper's example, optimize, MEF trees.

The CLI computes nothing here and renders nothing itself: it calls
:func:`~ddrisk.risk.assessment.assess_stack`, :func:`~ddrisk.risk.optimize.optimize_stack`,
:func:`~ddrisk.risk.dependence.paper_example` or :func:`~ddrisk.risk.faulttree.quantify_fault_tree`
and hands the result objects to the printers below. Catalog names, notes and fault-tree
names are untrusted text and pass through :func:`ddrisk.report.escape.terminal_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from ddrisk.report.escape import terminal_text as escape
from ddrisk.risk.dependence import MEANINGS
from ddrisk.risk.effective import EFFECTIVE_LAYERS_DEFINITION
from ddrisk.risk.log_numbers import probability_text
from ddrisk.risk.parameters import BUILTIN
from ddrisk.risk.structure import describe

if TYPE_CHECKING:
    from ddrisk.risk.assessment import StackRisk
    from ddrisk.risk.dependence import DependenceCurve, PaperExample
    from ddrisk.risk.faulttree import FaultTree, FaultTreeResult
    from ddrisk.risk.optimize import OptimizationResult


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"  # also for -0.0
    return f"{value:.{digits}g}"


def risk_console() -> Console:
    """The console the risk commands print on: at least 110 columns so the tables stay whole."""
    return Console(width=max(Console().width, 110), highlight=False)


def render_stack_risk(risk: StackRisk, console: Console, *, full: bool = False) -> None:
    """Print one assessed stack: parameters, headline, layers, dependence, importance, evidence."""
    resolved = risk.resolved
    console.print(f"[bold]ddrisk risk[/] — model: {escape(resolved.model.name)}")
    console.print(
        f"catalog {escape(resolved.catalog_label)} · stack {', '.join(resolved.layers)} · "
        f"engine {risk.engine} · seed {risk.seed} · parameters sha256:{resolved.parameters_hash[:12]}"
    )
    _parameters(risk, console, full=full)
    _result(risk, console)
    _layers(risk, console)
    _dependence(risk, console)
    _importance(risk, console)
    _evidence(risk, console)
    _uncertainty(risk, console)
    console.print("[dim]all numbers and parameters: add --json[/]")


def _parameters(risk: StackRisk, console: Console, *, full: bool) -> None:
    resolved = risk.resolved
    table = Table(
        title="Parameters used (point model = mean of each distribution)", title_justify="left"
    )
    for column in ("parameter", "spec", "mean", "source", "used by"):
        table.add_column(column)
    used: dict[int, int] = {}
    for index in [
        *resolved.q_index.tolist(),
        *resolved.p_index.ravel().tolist(),
        *resolved.r_index.tolist(),
    ]:
        used[index] = used.get(index, 0) + 1
    for k, (name, dist, setting) in enumerate(
        zip(resolved.parameter_names, resolved.distributions, resolved.settings, strict=True)
    ):
        where = (
            setting.source if setting.source == BUILTIN else f"{setting.source} ({setting.where})"
        )
        table.add_row(
            escape(name),
            escape(dist.spec),
            _fmt(dist.mean),
            escape(where),
            f"{used.get(k, 0)} {'entry' if used.get(k, 0) == 1 else 'entries'}",
        )
    console.print(table)
    if full:
        cells = Table(title="p[layer, mode] (level)", title_justify="left")
        cells.add_column("layer")
        for mode in resolved.modes:
            cells.add_column(escape(mode), justify="right")
        for i, layer in enumerate(resolved.layers):
            cells.add_row(
                layer,
                *[
                    f"{resolved.model.p[i, j]:.3g} ({resolved.levels[i][j][:1]})"
                    for j in range(len(resolved.modes))
                ],
            )
        console.print(cells)
    for note in resolved.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def _result(risk: StackRisk, console: Console) -> None:
    result = risk.result
    if result.model.structure is not None:
        console.print(f"structure: {escape(result.model.structure_name)}")
    line = f"[bold]P(stack fails) = {probability_text(result.log_probability)}[/]"
    if result.interval is not None:
        low, high = result.interval
        line += f"  (95 % interval {_fmt(low)} to {_fmt(high)}, s.e. {_fmt(result.standard_error)})"
    console.print(line + f"   [dim]engine: {result.engine} ({escape(result.method)})[/]")
    if result.note:
        console.print(f"[yellow]note:[/] {escape(result.note)}")
    n = len(risk.resolved.layers)
    effective = "undefined" if result.effective_layers is None else _fmt(result.effective_layers, 3)
    console.print(
        f"independence prediction = {probability_text(result.log_independence_prediction)} · "
        f"correlation penalty = {probability_text(result.log_correlation_penalty)}x · "
        f"effective independent layers = {effective} of {n}"
    )
    console.print(f"[dim]{escape(EFFECTIVE_LAYERS_DEFINITION)}[/]")
    parts = " · ".join(f"{part}: {how}" for part, how in risk.engines.items())
    if parts:
        console.print(f"[dim]engines: {escape(parts)}[/]")
    for note in risk.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def _layers(risk: StackRisk, console: Console) -> None:
    table = Table(title="Layers", title_justify="left")
    for column in (
        "layer",
        "P(fail)",
        "residual r",
        "prone to",
        "P without it",
        "x worse without",
    ):
        table.add_column(column, justify="left" if column in {"layer", "prone to"} else "right")
    for i, layer in enumerate(risk.resolved.layers):
        prone = [
            m for j, m in enumerate(risk.resolved.modes) if risk.resolved.levels[i][j] == "prone"
        ]
        value = None if risk.values is None else risk.values[i]  # None: not requested
        table.add_row(
            layer,
            _fmt(float(risk.marginals[i])),
            _fmt(float(risk.resolved.model.r[i])),
            escape(", ".join(prone) or "-"),
            "-" if value is None else _fmt(value.probability_without),
            "-" if value is None else _fmt(value.ratio, 3),
        )
    console.print(table)


def _dependence(risk: StackRisk, console: Console) -> None:
    if risk.dependence is None:  # not requested
        return
    table = Table(title="Dependence models on the same marginals", title_justify="left")
    for column in ("model", "parameter", "P(all fail)", "x independence", "effective layers"):
        table.add_column(column, justify="left" if column in {"model", "parameter"} else "right")
    for row in risk.dependence.rows:
        parameter = "-" if row.parameter is None else row.parameter
        if row.value is not None:
            parameter = f"{row.parameter} = {row.value:g}"
        table.add_row(
            row.model,
            parameter,
            probability_text(row.log_probability)
            if row.probability == 0.0
            else _fmt(row.probability),
            probability_text(row.log_ratio_to_independence, 3)
            if row.probability == 0.0 or not math.isfinite(row.ratio_to_independence)
            else _fmt(row.ratio_to_independence, 3),
            _fmt(row.effective_layers, 3),
        )
    console.print(table)
    for row in risk.dependence.rows:
        console.print(f"  [bold]{row.model}[/]: {escape(MEANINGS[row.model])}")
    implied = risk.dependence
    console.print(
        f"the failure-mode result equals beta-factor beta = {_fmt(implied.implied_beta, 3)} "
        f"or Gaussian copula rho = {_fmt(implied.implied_rho, 3)} on these marginals"
    )


def _importance(risk: StackRisk, console: Console) -> None:
    if risk.importance is None:
        console.print(
            f"[yellow]importance measures skipped:[/] {escape(risk.importance_note or '')}"
        )
        return
    measures = (
        ("fussell_vesely", "Fussell-Vesely"),
        ("risk_achievement_worth", "RAW"),
        ("risk_reduction_worth", "RRW"),
        ("birnbaum", "Birnbaum"),
    )
    priorities = risk.importance.research_priorities()
    table = Table(
        title="Failure modes: research priority (ranked by Fussell-Vesely, ties by RAW)",
        title_justify="left",
    )
    for column in ("rank", "mode", "q", *(label for _, label in measures)):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for _, row in priorities.iterrows():
        table.add_row(
            str(row["rank"]),
            escape(str(row["mode"])),
            _fmt(row["q"]),
            *[_fmt(float(row[key])) for key, _ in measures],
        )
    console.print(table)
    layers = risk.importance.to_frame("layers")
    table = Table(
        title="Layers: importance of each layer's own (residual) failure", title_justify="left"
    )
    for column in ("layer", "r", *(label for _, label in measures)):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for _, row in layers.iterrows():
        table.add_row(
            escape(str(row["layer"])),
            _fmt(row["r"]),
            *[_fmt(float(row[key])) for key, _ in measures],
        )
    console.print(table)


def _evidence(risk: StackRisk, console: Console) -> None:
    if risk.evidence is None:
        return
    table = Table(
        title=f"Stress-test evidence ({escape(risk.evidence['counts'].source)})",
        title_justify="left",
    )
    for column in ("value", "prior", "failures / n", "posterior", "posterior mean"):
        table.add_column(column)
    for update in risk.evidence["updates"]:
        table.add_row(
            escape(update.target),
            escape(f"{update.prior.spec} ({update.prior_basis})"),
            f"{update.failures} / {update.n}",
            update.posterior.spec,
            _fmt(update.posterior.mean),
        )
    console.print(table)
    joint = risk.evidence["joint"]
    if joint is not None:
        console.print(
            f"joint counts: {joint['failures']} of {joint['n']} items missed by every layer -> "
            f"posterior {joint['posterior']} (mean {_fmt(joint['posterior_mean'])}); the model's "
            f"P(stack fails) sits at its {100 * joint['model_quantile']:.1f} % point"
        )


def _uncertainty(risk: StackRisk, console: Console) -> None:
    result = risk.uncertainty
    if result is None:
        return
    table = Table(
        title=f"Uncertainty: {result.n_draws} Monte Carlo draws, seed {result.seed}",
        title_justify="left",
    )
    for column in ("output", "mean", "5 %", "50 %", "95 %"):
        table.add_column(column, justify="left" if column == "output" else "right")
    for name, summary in result.summary().items():
        table.add_row(name, *[_fmt(summary[k]) for k in ("mean", "p05", "p50", "p95")])
    console.print(table)
    if result.tornado:
        tornado = Table(
            title="Tornado: P(stack fails) with one input at its 5th / 95th percentile, others at "
            "their means; spearman = rank correlation over the draws",
            title_justify="left",
        )
        for column in ("input", "spec", "P at 5 %", "P at 95 %", "swing", "spearman"):
            tornado.add_column(column, justify="left" if column in {"input", "spec"} else "right")
        for row in result.tornado:
            tornado.add_row(
                escape(row.parameter),
                escape(row.spec),
                _fmt(row.probability_at_low),
                _fmt(row.probability_at_high),
                _fmt(row.swing),
                f"{row.spearman:+.2f}",
            )
        console.print(tornado)
    elif result.n_draws:
        console.print("no parameter is uncertain: give a distribution (e.g. --q 'beta(2,18)')")


def render_paper_example(example: PaperExample, curve: DependenceCurve, console: Console) -> None:
    """The paper's n x m arithmetic, then P(all fail) against the number of layers for every model."""
    console.print(
        f"[bold]{example.n_layers} layers, each failing with probability {example.marginal:g}[/]\n"
        f"  independent:          P(all fail) = {example.marginal:g}^{example.n_layers} = "
        f"{example.independent:.6g}\n"
        f"  perfectly correlated: P(all fail) = min marginal = {example.perfectly_correlated:.6g}"
    )
    table = Table(title=escape(curve.title), title_justify="left")
    table.add_column("n", justify="right")
    for name in curve.series:
        header = name + (f" (beta={curve.beta:g})" if name == "beta-factor" else "")
        header += f" (rho={curve.rho:g})" if name == "Gaussian copula" else ""
        table.add_column(header, justify="right")
    for index, n in enumerate(curve.n_layers):
        table.add_row(
            str(int(n)), *[_fmt(float(values[index])) for values in curve.series.values()]
        )
    console.print(table)
    for name in curve.series:
        console.print(f"  [bold]{name}[/]: {escape(MEANINGS[name])}")


def render_optimization(results: Sequence[OptimizationResult], console: Console) -> None:
    """Best stacks (one row per constraint) and the marginal value of each layer of the last one."""
    first = results[0]
    console.print(f"[bold]ddrisk optimize[/] — model: {escape(first.model)}")
    console.print(
        f"catalog {escape(first.catalog)} · parameters sha256:{first.parameters_sha256[:12]}"
    )
    console.print(f"method: {escape(first.method)}")
    console.print(
        "parameters: "
        + ", ".join(f"{name} {escape(info['spec'])}" for name, info in first.parameters.items())
        + " (sources: --json)"
    )
    console.print("costs: " + ", ".join(f"{k} {v:g}" for k, v in first.costs.items()))
    console.print(f"ties: {escape(first.tie_break)}")
    if first.structure is not None:
        _render_structure_choice(first, console)
    table = Table(title="Best stacks", title_justify="left")
    for column in ("constraint", "best stack", "P(stack fails)", "cost", "stacks evaluated"):
        table.add_column(
            column,
            justify="right" if column in {"P(stack fails)", "cost", "stacks evaluated"} else "left",
        )
    for result in results:
        constraint = ", ".join(
            f"budget <= {v:g}" if k == "budget" else f"layers <= {int(v)}"
            for k, v in result.constraint.items()
        )
        chosen = result.structure.chosen if result.structure is not None else None
        table.add_row(
            constraint,
            escape(describe(chosen))
            if chosen is not None
            else ", ".join(result.stack) or "(none affordable)",
            _fmt(result.probability),
            f"{result.cost:g}",
            str(result.evaluated),
        )
    console.print(table)
    for result in results:
        _render_ties(result, console)
    best = results[-1] if len(results) > 1 else results[0]
    if best.marginal_values:
        values = Table(
            title=f"Marginal value of each layer in {', '.join(best.stack)}", title_justify="left"
        )
        for column in ("layer", "P without it", "P with it", "difference", "ratio"):
            values.add_column(column, justify="left" if column == "layer" else "right")
        for value in best.marginal_values:
            values.add_row(
                value.layer,
                _fmt(value.probability_without),
                _fmt(value.probability_with),
                _fmt(value.difference),
                _fmt(value.ratio, 3),
            )
        console.print(values)


def _render_structure_choice(result: OptimizationResult, console: Console) -> None:
    """The structure searched in and where candidates the structure does not place join."""
    choice = result.structure
    assert choice is not None
    console.print(f"structure: {escape(describe(choice.given))}")
    if choice.position == "best":
        where = ", ".join(escape(p.path) for p in choice.positions)
        console.print(f"other candidates join: the best of {where} (each candidate its own)")
    else:
        [position] = choice.positions
        console.print(f"other candidates join: {escape(position.path)} = {escape(position.text)}")
    if choice.kept:
        console.print("kept (not candidates): " + escape(", ".join(choice.kept)))


def _render_ties(result: OptimizationResult, console: Console) -> None:
    """Stacks with the same P as the best, and the rule that put the best first."""
    if not result.ties:
        return
    label = ", ".join(
        f"budget <= {v:g}" if k == "budget" else f"layers <= {int(v)}"
        for k, v in result.constraint.items()
    )
    for tie in result.ties:
        where = "".join(f" ({layer} joins {path})" for layer, path in tie.placements.items())
        console.print(
            f"tie ({escape(label or 'best')}): {escape(', '.join(tie.stack))}{escape(where)} has the "
            f"same P, cost {tie.cost:g}; the best won by {tie.decided_by}"
        )
    if result.n_tied > len(result.ties):
        console.print(f"  ... and {result.n_tied - len(result.ties)} more tied stacks (--json)")


def render_fault_tree(
    tree: FaultTree, result: FaultTreeResult, console: Console, *, input_sha256: str
) -> None:
    """An MEF fault tree's exact P(top), its BDD size and the 15 most important basic events."""
    console.print(
        f"[bold]fault tree {escape(tree.name)}[/] · top {escape(tree.top)} · "
        f"{result.n_basic_events} basic events · {result.n_gates} gates · "
        f"{'coherent' if result.coherent else 'non-coherent (exact: negation on the BDD)'}"
    )
    console.print(
        f"[bold]P(top) = {probability_text(result.log_probability, 6)}[/]   [dim]exact, BDD "
        f"{result.bdd_nodes:,} nodes, ordering {result.ordering}, "
        f"{result.elapsed_seconds * 1000:.1f} ms · inputs sha256:{input_sha256[:12]}[/]"
    )
    frame = result.importance
    if frame is not None and not frame.empty:
        table = Table(title="Basic events by Fussell-Vesely (top 15)", title_justify="left")
        for column in ("event", "p", "Birnbaum", "Fussell-Vesely", "RAW", "RRW"):
            table.add_column(column, justify="left" if column == "event" else "right")
        for row in frame.head(15).to_dict(orient="records"):
            table.add_row(
                escape(str(row["event"])),
                f"{row['probability']:.4g}",
                f"{row['birnbaum']:.4g}",
                f"{row['fussell_vesely']:.4g}",
                f"{row['risk_achievement_worth']:.4g}",
                f"{row['risk_reduction_worth']:.4g}",
            )
        console.print(table)
