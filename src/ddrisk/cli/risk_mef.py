"""``ddrisk risk --mef FILE...``: exact top-event probability of an Open-PSA MEF fault tree.

Kept apart from the stack commands so that this path imports only the XML reader, ``dd``
and the JSON record: no catalog, pandas or scipy (a small tree answers in a fraction of a
second, most of it Python's own start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ddrisk.cli._common import emit_json_record


def quantify_mef_command(
    files: Sequence[str],
    *,
    as_json: bool,
    mission_time: float | None = None,
    output: Path | None = None,
) -> None:
    """Read the files as one fault tree, quantify it on one BDD, print it or emit JSON."""
    from ddrisk.io.mef_fault_tree import DEFAULT_MISSION_TIME, read_fault_tree
    from ddrisk.risk.faulttree import quantify_fault_tree

    hours = DEFAULT_MISSION_TIME if mission_time is None else float(mission_time)
    loaded = read_fault_tree(files, mission_time=hours)
    result = quantify_fault_tree(loaded.tree, importance=True)
    if as_json or output is not None:
        from ddrisk.report.risk_records import fault_tree_record

        record = fault_tree_record(
            loaded.tree,
            result,
            inputs=loaded.paths,
            input_sha256=loaded.input_sha256,
            mission_time=loaded.mission_time,
        )
        if emit_json_record(record, output=output, as_json=as_json):
            return
    from rich.console import Console

    from ddrisk.report.risk_terminal import render_fault_tree

    console = Console(highlight=False)
    render_fault_tree(loaded.tree, result, console, input_sha256=loaded.input_sha256)
    if output is not None:
        console.print(f"wrote {output}", markup=False)
