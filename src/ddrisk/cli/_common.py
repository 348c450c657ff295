"""Options and output helpers shared by every command module."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ddrisk import defaults
from ddrisk._jsonnum import json_default, json_ready
from ddrisk.errors import InputError

catalog_option = click.option(
    "--catalog",
    "catalog_source",
    default=None,
    metavar="FILE_OR_NAME",
    help="Catalog file (.yaml/.json) or built-in name. Default: dung-mai-2025.",
)


def _finite_number(ctx: click.Context, param: click.Parameter, value: float | None) -> Any:
    """Reject nan, which click's FloatRange lets through (infinities fail its range check)."""
    if value is not None and value != value:  # nan compares unequal to itself
        raise click.BadParameter(f"{value} is not a number", ctx=ctx, param=param)
    return value


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")

runs_dir_option = click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("ddrisk-runs"),
    show_default=True,
    help="Folder holding stress runs and the verdict cache.",
)


def renamed_option(old: str, *, dest: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The old spelling of an option that was renamed, kept working but hidden from --help.

    Pair it with the new option, which must pass ``callback=take_renamed``: the old spelling
    stores its value in ``ctx.meta`` and the new option falls back to it when it was not
    given itself (the new spelling wins when both are). This works on every click version
    ddrisk supports, where two options writing one parameter name would overwrite each other.
    """

    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta.setdefault(_RENAMED, {})[dest] = value

    return click.option(
        old,
        type=click.UNPROCESSED,
        default=None,
        hidden=True,
        expose_value=False,
        callback=remember,
    )


_RENAMED = "ddrisk.renamed_options"


def take_renamed(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of a renamed option's new spelling: its value, or the old spelling's."""
    if param.name is None:
        return value
    given = ctx.get_parameter_source(param.name) not in (None, click.core.ParameterSource.DEFAULT)
    old = ctx.meta.get(_RENAMED, {}).get(param.name)
    if not given and old is not None:
        return param.type_cast_value(ctx, old)
    return value


def seed_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--seed N``, defaulting to the one seed every part of ddrisk uses."""
    return click.option(
        "--seed", type=int, default=defaults.SEED, show_default=True, help=help_text
    )


def draws_option(
    help_text: str, *, minimum: int = 10
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--draws N``: Monte Carlo draws propagating uncertainty (one default everywhere)."""
    return click.option(
        "--draws",
        "n_draws",
        type=click.IntRange(min=minimum),
        default=defaults.UNCERTAINTY_DRAWS,
        show_default=True,
        help=help_text,
    )


def bootstrap_option(
    help_text: str, *, dest: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--bootstrap N``: resamples behind an interval (0: no intervals)."""
    return click.option(
        "--bootstrap",
        dest,
        type=click.IntRange(min=0),
        default=defaults.BOOTSTRAP_REPLICATES,
        show_default=True,
        help=help_text,
    )


def items_file_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--data FILE``: the items (``.jsonl``/``.csv``) a stress command reads."""
    return click.option(
        "--data",
        "data_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def layers_file_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--layers-file FILE`` with its old spelling ``--layers`` still accepted (hidden)."""
    new = click.option(
        "--layers-file",
        "layers_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        callback=take_renamed,
        help=help_text,
    )
    old = renamed_option("--layers", dest="layers_path")

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return new(old(function))

    return decorate


def resume_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--resume [ID]``: finish an interrupted job; alone, the latest unfinished one."""
    return click.option(
        "--resume",
        "resume",
        is_flag=False,
        flag_value="unfinished",
        default=None,
        metavar=f"[{what.upper()}]",
        help=f"Finish an interrupted {what} (default: the latest unfinished one).",
    )


def structural_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the structural analysis, shared by ``analyze`` and ``report``."""
    from ddrisk.analysis.groups import DEFAULT_THRESHOLD
    from ddrisk.analysis.profile import UnclearPolicy

    options = [
        click.option(
            "--policy",
            type=click.Choice([p.value for p in UnclearPolicy]),
            default=UnclearPolicy.BOUNDS.value,
            show_default=True,
            help="How '?' cells count: as prone, as not prone, or both side by side.",
        ),
        click.option(
            "--k-max", type=click.IntRange(min=1), help="Largest stack size to rank (default: all)."
        ),
        click.option(
            "--top",
            type=click.IntRange(min=1),
            default=5,
            show_default=True,
            help="Stacks kept per size.",
        ),
        click.option(
            "--group-threshold",
            type=click.FloatRange(0.0, 1.0),
            default=DEFAULT_THRESHOLD,
            show_default=True,
            callback=_finite_number,
            help="Jaccard-distance cut for correlated groups.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def parse_id_list(
    value: str | None,
    *,
    option: str,
    known: list[str],
    source: str = "command line",
    known_from: str = "the catalog",
) -> list[str]:
    """Split ``A,B,C`` and check each id against ``known`` (case-insensitive match allowed).

    ``known_from`` says where the valid ids come from, for the fix of an unknown one.
    """
    if value is None:
        return []
    by_upper = {k.upper(): k for k in known}
    ids: list[str] = []
    for raw in (part.strip() for part in value.split(",")):
        if not raw:
            continue
        resolved = raw if raw in known else by_upper.get(raw.upper())
        if resolved is None:
            raise InputError(
                source,
                option,
                f"unknown id '{raw}'",
                f"use ids from {known_from}: {', '.join(known)}",
            )
        if resolved in ids:
            raise InputError(
                source, option, f"'{resolved}' is listed twice", "name each layer once"
            )
        ids.append(resolved)
    if not ids:
        raise InputError(
            source,
            option,
            "no ids given",
            f"give a comma-separated list such as {','.join(known[:2])}",
        )
    return ids


def json_text(payload: Any) -> str:
    """``payload`` as indented JSON under ddrisk's one NaN/inf convention (:mod:`ddrisk._jsonnum`)."""
    return json.dumps(json_ready(payload), indent=2, ensure_ascii=False, default=json_default)


def echo_json(payload: Any) -> None:
    """Print ``payload`` as JSON (the same text :func:`write_json_record` writes)."""
    click.echo(json_text(payload))


json_output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON record here.",
)
"""``-o/--output FILE``: every command that has a JSON record can also write it to a file."""


def check_json_output(path: Path | None) -> None:
    """Refuse a bad ``--output`` path before anything is computed (one line, exit 2)."""
    if path is not None:
        from ddrisk.io.paths import check_output_path

        check_output_path(path, option="--output")


def write_json_record(path: Path, payload: Any) -> None:
    """Write the JSON record to ``path`` (the text ``--json`` prints, plus a newline)."""
    path.write_text(json_text(payload) + "\n", encoding="utf-8")


def emit_json_record(payload: Any, *, output: Path | None, as_json: bool) -> bool:
    """Write the record to ``output`` (if given) and print it (if ``as_json``).

    Returns True when the record was printed, so the caller shows nothing else.
    """
    if output is not None:
        write_json_record(output, payload)
    if as_json:
        echo_json(payload)
    return as_json


def fail(error: InputError) -> None:
    """Print a one-line error and exit 2 (no traceback)."""
    click.echo(f"ddrisk: error: {error}", err=True)
    sys.exit(error.exit_code)


def lazy(import_path: str) -> Callable[[], Any]:
    module, _, name = import_path.partition(":")

    def load() -> Any:
        return getattr(__import__(module, fromlist=[name]), name)

    return load
