"""``ddrisk report``: one file a reader can open, built from the same results as the CLI."""

from __future__ import annotations

from pathlib import Path

import click

from ddrisk.cli._common import (
    catalog_option,
    draws_option,
    parse_id_list,
    runs_dir_option,
    seed_option,
    structural_options,
)
from ddrisk.errors import InputError


@click.command("report")
@catalog_option
@click.option(
    "--stack",
    metavar="A,B,...",
    help="Report this stack's straight-through modes and its quantitative risk.",
)
@structural_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "markdown", "json"]),
    default="html",
    show_default=True,
    help="html: one self-contained file; markdown: tables plus SVG figures in <name>-figures/; "
    "json: every result plus provenance.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: ddrisk-report.html / .md / .json in the current folder).",
)
@click.option(
    "--stress-run",
    metavar="RUN",
    default=None,
    help="Add the statistics of a stored stress run (run folder, run id or 'latest').",
)
@click.option(
    "--attack-run",
    metavar="ATTACK",
    default=None,
    help="Add an adaptive attack (attack id, folder or 'latest' under --runs-dir/attacks).",
)
@runs_dir_option
@click.option(
    "--raters",
    "rater_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A rater file for this catalog (repeat, 2 or more): adds agreement, pooling and "
    "surviving conclusions.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Risk parameter file (q, p, residual; values or distributions) for the --stack section.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "exact", "sample"]),
    default="auto",
    show_default=True,
    help="Risk engine for the --stack section.",
)
@draws_option("Monte Carlo draws when --params gives distributions.")
@seed_option("Seed for sampled '?' resolutions, the stress bootstrap and the risk sampler.")
@click.option(
    "--audit",
    "audit_stack",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Add the audit of this stack file (`ddrisk audit`).",
)
def report(
    catalog_source: str | None,
    stack: str | None,
    policy: str,
    fmt: str,
    output: Path | None,
    stress_run: str | None,
    attack_run: str | None,
    runs_dir: Path,
    rater_files: tuple[Path, ...],
    params_file: Path | None,
    engine: str,
    n_draws: int,
    k_max: int | None,
    top: int,
    group_threshold: float,
    seed: int,
    audit_stack: Path | None,
) -> None:
    """Write a report (HTML, Markdown or JSON) of the analysis of a catalog.

    Every number in it comes from the same functions as `ddrisk analyze`
    (and `ddrisk risk` / `ddrisk stress analyze` for those sections), and each
    table and figure names the catalog hash, settings and seed behind it. Set
    SOURCE_DATE_EPOCH for a byte-identical rebuild.
    """
    from ddrisk.analysis import analyze
    from ddrisk.io.catalog import load_catalog
    from ddrisk.report.build import DEFAULT_FILENAMES, build_report

    if params_file is not None and not stack:
        raise InputError(
            "--params", None, "risk parameters need a stack", "add --stack A,B,... or drop --params"
        )
    if output is not None:  # a bad path is one line now, not a traceback after the report
        from ddrisk.io.documents import check_usable_path
        from ddrisk.io.paths import check_output_folder, check_output_path

        if not check_usable_path(output.parent).exists():
            check_output_folder(output.parent, option="--output")  # the report makes its folder
        check_output_path(output, option="--output")
    catalog = load_catalog(catalog_source)
    layers = parse_id_list(stack, option="--stack", known=catalog.technique_ids) if stack else None
    params = None
    if layers:
        from ddrisk.io.parameters import build_parameters

        params = build_parameters(params_file=params_file)  # read before any long computation
    panel = None
    if rater_files:
        from ddrisk.io.raterfile import load_rater_panel

        panel = load_rater_panel(list(rater_files), catalog=catalog)  # checked before computing
    loaded = None
    if audit_stack is not None:
        from ddrisk.io.stackfile import read_stack

        loaded = read_stack(audit_stack)  # a bad stack file is one line before any computing
    analysis = analyze(
        catalog,
        policy=policy,
        stack=layers,
        k_max=k_max,
        top=top,
        group_threshold=group_threshold,
        seed=seed,
    )
    stress = None
    if stress_run is not None:
        from ddrisk.report.stress_sections import stress_analysis_for_run

        stress = stress_analysis_for_run(stress_run, runs_dir=runs_dir, seed=seed)
    risk = None
    if layers:
        from ddrisk.report.risk_sections import risk_input_for_stack

        risk = risk_input_for_stack(
            catalog, layers, params=params, engine=engine, seed=seed, n_draws=n_draws
        )
    raters = None
    if panel is not None:
        from ddrisk.report.raters_sections import raters_input

        raters = raters_input(panel, stack=layers, params=params, seed=seed, n_draws=n_draws)
    attack = None
    if attack_run is not None:
        from ddrisk.report.attack_sections import attack_analysis_for

        attack = attack_analysis_for(attack_run, runs_dir=runs_dir)[0]
    audit = None
    if loaded is not None:
        from ddrisk.audit import run_audit
        from ddrisk.io.taxonomies import load_all_mappings

        audit = run_audit(
            loaded.compiled,
            input_sha256=loaded.input_sha256,
            mappings=load_all_mappings(),
            impacts=loaded.impacts,
            weights=loaded.weights,
            seed=seed,
            counts=loaded.counts,
            counts_sha256=loaded.counts_sha256,
        )
    built = build_report(
        catalog=catalog,
        analysis=analysis,
        risk=risk,
        stress=stress,
        raters=raters,
        attack=attack,
        audit=audit,
    )
    target = output or Path(DEFAULT_FILENAMES[fmt])
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    written = built.write(target, fmt=fmt)
    click.echo(str(written[0]))
    if len(written) > 1:
        click.echo(f"figures: {written[1].parent}", err=True)
