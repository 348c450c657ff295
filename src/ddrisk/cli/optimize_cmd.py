"""``ddrisk optimize``: the stack that minimises P(stack fails) under a budget or a layer count.

Thin layer: parse options, call :func:`ddrisk.risk.optimize.optimize_stack` (or the frontier),
print with :mod:`ddrisk.report.risk_terminal` or as the JSON record of
:func:`ddrisk.report.risk_records.optimization_record`. A structure is read exactly as
``ddrisk risk --structure`` reads it (:func:`ddrisk.io.structure.read_structure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ddrisk.cli._common import (
    catalog_option,
    check_json_output,
    emit_json_record,
    json_option,
    json_output_option,
    parse_id_list,
    renamed_option,
    take_renamed,
)
from ddrisk.cli.risk_cmds import (
    COMMAND_LINE,
    _existing_file,
    _Number,
    _parameters,
    parameter_options,
)
from ddrisk.errors import InputError
from ddrisk.io.catalog import load_catalog


@click.command("optimize")
@catalog_option
@click.option(
    "--budget",
    type=_Number(low=0),
    default=None,
    help="Maximum total safety-tax cost (low 1, medium 2, unclear 2.5, high 3).",
)
@click.option(
    "--max-layers",
    "max_layers",
    type=_Number(low=1, high=20, integer=True),
    default=None,
    callback=take_renamed,
    help="Maximum number of layers. Without --budget or --max-layers: best stack for every size.",
)
@renamed_option("--layers", dest="max_layers")
@click.option(
    "--cost",
    "cost_items",
    multiple=True,
    metavar="LEVEL=COST",
    help="Override a safety-tax cost, e.g. --cost high=5.",
)
@click.option("--candidates", metavar="A,B,...", help="Choose only among these techniques.")
@click.option(
    "--structure",
    "structure_file",
    metavar="FILE",
    callback=_existing_file("--structure"),
    help="YAML/JSON with a 'structure:' section (as for ddrisk risk). Placed techniques are "
    "chosen or not at their place; placed ones outside --candidates are kept.",
)
@click.option(
    "--position",
    metavar="PATH|best",
    help="Where candidates the structure does not place join: a group path such as "
    "structure.any_route[1] (default: structure, the whole stack), or 'best' to try every "
    "admissible position. A wrong path lists the admissible ones.",
)
@parameter_options
@json_output_option
@json_option
def optimize(**options: Any) -> None:
    """The stack that minimises P(stack fails) under a safety-tax budget or a layer count (exact).

    Ties in P are broken by lower safety-tax cost, then fewer layers, then catalog order, and
    the output lists the stacks the best one tied with.
    """
    from ddrisk.cli._parse import parse_costs
    from ddrisk.risk.optimize import best_stack_frontier, optimize_stack

    check_json_output(options["output"])
    catalog = load_catalog(options["catalog_source"])
    costs = parse_costs(options["cost_items"])
    params = _parameters(options)
    candidates = (
        parse_id_list(options["candidates"], option="--candidates", known=catalog.technique_ids)
        if options["candidates"]
        else None
    )
    structure = _structure(options, catalog.technique_ids)
    position = options["position"]
    if options["budget"] is None and options["max_layers"] is None:
        results = best_stack_frontier(
            catalog,
            params=params,
            costs=costs,
            candidates=candidates,
            structure=structure,
            position=position,
        )
    else:
        results = (
            optimize_stack(
                catalog,
                params=params,
                budget=options["budget"],
                max_layers=options["max_layers"],
                costs=costs,
                candidates=candidates,
                structure=structure,
                position=position,
            ),
        )
    from ddrisk.report.risk_records import optimization_record

    record = optimization_record(results, inputs=_input_files(options))
    if emit_json_record(record, output=options["output"], as_json=options["as_json"]):
        return
    from ddrisk.report.risk_terminal import render_optimization, risk_console

    console = risk_console()
    render_optimization(results, console)
    if options["output"] is not None:
        console.print(f"wrote {options['output']}")


def _structure(options: dict[str, Any], techniques: list[str]) -> Any:
    """The structure from ``--structure`` (checked against the catalog) and a valid --position."""
    source: Path | None = options["structure_file"]
    position: str | None = options["position"]
    if source is None:
        if position is not None:
            raise InputError(
                COMMAND_LINE, "--position", "a position needs a structure", "add --structure FILE"
            )
        return None
    from ddrisk.io.structure import read_structure, structure_layers
    from ddrisk.risk.optimize_structure import BEST, find_position

    structure = read_structure(source)
    for layer in structure_layers(structure):
        if layer not in techniques:
            raise InputError(
                str(source),
                "structure",
                f"unknown technique '{layer}'",
                "place technique ids of the catalog: " + ", ".join(techniques),
            )
    if position is not None and position.strip() != BEST:
        try:
            find_position(structure, position)
        except ValueError as error:
            raise InputError(
                COMMAND_LINE, "--position", str(error), "give one of those paths or 'best'"
            ) from None
    return structure


def _input_files(options: dict[str, Any]) -> dict[str, str]:
    """sha256 of every file the command read besides the catalog (its hash is in the record)."""
    from ddrisk._hashing import file_sha256

    files = [options["params_file"], options["structure_file"]]
    return {str(path): file_sha256(path) for path in files if path is not None}
