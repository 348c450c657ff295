"""Catalog commands: schema, validate, show, crosswalk."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ddrisk.cli._common import catalog_option, echo_json
from ddrisk.io.catalog import catalog_json_schema, load_catalog
from ddrisk.report.escape import plain_terminal_text


@click.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the catalog format."""
    text = json.dumps(catalog_json_schema(), indent=2) + "\n"
    if output:
        from ddrisk.io.paths import check_output_path

        check_output_path(output, option="--output").write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def validate(files: tuple[str, ...]) -> None:
    """Check catalog files; exit 2 at the first problem, naming file, line and fix."""
    for source in files:
        catalog = load_catalog(source)
        click.echo(
            f"{source}: ok: {plain_terminal_text(catalog.label)}: "
            f"{len(catalog.techniques)} techniques, "
            f"{len(catalog.failure_modes)} failure modes, {len(catalog.ratings)} ratings"
        )


@click.command()
@catalog_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "csv", "json", "latex"]),
    default="table",
    show_default=True,
)
def show(catalog_source: str | None, fmt: str) -> None:
    """Show the technique x failure-mode matrix (✓ not prone, ✗ prone, ? unclear)."""
    from ddrisk.report import tables

    catalog = load_catalog(catalog_source)
    if fmt == "table":
        tables.print_matrix(catalog)
    elif fmt == "json":
        echo_json(tables.matrix_dict(catalog))
    else:
        click.echo(tables.render_matrix(catalog, fmt), nl=False)


@click.command()
@catalog_option
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
@click.option(
    "--framework",
    default=None,
    help="Print ddrisk's pinned SSSOM mapping set for one framework instead (mit-airr, "
    "nist-ai-rmf, nist-ai-600-1, eu-ai-act, iso-42001, owasp-llm, mitre-atlas).",
)
def crosswalk(catalog_source: str | None, output: Path | None, framework: str | None) -> None:
    """Export failure-mode crosswalks (MIT AI Risk Repository, NIST, EU AI Act) as SSSOM TSV."""
    from ddrisk.io.paths import check_output_path
    from ddrisk.io.sssom import crosswalk_tsv

    if output:
        check_output_path(output, option="--output")
    if framework is not None:
        from ddrisk.errors import InputError
        from ddrisk.io.taxonomies import framework_keys, mapping_set_text

        if framework not in framework_keys():
            known = ", ".join(framework_keys())
            raise InputError("--framework", framework, "no pinned mapping set", f"use: {known}")
        text = mapping_set_text(framework)
    else:
        text = crosswalk_tsv(load_catalog(catalog_source))
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)
