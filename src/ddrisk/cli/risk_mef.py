"""``ddrisk risk --mef FILE...``: exact top-event probability of an Open-PSA MEF fault tree."""

from __future__ import annotations

from collections.abc import Sequence

from ddrisk.cli._common import echo_json


def quantify_mef_command(files: Sequence[str], *, as_json: bool) -> None:
    """Read the files as one fault tree, quantify it on a BDD, print it or emit JSON."""
    from ddrisk.io.mef_fault_tree import read_fault_tree
    from ddrisk.risk.faulttree import quantify_fault_tree

    loaded = read_fault_tree(files)
    result = quantify_fault_tree(loaded.tree, importance=True)
    if as_json:
        from ddrisk.report.risk_records import fault_tree_record

        echo_json(
            fault_tree_record(
                loaded.tree, result, inputs=loaded.paths, input_sha256=loaded.input_sha256
            )
        )
        return
    from rich.console import Console

    from ddrisk.report.risk_terminal import render_fault_tree

    render_fault_tree(
        loaded.tree, result, Console(highlight=False), input_sha256=loaded.input_sha256
    )
