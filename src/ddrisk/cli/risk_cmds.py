"""Risk commands: ``risk`` (joint-failure probability) and ``export mef`` (``optimize``: optimize_cmd).

Thin layer: parse options, call :mod:`ddrisk.risk`, print with
:mod:`ddrisk.report.risk_terminal` or as JSON.
Every bad input raises :class:`~ddrisk.errors.InputError` (one line, exit 2),
including malformed numbers, through :class:`_Probability` and friends.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ddrisk import defaults
from ddrisk.cli._common import (
    catalog_option,
    check_json_output,
    emit_json_record,
    json_option,
    json_output_option,
    parse_id_list,
)
from ddrisk.errors import InputError
from ddrisk.risk.settings import DEFAULT_BETA, DEFAULT_RHO, PARTS, check_parts

COMMAND_LINE = "command line"


# ---------------------------------------------------------------------------- option types
class _Number(click.ParamType):
    """A number whose bad values become a one-line InputError (not click's usage block)."""

    name = "number"

    def __init__(
        self, *, low: float | None = None, high: float | None = None, integer: bool = False
    ):
        self.low, self.high, self.integer = low, high, integer
        self.name = "integer" if integer else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value) if self.integer else float(value)
            except (TypeError, ValueError):
                number = None
        option = param.opts[0] if param is not None and param.opts else "option"
        kind = "a whole number" if self.integer else "a number"
        bounds = []
        if self.low is not None:
            bounds.append(f">= {self.low:g}")
        if self.high is not None:
            bounds.append(f"<= {self.high:g}")
        wanted = kind + (" " + " and ".join(bounds) if bounds else "")
        if number is None or (isinstance(number, float) and not math.isfinite(number)):
            raise InputError(COMMAND_LINE, option, f"{value!r} is not {kind}", f"give {wanted}")
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise InputError(COMMAND_LINE, option, f"{value} is out of range", f"give {wanted}")
        return number


def _existing_file(option: str) -> Callable[[click.Context, click.Parameter, Any], Path | None]:
    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Path | None:
        if value is None:
            return None
        from ddrisk.io.documents import check_usable_path

        path = check_usable_path(value)
        if path.is_dir():
            raise InputError(str(path), option, "is a folder, not a file", f"give {option} a file")
        if not path.is_file():
            raise InputError(str(path), None, "no such file", f"give an existing file to {option}")
        return path

    return check


def parameter_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The q / p / r options shared by every risk command (see ddrisk.risk.parameters)."""
    options = [
        click.option(
            "--params",
            "params_file",
            metavar="FILE",
            callback=_existing_file("--params"),
            help="YAML/JSON parameter file (q, p, residual); command-line options win over it.",
        ),
        click.option(
            "--q",
            "q_values",
            multiple=True,
            metavar="[MODE=]SPEC",
            help="P(failure mode occurs): a default (--q 0.1) or per mode (--q CAP-DEV=0.3). "
            "SPEC is a number or beta(a,b), uniform(lo,hi), loguniform(lo,hi), interval(lo,hi).",
        ),
        click.option(
            "--p-prone", metavar="SPEC", help="P(layer fails | mode) for prone cells (0.9)."
        ),
        click.option("--p-unclear", metavar="SPEC", help="... for unclear cells (0.5)."),
        click.option("--p-not-prone", metavar="SPEC", help="... for not-prone cells (0.05)."),
        click.option(
            "--p",
            "p_cells",
            multiple=True,
            metavar="TECH:MODE=SPEC",
            help="P(layer fails | mode) for one cell, e.g. --p RLHF:DEC-AL=0.7.",
        ),
        click.option(
            "--residual",
            "residual_values",
            multiple=True,
            metavar="[TECH=]SPEC",
            help="P(layer fails on its own): default (--residual 0.05) or per technique.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _parameters(options: dict[str, Any]) -> Any:
    from ddrisk.cli._parse import parameters_from_cli
    from ddrisk.io.parameters import build_parameters

    cli = parameters_from_cli(
        q=options["q_values"],
        p_prone=options["p_prone"],
        p_unclear=options["p_unclear"],
        p_not_prone=options["p_not_prone"],
        p=options["p_cells"],
        residual=options["residual_values"],
    )
    return build_parameters(params_file=options["params_file"], cli=cli)


# ---------------------------------------------------------------------------- risk
@click.command("risk")
@catalog_option
@click.option("--stack", metavar="A,B,...", help="Technique ids of the stack, in order.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "exact", "sample"]),
    default="auto",
    show_default=True,
    help="auto uses the exact engine and switches to sampling past its budget (and says so).",
)
@parameter_options
@click.option(
    "--beta",
    type=_Number(low=0, high=1),
    default=DEFAULT_BETA,
    show_default=True,
    help="Beta-factor model: fraction of the smallest marginal due to a common cause.",
)
@click.option(
    "--rho",
    type=_Number(low=0, high=1),
    default=DEFAULT_RHO,
    show_default=True,
    help="Gaussian copula: correlation between layers' latent stress variables.",
)
@click.option(
    "--seed",
    type=_Number(low=0, integer=True),
    default=defaults.SEED,
    show_default=True,
    help="Seed for sampling and Monte Carlo uncertainty.",
)
@click.option(
    "--uncertainty",
    "n_draws",
    type=_Number(low=0, high=1_000_000, integer=True),
    default=0,
    show_default=True,
    help="Monte Carlo draws over uncertain parameters (0: off).",
)
@click.option(
    "--counts",
    "counts_file",
    metavar="FILE",
    callback=_existing_file("--counts"),
    help='Stress-test counts JSON ({"LAYER": {"failures": k, "n": n}}) -> Beta posteriors.',
)
@click.option(
    "--draws",
    "n_samples",
    type=_Number(low=100, high=10_000_000, integer=True),
    default=defaults.SAMPLER_DRAWS,
    show_default=True,
    help="Draws of the importance sampler wherever it is used.",
)
@click.option(
    "--exact-budget",
    type=_Number(low=2, high=2**30, integer=True),
    default=None,
    help="Largest DP table / BDD the exact engine may build (default 8,388,608 / 400,000).",
)
@click.option(
    "--structure",
    "structure_file",
    metavar="FILE",
    callback=_existing_file("--structure"),
    help="YAML/JSON with a 'structure:' section: all_miss, vote {flag, of}, any_route.",
)
@click.option(
    "--mef",
    "mef_files",
    metavar="FILE",
    multiple=True,
    help="Quantify an Open-PSA MEF fault tree exactly instead (repeat for basic-event files).",
)
@click.option(
    "--mission-time",
    type=_Number(low=0, high=1e12),
    default=None,
    metavar="HOURS",
    help="With --mef: the MEF system-mission-time (default 8760 h, as SCRAM).",
)
@click.option(
    "--paper-example",
    is_flag=True,
    help="Print the paper's n x m arithmetic and the P(all fail) curve for every model.",
)
@click.option(
    "--marginal",
    type=_Number(low=0, high=1),
    default=0.1,
    show_default=True,
    help="With --paper-example: each layer's failure probability.",
)
@click.option(
    "--n-layers",
    type=_Number(low=1, high=1000, integer=True),
    default=10,
    show_default=True,
    help="With --paper-example: number of identical layers.",
)
@click.option(
    "--figure",
    metavar="FILE.png|svg|pdf",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the P(all fail) vs number of layers figure.",
)
@click.option(
    "--parts",
    metavar="LIST",
    default="all",
    show_default=True,
    callback=lambda ctx, param, value: _parts(value),
    help="What to compute, comma-separated: "
    + ", ".join(PARTS)
    + " or all. 'probability' alone is P(stack fails) with the layer marginals, what a "
    "fault-tree tool reports (e.g. SCRAM --probability); the others add the importance pass, "
    "each layer's marginal value, four other dependence models and the P(first n fail) curve. "
    "Env: DDRISK_RISK_PARTS.",
)
@click.option("--full", is_flag=True, help="Print every resolved parameter, not a summary.")
@json_output_option
@json_option
def risk(**options: Any) -> None:
    """P(stack fails) from shared failure modes, beside four other dependence models.

    Model: failure mode j occurs with probability q_j; layer i then fails with
    p_ij (catalog level -> default, or the cell's own probability) and also on
    its own with r_i; the stack fails when every layer fails. Prints every
    parameter used, the independence prediction, the correlation penalty, the
    effective number of layers, importance measures and the research-priority
    ranking of failure modes.
    """
    if options["figure"] is not None:
        from ddrisk.io.paths import FIGURE_SUFFIXES, check_output_path

        check_output_path(options["figure"], option="--figure", suffixes=FIGURE_SUFFIXES)
    check_json_output(options["output"])
    if options["paper_example"]:
        _paper_example(options)
        return
    if options["mef_files"]:
        from ddrisk.cli.risk_mef import quantify_mef_command

        quantify_mef_command(
            options["mef_files"],
            as_json=options["as_json"],
            mission_time=options["mission_time"],
            output=options["output"],
        )
        return
    from ddrisk.io.catalog import load_catalog
    from ddrisk.risk.assessment import assess_stack

    catalog = load_catalog(options["catalog_source"])
    structure = None
    if options["structure_file"] is not None:
        from ddrisk.io.structure import read_structure, structure_layers

        structure = read_structure(options["structure_file"])
        if not options["stack"]:
            options["stack"] = ",".join(structure_layers(structure))
    if not options["stack"]:
        raise InputError(
            COMMAND_LINE, "--stack", "no stack given", "pass --stack A,B,... or --paper-example"
        )
    stack = parse_id_list(options["stack"], option="--stack", known=catalog.technique_ids)
    params = _parameters(options)
    counts = None
    if options["counts_file"] is not None:
        from ddrisk.io.counts import read_stress_counts

        counts = read_stress_counts(options["counts_file"])
    report = assess_stack(
        catalog,
        stack,
        params=params,
        engine=options["engine"],
        seed=options["seed"],
        beta=options["beta"],
        rho=options["rho"],
        n_draws=options["n_draws"],
        counts=counts,
        structure=_checked_structure(structure, stack, options["structure_file"]),
        n_samples=options["n_samples"],
        exact_budget=options["exact_budget"],
        # A figure of the curve needs the curve, whatever --parts says.
        parts=options["parts"] + (("curve",) if options["figure"] is not None else ()),
    )
    if options["figure"] is not None and report.curve is not None:
        from ddrisk.report.risk_figures import save_dependence_curve

        save_dependence_curve(report.curve, options["figure"])
    if emit_json_record(report.to_dict(), output=options["output"], as_json=options["as_json"]):
        return
    from ddrisk.report.risk_terminal import render_stack_risk, risk_console

    render_stack_risk(report, risk_console(), full=options["full"])
    for written in (options["figure"], options["output"]):
        if written is not None:
            click.echo(f"wrote {written}")


def _parts(value: str) -> tuple[str, ...]:
    names = [name.strip() for name in str(value).split(",") if name.strip()]
    try:
        return check_parts(names or ["all"])
    except ValueError as error:
        raise InputError(
            COMMAND_LINE,
            "--parts",
            str(error),
            f"give a comma-separated list of {', '.join(PARTS)} (or all)",
        ) from None


def _checked_structure(structure: Any, stack: list[str], source: Path | None) -> Any:
    if structure is None:
        return None
    from ddrisk.io.structure import read_structure

    return read_structure(source, layers=stack) if source is not None else structure


def _paper_example(options: dict[str, Any]) -> None:
    from ddrisk.risk.dependence import identical_layers_curve, paper_example

    example = paper_example(options["marginal"], options["n_layers"])
    curve = identical_layers_curve(
        options["marginal"], options["n_layers"], beta=options["beta"], rho=options["rho"]
    )
    if options["figure"] is not None:
        from ddrisk.report.risk_figures import save_dependence_curve

        save_dependence_curve(curve, options["figure"])
    if options["as_json"] or options["output"] is not None:
        from ddrisk.report.risk_records import paper_example_record

        record = paper_example_record(example, curve)
        if emit_json_record(record, output=options["output"], as_json=options["as_json"]):
            return
    from ddrisk.report.risk_terminal import render_paper_example, risk_console

    console = risk_console()
    render_paper_example(example, curve, console)
    for written in (options["figure"], options["output"]):
        if written is not None:
            console.print(f"wrote {written}", markup=False)


# ---------------------------------------------------------------------------- export
@click.group("export")
def export() -> None:
    """Export a stack to other tools' formats."""


@export.command("mef")
@catalog_option
@click.option("--stack", required=False, metavar="A,B,...", help="Technique ids of the stack.")
@parameter_options
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
@click.option("--name", default="stack", show_default=True, help="Fault-tree name.")
@click.option(
    "--validate",
    "validate_schema",
    is_flag=True,
    help="Validate against the MEF RelaxNG schema ($DDRISK_MEF_SCHEMA or SCRAM's input.rng).",
)
def export_mef(**options: Any) -> None:
    """Write the stack as an Open-PSA MEF fault tree (checkable with SCRAM and other PRA tools)."""
    from ddrisk.io.catalog import load_catalog
    from ddrisk.io.mef import model_to_mef, validate_mef
    from ddrisk.risk.parameters import resolve_parameters

    if options["output"] is not None:
        from ddrisk.io.paths import check_output_path

        check_output_path(options["output"], option="--output")
    catalog = load_catalog(options["catalog_source"])
    if not options["stack"]:
        raise InputError(COMMAND_LINE, "--stack", "no stack given", "pass --stack A,B,...")
    stack = parse_id_list(options["stack"], option="--stack", known=catalog.technique_ids)
    resolved = resolve_parameters(catalog, stack, _parameters(options))
    xml = model_to_mef(resolved.model, name=options["name"])
    if options["validate_schema"]:
        problems = validate_mef(xml)
        if problems:
            raise InputError(
                "MEF export",
                problems[0].split(":")[0],
                "schema validation failed: " + problems[0],
                "report this as a ddrisk bug",
            )
    if options["output"] is None:
        click.echo(xml, nl=False)
        return
    options["output"].write_text(xml, encoding="utf-8")
    click.echo(
        f"wrote {options['output']}: {len(stack)} layers, {len(resolved.modes)} modes, "
        f"catalog {resolved.catalog_label}, parameters sha256:{resolved.parameters_hash[:12]}"
        + (" (schema-valid)" if options["validate_schema"] else "")
    )


COMMANDS = (risk, export)
