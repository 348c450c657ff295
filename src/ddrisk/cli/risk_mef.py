"""``ddrisk risk --mef FILE...``: exact top-event probability of an Open-PSA MEF fault tree."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from ddrisk.cli._common import echo_json
from ddrisk.report.escape import terminal_text as escape

FAULT_TREE_SCHEMA = "ddrisk.faulttree/1"


def quantify_mef_command(files: Sequence[str], *, as_json: bool) -> None:
    """Read the files as one fault tree, quantify it on a BDD, print or emit JSON."""
    from ddrisk.__version__ import __version__
    from ddrisk._hashing import files_sha256
    from ddrisk.io.documents import check_usable_path
    from ddrisk.io.mef_fault_tree import read_mef_fault_tree
    from ddrisk.risk.faulttree import quantify_fault_tree
    from ddrisk.risk.log_numbers import probability_text

    paths = [check_usable_path(f) for f in files]
    tree = read_mef_fault_tree(paths)
    result = quantify_fault_tree(tree, importance=True)
    input_sha256 = files_sha256(paths)
    if as_json:
        echo_json(
            {
                "schema": FAULT_TREE_SCHEMA,
                "ddrisk_version": __version__,
                "inputs": [str(p) for p in paths],
                "input_sha256": input_sha256,
                "top": tree.top,
                "probability_text": probability_text(result.log_probability),
                **result.to_dict(),
            }
        )
        return
    console = Console(highlight=False)
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
