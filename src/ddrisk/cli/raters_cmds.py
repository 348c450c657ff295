"""``ddrisk raters``: rating sheets and form, validation, agreement, pooling and comparison.

Each subcommand parses options and calls the public API in :mod:`ddrisk.raters` and
:mod:`ddrisk.io.raterfile`; rendering lives in :mod:`ddrisk.report.raters_terminal`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ddrisk.cli._common import (
    _finite_number,
    bootstrap_option,
    catalog_option,
    draws_option,
    echo_json,
    json_option,
    parse_id_list,
    renamed_option,
    seed_option,
    take_renamed,
)
from ddrisk.errors import InputError

if TYPE_CHECKING:
    from ddrisk.raters.model import RaterPanel

_FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
_RATER_CATALOG = click.option(
    "--catalog",
    "catalog_source",
    default=None,
    metavar="FILE_OR_NAME",
    help="The catalog the files rate (default: the built-in catalog the first file names).",
)
_SEED = seed_option("Seed of the bootstrap / Monte Carlo.")


def _panel(files: tuple[Path, ...], catalog_source: str | None) -> RaterPanel:
    from ddrisk.io.raterfile import load_rater_panel

    return load_rater_panel(list(files), catalog=catalog_source)


@click.group()
def raters() -> None:
    """Several raters for one catalog: sheets, a browser form, agreement, pooling, comparison.

    Each rater fills in their own file (`ddrisk raters template` or `ddrisk raters form`);
    `validate` checks the files, `agree` measures agreement, `pool` combines them into an
    ordinary catalog, and `compare` shows which conclusions survive the disagreement.
    """


@raters.command()
@catalog_option
@click.option(
    "--rater",
    "raters_",
    multiple=True,
    required=True,
    metavar="ID[=NAME]",
    help="A rater to write a sheet for (repeat for several).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["yaml", "csv", "json"]),
    default=("yaml", "csv"),
    show_default=True,
    help="Sheet formats (repeat for several).",
)
@click.option(
    "-o",
    "--output-dir",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    callback=take_renamed,
    help="Folder for the sheets (<rater>.yaml, <rater>.csv).",
)
@renamed_option("--out-dir", dest="out_dir")
@click.option("--force", is_flag=True, help="Overwrite existing sheets.")
def template(
    catalog_source: str | None,
    raters_: tuple[str, ...],
    formats: tuple[str, ...],
    out_dir: Path,
    force: bool,
) -> None:
    """Write a blank rating sheet per rater (every cell listed, none rated).

    \b
    Rater file format (ddrisk.raters/1), YAML shown; JSON has the same keys and CSV has
    one row per cell with the catalog and rater repeated on each row:
      format: ddrisk.raters/1
      catalog: {id: dung-mai-2025, version: 2025.10-r1, sha256: ...}   # sha256 optional
      rater: {id: alice, name: Alice Example, kind: expert}
      ratings:
        - {technique: RLHF, failure_mode: COLL, level: prone, probability: 0.7,
           confidence: low, rationale: "why"}
        - {technique: RLHF, failure_mode: AL-GEN}                        # blank
    level: prone | not_prone | unclear; probability: P(technique fails | mode occurs);
    confidence: low | medium | high. Blank cells are allowed and stay missing.
    """
    import re

    from ddrisk.catalog.model import ID_PATTERN
    from ddrisk.io.catalog import load_catalog
    from ddrisk.io.raterfile import dump_rater_file, rater_template

    catalog = load_catalog(catalog_source)
    planned: list[tuple[Path, str]] = []
    for spec in raters_:
        rater_id, _, name = spec.partition("=")
        rater_id = rater_id.strip()
        if not re.match(ID_PATTERN, rater_id) or len(rater_id) > 64:
            raise InputError(
                "--rater",
                spec,
                f"invalid rater id {rater_id!r}",
                "start with a letter; use letters, digits, '_', '-' or '.'",
            )
        sheet = rater_template(catalog, rater_id=rater_id, rater_name=name.strip() or None)
        for fmt in dict.fromkeys(formats):
            planned.append(
                (out_dir / f"{rater_id}.{fmt}", dump_rater_file(sheet, fmt=fmt, catalog=catalog))
            )
    existing = [str(path) for path, _text in planned if path.exists()]
    if existing and not force:
        raise InputError(
            existing[0], None, "already exists", "choose another --output-dir or pass --force"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in planned:
        path.write_text(text, encoding="utf-8")
        click.echo(str(path))


def _refuse_overwrite(path: Path, *, force: bool) -> None:
    """Every raters command that writes files refuses to replace one unless told to."""
    if path.exists() and not force:
        raise InputError(str(path), None, "already exists", "choose another -o or pass --force")


@raters.command()
@catalog_option
@click.option("--rater", "rater_id", default="", help="Pre-fill the rater id.")
@click.option("--name", "rater_name", default="", help="Pre-fill the rater's name.")
@click.option(
    "--show-catalog-rating",
    is_flag=True,
    help="Show the catalog's own level under each cell (off: raters judge independently).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("rating-form.html"),
    show_default=True,
    help="Where to write the form.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def form(
    catalog_source: str | None,
    rater_id: str,
    rater_name: str,
    show_catalog_rating: bool,
    output: Path,
    force: bool,
) -> None:
    """Write the rating form: one self-contained HTML page that saves a rater file."""
    from ddrisk.io.catalog import load_catalog
    from ddrisk.report.raters_form import render_rater_form

    _refuse_overwrite(output, force=force)
    catalog = load_catalog(catalog_source)
    html = render_rater_form(
        catalog, rater_id=rater_id, rater_name=rater_name, show_catalog_rating=show_catalog_rating
    )
    output.write_text(html, encoding="utf-8")
    click.echo(str(output))


@raters.command()
@_FILES
@_RATER_CATALOG
@json_option
def validate(files: tuple[Path, ...], catalog_source: str | None, as_json: bool) -> None:
    """Check rater files against the catalog they name; one located line per bad file."""
    from ddrisk.io.catalog import builtin_catalog_names, load_catalog
    from ddrisk.io.raterfile import read_rater_file
    from ddrisk.raters.model import RaterCoverage, RaterPanel
    from ddrisk.report.raters_terminal import print_coverage

    def check(path: Path) -> tuple[RaterCoverage, ...]:
        rater_file = read_rater_file(path)
        source = catalog_source
        if source is None:
            if rater_file.catalog.id not in builtin_catalog_names():
                raise InputError(
                    str(path),
                    "catalog.id",
                    f"'{rater_file.catalog.id}' is not a built-in catalog",
                    "pass the catalog file it rates (--catalog FILE)",
                )
            source = rater_file.catalog.id
        catalog = load_catalog(source)
        checked = read_rater_file(path, catalog=catalog)
        return RaterPanel(catalog, (checked,), (str(path),)).coverage()

    rows: list[RaterCoverage] = []
    errors: list[InputError] = []
    for path in files:
        # Every file is checked, so a panel's coordinator sees all bad sheets at once.
        try:
            rows.extend(check(path))
        except InputError as bad_file:
            errors.append(bad_file)
    if as_json:
        echo_json({"format": "ddrisk.raters.validate/1", "files": [r.to_dict() for r in rows]})
    else:
        print_coverage(rows)
    for problem in errors:
        click.echo(f"ddrisk: error: {problem}", err=True)
    if errors:
        sys.exit(2)


@raters.command()
@_FILES
@_RATER_CATALOG
@bootstrap_option("Bootstrap resamples over cells (0: no intervals).", dest="n_boot")
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 0.999),
    default=0.95,
    show_default=True,
    callback=_finite_number,
)
@_SEED
@json_option
def agree(
    files: tuple[Path, ...],
    catalog_source: str | None,
    n_boot: int,
    confidence: float,
    seed: int,
    as_json: bool,
) -> None:
    """Agreement: Krippendorff's alpha, Fleiss' kappa, pairwise matrix, cells that split."""
    from ddrisk.raters.agreement import rater_agreement
    from ddrisk.report.raters_terminal import print_agreement

    result = rater_agreement(
        _panel(files, catalog_source), n_boot=n_boot, seed=seed, confidence=confidence
    )
    if as_json:
        echo_json(result.to_dict())
    else:
        print_agreement(result)


@raters.command()
@_FILES
@_RATER_CATALOG
@click.option(
    "--rule",
    type=click.Choice(["majority", "median", "mean_probability", "geometric_odds", "any_prone"]),
    default=None,
    help="Pool under one rule (default: every rule side by side).",
)
@click.option(
    "--extremize",
    type=click.FloatRange(min=0.0, min_open=True),
    callback=_finite_number,
    default=1.0,
    show_default=True,
    help="Extremising factor for geometric_odds (1: plain geometric mean of odds).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the pooled catalog (YAML, or JSON for .json) here; needs --rule.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@json_option
def pool(
    files: tuple[Path, ...],
    catalog_source: str | None,
    rule: str | None,
    extremize: float,
    output: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Pool the raters into an ordinary catalog, under each rule side by side."""
    from ddrisk.io.catalog import dump_catalog
    from ddrisk.raters.pooling import PoolingComparison, compare_pooling, pool_ratings
    from ddrisk.report.raters_terminal import print_pooling

    if output is not None and rule is None:
        raise InputError(
            "--output", None, "writing a pooled catalog needs one rule", "add --rule RULE"
        )
    if output is not None:
        _refuse_overwrite(output, force=force)
    panel = _panel(files, catalog_source)
    if rule is None:
        comparison = compare_pooling(panel, extremize=extremize)
    else:
        comparison = PoolingComparison((pool_ratings(panel, rule=rule, extremize=extremize),))
    if output is not None:
        fmt = "json" if output.suffix.lower() == ".json" else "yaml"
        output.write_text(dump_catalog(comparison.pools[0].catalog, fmt=fmt), encoding="utf-8")
    if as_json:
        echo_json(comparison.to_dict())
    else:
        print_pooling(comparison)
        if output is not None:
            click.echo(f"wrote {output}")


@raters.command()
@_FILES
@_RATER_CATALOG
@click.option(
    "--stack",
    metavar="A,B,...",
    help="Stack for the risk conclusions (default: the reference's lowest-risk pair).",
)
@click.option(
    "--reference-rule",
    type=click.Choice(["majority", "median", "mean_probability", "geometric_odds", "any_prone"]),
    default="median",
    show_default=True,
    help="The pooled view conclusions are checked against.",
)
@click.option(
    "--factor",
    type=click.FloatRange(min=1.0),
    callback=_finite_number,
    default=2.0,
    show_default=True,
    help="P(stack fails) holds in a view when within this factor of the reference.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Risk parameter file (q, p defaults, residual).",
)
@draws_option("Monte Carlo draws for P(stack fails) with rater disagreement as uncertainty.")
@_SEED
@json_option
def compare(
    files: tuple[Path, ...],
    catalog_source: str | None,
    stack: str | None,
    reference_rule: str,
    factor: float,
    params_file: Path | None,
    n_draws: int,
    seed: int,
    as_json: bool,
) -> None:
    """Which conclusions hold for every rater, every rule and with each rater left out."""
    from ddrisk.io.parameters import build_parameters
    from ddrisk.raters.spread import disagreement_uncertainty
    from ddrisk.raters.survival import surviving_conclusions
    from ddrisk.report.raters_terminal import print_spread, print_survival

    panel = _panel(files, catalog_source)
    layers = (
        parse_id_list(stack, option="--stack", known=panel.catalog.technique_ids) if stack else None
    )
    params = build_parameters(params_file=params_file)
    survival = surviving_conclusions(
        panel, stack=layers, params=params, reference_rule=reference_rule, factor=factor
    )
    spread = disagreement_uncertainty(
        panel,
        survival.stack,
        params=params,
        n_draws=n_draws,
        seed=seed,
        reference_rule=reference_rule,
    )
    if as_json:
        echo_json({"survival": survival.to_dict(), "disagreement_uncertainty": spread.to_dict()})
    else:
        print_survival(survival)
        print_spread(spread)
