"""``ddrisk analyze``: the paper's structural analysis on any catalog."""

from __future__ import annotations

from pathlib import Path

import click

from ddrisk.analysis import analyze as run_analysis
from ddrisk.cli._common import (
    catalog_option,
    check_json_output,
    emit_json_record,
    json_option,
    json_output_option,
    parse_id_list,
    seed_option,
    structural_options,
)
from ddrisk.io.catalog import load_catalog


@click.command()
@catalog_option
@click.option("--stack", metavar="A,B,...", help="Report the straight-through modes of this stack.")
@structural_options
@seed_option("Seed for sampled '?' resolutions.")
@json_output_option
@json_option
def analyze(
    catalog_source: str | None,
    policy: str,
    stack: str | None,
    k_max: int | None,
    top: int,
    group_threshold: float,
    seed: int,
    output: Path | None,
    as_json: bool,
) -> None:
    """Overlap, groups, stack coverage, best stacks, priorities and robustness of a catalog."""
    from ddrisk.report.analysis_terminal import print_analysis

    check_json_output(output)
    catalog = load_catalog(catalog_source)
    layers = parse_id_list(stack, option="--stack", known=catalog.technique_ids) if stack else None
    result = run_analysis(
        catalog,
        policy=policy,
        stack=layers,
        k_max=k_max,
        top=top,
        group_threshold=group_threshold,
        seed=seed,
    )
    if not emit_json_record(result.to_dict(), output=output, as_json=as_json):
        print_analysis(result)
        if output:
            click.echo(f"wrote {output}")
