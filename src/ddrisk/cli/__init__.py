"""The ``ddrisk`` command line: a thin layer over the public API.

Each command module parses options, calls the same functions a Python user would, and renders
the result. Commands are loaded lazily (only the one being run is imported), so ``ddrisk
--help`` and ``ddrisk --version`` start without importing numpy, pandas or scipy. Errors raised
on purpose (:class:`InputError`) become one line on stderr and exit status 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ddrisk.__version__ import __version__

# name -> "module:attribute"; the help line is kept here so listing commands imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "show": (
        "ddrisk.cli.catalog_cmds:show",
        "Print a catalog as a table, Markdown, CSV, JSON or LaTeX.",
    ),
    "validate": (
        "ddrisk.cli.catalog_cmds:validate",
        "Check catalog files; one located line per problem.",
    ),
    "schema": ("ddrisk.cli.catalog_cmds:schema", "Print the catalog JSON Schema."),
    "crosswalk": (
        "ddrisk.cli.catalog_cmds:crosswalk",
        "Write failure-mode crosswalks as SSSOM TSV.",
    ),
    "analyze": (
        "ddrisk.cli.analyze_cmd:analyze",
        "Structural analysis: overlap, groups, coverage, priorities.",
    ),
    "risk": ("ddrisk.cli.risk_cmds:risk", "P(every layer fails) under named dependence models."),
    "optimize": (
        "ddrisk.cli.optimize_cmd:optimize",
        "The stack that minimises P(stack fails) under a budget.",
    ),
    "export": ("ddrisk.cli.risk_cmds:export", "Export a stack as an Open-PSA MEF fault tree."),
    "audit": (
        "ddrisk.cli.audit_cmd:audit",
        "Audit a deployed safety stack described in a stack file.",
    ),
    "raters": (
        "ddrisk.cli.raters_cmds:raters",
        "Several raters: templates, agreement, pooling, comparison.",
    ),
    "stress": (
        "ddrisk.cli.stress_cmds:stress",
        "Run safety layers on shared attack and benign sets.",
    ),
    "report": (
        "ddrisk.cli.report_cmd:report",
        "Write a self-contained HTML, Markdown or JSON report.",
    ),
}


def load_command(import_path: str) -> click.Command:
    module_name, _, attribute = import_path.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
        raise TypeError(f"{import_path} is not a click command")
    return command


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used, and that turns ddrisk's
    own errors into one-line messages (exit 2 for bad input, 1 otherwise)."""

    def __init__(
        self, *args: Any, lazy_commands: dict[str, tuple[str, str]] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            return load_command(self.lazy_commands[cmd_name][0])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy_commands:
                rows.append((name, self.lazy_commands[name][1]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=formatter.width - 6)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; usage errors come out in ddrisk's one-line style with exit status 2.

        click's own format is a usage block plus ``Error: ...``; here every mistake on the command
        line reads like a bad file does: ``ddrisk: error: <where>: <problem>; fix: <what to do>``.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else "ddrisk"
            message = error.format_message().replace("\n", " ").rstrip(".")
            click.echo(
                f"ddrisk: error: {where}: {message}; fix: see '{where} --help'",
                err=True,
            )
            sys.exit(2)
        except click.ClickException as error:
            click.echo(f"ddrisk: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("ddrisk: aborted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        from ddrisk.errors import DdriskError, InputError

        try:
            return super().invoke(ctx)
        except InputError as error:
            from ddrisk.cli._common import fail

            fail(error)
        except DdriskError as error:
            click.echo(f"ddrisk: error: {error}", err=True)
            ctx.exit(1)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "DDRISK"},
)
@click.version_option(__version__, prog_name="ddrisk")
def main() -> None:
    """Is this defense in depth really deep, or do its layers fail together?

    Catalog commands read the technique x failure-mode matrix (default: the
    built-in Dung & Mai 2025 catalog); analysis, risk and stress commands
    compute from it or from measured safety layers.
    """
