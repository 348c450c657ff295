"""The ``ddrisk`` command line: a thin layer over the public API.

Each command module parses options, calls the same functions a Python user
would, and renders the result. Errors raised on purpose (:class:`InputError`)
become one line on stderr and exit status 2.
"""

from __future__ import annotations

import click

from ddrisk import __version__
from ddrisk.cli._common import fail
from ddrisk.errors import DdriskError, InputError


class _Group(click.Group):
    """A group that turns ddrisk's own errors into one-line messages."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except InputError as error:
            fail(error)
        except DdriskError as error:
            click.echo(f"ddrisk: error: {error}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddrisk")
def main() -> None:
    """Is this defense in depth really deep, or do its layers fail together?

    Catalog commands read the technique x failure-mode matrix (default: the
    built-in Dung & Mai 2025 catalog); analysis, risk and stress commands
    compute from it or from measured safety layers.
    """


def _register() -> None:
    from ddrisk.cli import analyze_cmd, catalog_cmds, report_cmd, risk_cmds, stress_cmds

    for command in (
        catalog_cmds.schema,
        catalog_cmds.validate,
        catalog_cmds.show,
        catalog_cmds.crosswalk,
        analyze_cmd.analyze,
        risk_cmds.risk,
        risk_cmds.optimize,
        risk_cmds.export,
        stress_cmds.stress,
        report_cmd.report,
    ):
        main.add_command(command)


_register()
