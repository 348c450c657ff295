"""``ddrisk audit STACK.yaml``: audit a deployed safety stack."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ddrisk.cli._common import draws_option, seed_option


def _parse_weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    from ddrisk.errors import InputError

    weights = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            weights[key.strip()] = float(value)
        except ValueError:
            raise InputError(
                "--weights", item, "expected CRITERION=NUMBER", "e.g. severity=0.4,urgency=0.2"
            ) from None
        if not sep:
            raise InputError("--weights", item, "expected CRITERION=NUMBER", "e.g. severity=0.4")
    return weights


@click.command()
@click.argument("stack", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--schema", "show_schema", is_flag=True, help="Print the stack-file JSON Schema.")
@seed_option("Seed for Monte Carlo draws.")
@draws_option("Monte Carlo draws for uncertainty (0: none).", minimum=0)
@click.option(
    "--budget", type=float, default=None, help="Cost budget for additions (overrides the file)."
)
@click.option(
    "--weights",
    default=None,
    metavar="C=W,...",
    help="Impact weights, e.g. severity=0.5,urgency=0.2.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report (.html or .md).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "markdown"]),
    default=None,
    help="Report format (default: from the suffix).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the audit record as JSON.")
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON record here.",
)
def audit(
    stack: Path | None,
    show_schema: bool,
    seed: int,
    n_draws: int,
    budget: float | None,
    weights: str | None,
    output: Path | None,
    fmt: str | None,
    as_json: bool,
    json_out: Path | None,
) -> None:
    """Audit a deployed safety stack: straight-through modes, P(all fail), additions, crosswalks."""
    from ddrisk.audit import stack_json_schema

    if show_schema:
        click.echo(json.dumps(stack_json_schema(), indent=2))
        return
    if stack is None:
        raise click.UsageError("give a stack file (see `ddrisk audit --schema`)")
    from ddrisk.audit.engine import run_audit
    from ddrisk.errors import InputError
    from ddrisk.io.stackfile import read_stack
    from ddrisk.io.taxonomies import load_all_mappings

    loaded = read_stack(stack)
    chosen = _parse_weights(weights) or loaded.weights
    try:
        from ddrisk.audit.priorities import check_weights

        check_weights(chosen)
    except ValueError as error:
        raise InputError(
            "--weights", weights, str(error), "use severity, tractability, neglectedness, urgency"
        ) from None
    result = run_audit(
        loaded.compiled,
        input_sha256=loaded.input_sha256,
        mappings=load_all_mappings(),
        impacts=loaded.impacts,
        weights=chosen,
        seed=seed,
        n_draws=n_draws,
        budget=budget,
        counts=loaded.counts,
        counts_sha256=loaded.counts_sha256,
    )
    record = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    if json_out:
        json_out.write_text(record, encoding="utf-8")
    if as_json:
        click.echo(record, nl=False)
    else:
        from ddrisk.report.audit_sections import print_audit

        print_audit(result)
    if output:
        from ddrisk.report.audit_sections import html_page, markdown_section
        from ddrisk.report.swiss_cheese import audit_figure

        kind = fmt or ("markdown" if output.suffix.lower() in {".md", ".markdown"} else "html")
        figure = audit_figure(result)
        if kind == "html":
            output.write_text(html_page(result, figure=figure), encoding="utf-8")
        else:
            png = output.with_suffix(".swiss-cheese.svg")
            figure.savefig(png, format="svg", metadata={"Date": None})
            output.write_text(markdown_section(result, figure_path=png.name), encoding="utf-8")
        if not as_json:
            click.echo(f"wrote {output}")
    if json_out and not as_json:
        click.echo(f"wrote {json_out}")
