"""Terminal rendering of a structural analysis (rich); numbers come from AnalysisResult only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ddrisk.analysis.analyze import AnalysisResult
from ddrisk.analysis.robustness import CONCLUSIONS
from ddrisk.report.escape import terminal_text as esc


def _pair_cell(result: AnalysisResult, a: str, b: str, policies: list[str]) -> str:
    values = [str(result.overlap.pair(a, b, policy).shared_count) for policy in policies]
    return values[0] if len(set(values)) == 1 else "/".join(values)


def print_analysis(result: AnalysisResult, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: use a width that fits every table
            console = Console(width=120)
    policies = list(result.groups.groups)
    settings = result.settings
    console.rule(f"[bold]ddrisk analyze[/] · {esc(result.catalog['label'])}")
    console.print(
        f"policy for '?' cells: [bold]{esc(settings['policy'])}[/]"
        + (
            " (values shown as pessimistic / optimistic where they differ)"
            if len(policies) > 1
            else ""
        )
    )

    console.print("\n[bold]Findings[/]")
    for number, finding in enumerate(result.findings, start=1):
        mark = "[green]holds[/]" if finding.holds else "[red]does not hold[/]"
        if not finding.holds and any(finding.holds_by_policy.values()):
            kept = [p for p, ok in finding.holds_by_policy.items() if ok]
            mark = f"[yellow]holds only {', '.join(kept)}[/]"
            if kept == ["optimistic"]:
                mark = "[yellow]holds on definite cells only[/]"
        console.print(f"{number}. [bold]{esc(finding.title)}[/] ({mark}): {esc(finding.statement)}")

    techniques = list(result.groups.techniques)
    table = Table(
        title="Failure modes shared by each pair of techniques"
        + (" (pessimistic/optimistic where they differ)" if len(policies) > 1 else "")
        + "; Jaccard and phi: --json"
    )
    table.add_column("")
    for t in techniques:
        table.add_column(esc(t), justify="center")
    for a in techniques:
        row = [esc(a)]
        for b in techniques:
            row.append("·" if a == b else _pair_cell(result, a, b, policies))
        table.add_row(*row)
    console.print(table)

    table = Table(title=f"Groups ({result.groups.method})")
    for column in ("policy", "kind", "members", "safety tax", "failure modes each", "shared modes"):
        table.add_column(column)
    for policy, groups in result.groups.groups.items():
        for g in groups:
            table.add_row(
                policy,
                g.kind,
                esc("+".join(g.members)),
                esc("/".join(g.safety_tax[m] for m in g.members)),
                "/".join(str(g.failure_counts[m]) for m in g.members),
                esc(", ".join(g.shared_modes) or "—"),
            )
    console.print(table)

    if result.coverage is not None:
        cov = result.coverage
        console.print(
            f"\n[bold]Stack {esc('+'.join(cov.stack))}[/]: straight-through failure modes"
        )
        for policy, modes in cov.straight_through.items():
            console.print(
                f"  {policy}: {esc(', '.join(modes)) if modes else 'none'} ({len(modes)})"
            )

    table = Table(
        title=f"Best stacks per size ({result.best_stacks.method}; ties broken by safety tax)"
    )
    for column in ("k", *policies):
        table.add_column(column)
    for k in range(1, result.best_stacks.k_max + 1):
        cells = []
        for policy in policies:
            ties = result.best_stacks.tied_best[policy][k]
            best = ties[0]
            more = f" (+{len(ties) - 1} tied)" if len(ties) > 1 else ""
            cells.append(
                esc(
                    f"{'+'.join(best.stack)}{more}: {len(best.straight_through)} "
                    f"[{', '.join(best.straight_through) or '—'}]"
                )
            )
        table.add_row(str(k), *cells)
    console.print(table)

    table = Table(title=f"Failure-mode priorities ({result.priorities.ranking})")
    for column in ("rank", "mode", "defeats", "spared", "straight-through share", "policy"):
        table.add_column(column)
    for policy, ranked in result.priorities.priorities.items():
        for m in ranked:
            table.add_row(
                str(m.rank),
                esc(m.mode),
                f"{len(m.defeats)}/{result.priorities.n_techniques}",
                esc(", ".join(m.spared) or "—"),
                f"{m.straight_through_share:.2f}",
                policy,
            )
    console.print(table)

    robust = result.robustness
    table = Table(title="Robustness: single-cell changes that alter each conclusion")
    table.add_column("conclusion")
    table.add_column("baseline")
    for policy in policies:
        table.add_column(f"changes ({policy})")
    table.add_column(f"holds across {robust.resolutions_checked} '?' resolutions")
    for conclusion in CONCLUSIONS:
        row = [conclusion, esc("; ".join(robust.baseline[policies[0]][conclusion]) or "—")]
        for policy in policies:
            changes = robust.changes(conclusion, policy)
            cells = sorted({f"{c.technique}×{c.mode}" for c in changes})
            shown = ", ".join(cells[:4]) + (f" …(+{len(cells) - 4})" if len(cells) > 4 else "")
            row.append(esc(f"{len(changes)}: {shown}") if changes else "0 (robust)")
        row.append(f"{robust.holds_share(conclusion, policies[0]):.0%}")
        table.add_row(*row)
    console.print(table)
    console.print(
        f"[dim]policy {settings['policy']} · group threshold {settings['group_threshold']} · "
        f"k_max {settings['k_max']} · seed {settings['seed']} · catalog {esc(result.catalog['label'])} · "
        "methods and every number: ddrisk analyze --json[/]"
    )
