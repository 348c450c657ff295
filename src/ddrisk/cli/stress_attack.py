"""``ddrisk stress attack``: adaptive attacks against each layer and against the whole stack.

With no options it runs the default adaptive experiment offline: the built-in
layers, harmful behaviors from the default stress data, every available operator,
a beam search of 30 queries per behavior and target, then prints the summary.
``--resume`` finishes an interrupted attack; ``--show ATTACK`` re-analyses a
stored one; ``--list-operators`` documents the operators.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ddrisk.cli._common import (
    echo_json,
    items_file_option,
    json_option,
    layers_file_option,
    renamed_option,
    resume_option,
    runs_dir_option,
    take_renamed,
)
from ddrisk.errors import InputError
from ddrisk.stress.attack.api import AttackRequest
from ddrisk.stress.attack.search import STRATEGIES
from ddrisk.stress.attack.statistics import DEFAULT_BOOTSTRAP

#: Every option's default is the API's (one default per setting).
DEFAULTS = AttackRequest()


class _RichProgress:
    """One rich bar per phase, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _RichProgress:
        self.bars.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.__exit__(None, None, None)

    def add(self, name: str, total: int, done: int) -> None:
        self.tasks[name] = self.bars.add_task(name, total=total, completed=done)

    def advance(self, name: str, n: int = 1) -> None:
        self.bars.advance(self.tasks[name], n)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts or None


@click.command("attack")
@items_file_option(
    "Items file (.jsonl/.csv); its harmful items are the behaviors. Default: built-in data."
)
@click.option(
    "--families",
    default=None,
    metavar="F1,F2",
    help="Attack only these families (default data: harmful_direct; own data: all harmful).",
)
@layers_file_option("Layers YAML (input side). Default: the built-in offline layers.")
@runs_dir_option
@resume_option("attack")
@click.option(
    "--show",
    "show",
    default=None,
    metavar="ATTACK",
    help="Analyse a stored attack (id, folder or 'latest') without running anything.",
)
@click.option(
    "--limit",
    "limit",
    type=click.IntRange(min=1),
    default=DEFAULTS.limit,
    show_default=True,
    help="Behaviors to attack (seeded, balanced over families).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=DEFAULTS.budget,
    show_default=True,
    help="Queries per behavior and target (the original prompt counts as one).",
)
@click.option(
    "--beam-width",
    type=click.IntRange(min=1),
    default=DEFAULTS.beam_width,
    show_default=True,
    help="Candidates kept at each depth of the beam search.",
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=0),
    default=DEFAULTS.max_depth,
    show_default=True,
    help="Most operators composed in one attack.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULTS.batch_size,
    show_default=True,
    help="Queries sent per layer call (a search stops after the batch with its first success).",
)
@click.option(
    "--strategy",
    type=click.Choice(sorted(STRATEGIES)),
    default=DEFAULTS.strategy,
    show_default=True,
    help="beam: score-guided beam search (see README); random: random compositions (baseline).",
)
@click.option(
    "--operators",
    "operator_names",
    default=None,
    metavar="OP1,OP2",
    help="Operators to search over (default: all available; see --list-operators).",
)
@click.option(
    "--operators-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML/JSON file adding your own operators (module:function or compositions).",
)
@click.option("--list-operators", is_flag=True, help="Describe the operators and exit.")
@click.option("--no-stack", is_flag=True, help="Skip the search against the whole stack.")
@click.option(
    "--no-per-layer", is_flag=True, help="Skip the per-layer searches and the transfer replay."
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULTS.seed,
    show_default=True,
    help="Seeds sampling, operators, search, bootstrap.",
)
@click.option("--no-cache", is_flag=True, help="Ignore and do not fill the verdict cache.")
@click.option(
    "--target-url",
    default=None,
    metavar="URL",
    help="OpenAI-compatible base URL of a target model to put in the loop (e.g. http://127.0.0.1:8000/v1).",
)
@click.option("--target-model", default=None, help="Model name at --target-url.")
@click.option(
    "--target-api-key-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding the target's API key (never stored).",
)
@click.option(
    "--target-max-tokens",
    type=click.IntRange(min=1),
    default=DEFAULTS.target_max_tokens,
    show_default=True,
)
@click.option(
    "--target-system-prompt", default=None, help="System prompt sent to the target model."
)
@click.option(
    "--output-layers-file",
    "output_layers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=take_renamed,
    help="Layers YAML judging the target model's answers (needs --target-url).",
)
@renamed_option("--output-layers", dest="output_layers_path")
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=0),
    default=DEFAULT_BOOTSTRAP,
    show_default=True,
    help="Cluster-bootstrap replicates over behaviors.",
)
@click.option(
    "--counts-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write adaptive counts for 'ddrisk risk --counts'.",
)
@click.option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the attack figures (PNG and SVG) here.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@json_option
def attack(**options: Any) -> None:
    """Search for prompts that get past each layer and the whole stack, then measure transfer.

    Black-box: the search sees verdicts and scores, not weights. Without a target
    model it measures input-side layers only.
    """
    from ddrisk.stress.attack.api import (
        AttackRequest,
        describe_operators,
        run_attack_request,
        show_attack,
    )

    as_json = options["as_json"]
    if options["list_operators"]:
        rows = describe_operators(operators_file=options["operators_file"])
        if as_json:
            echo_json(rows)
        else:
            from rich.console import Console

            from ddrisk.report.attack_sections import render_operators

            width = None if sys.stdout.isatty() else 160
            render_operators(rows, console=Console(highlight=False, soft_wrap=True, width=width))
        return
    if options["show"] is not None:
        analysis, manifest = show_attack(
            options["show"], runs_dir=options["runs_dir"], n_bootstrap=options["n_bootstrap"]
        )
        _finish(analysis, manifest, None, options)
        return
    progress_wanted = not options["quiet"] and not as_json and sys.stderr.isatty()
    request = AttackRequest(
        data_path=options["data_path"],
        families=_split(options["families"]),
        layers_path=options["layers_path"],
        runs_dir=options["runs_dir"],
        resume=options["resume"],
        limit=options["limit"],
        budget=options["budget"],
        beam_width=options["beam_width"],
        max_depth=options["max_depth"],
        batch_size=options["batch_size"],
        strategy=options["strategy"],
        operator_names=_split(options["operator_names"]),
        operators_file=options["operators_file"],
        stack=not options["no_stack"],
        per_layer=not options["no_per_layer"],
        seed=options["seed"],
        use_cache=not options["no_cache"],
        target_url=options["target_url"],
        target_model=options["target_model"],
        target_api_key_env=options["target_api_key_env"],
        target_max_tokens=options["target_max_tokens"],
        target_system_prompt=options["target_system_prompt"],
        output_layers_path=options["output_layers_path"],
        argv=tuple(sys.argv[1:]),
    )
    try:
        if progress_wanted:
            with _RichProgress() as bars:
                run, analysis, manifest = run_attack_request(
                    request, progress=bars, n_bootstrap=options["n_bootstrap"]
                )
        else:
            run, analysis, manifest = run_attack_request(
                request, n_bootstrap=options["n_bootstrap"]
            )
    except InputError as error:
        raise _as_command_line_error(error) from None
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted; every finished batch is stored. Resume with: ddrisk stress attack --resume"
            f" --runs-dir {options['runs_dir']}",
            err=True,
        )
        sys.exit(130)
    _finish(analysis, manifest, run, options)


def _as_command_line_error(error: InputError) -> InputError:
    """The API names its parameters; a user of this command needs its options."""
    if error.source == "<parameters>" and error.where == "output_layers_path":
        return InputError(
            "<command line>",
            "--output-layers-file",
            error.problem,
            "give --target-url and --target-model, or drop --output-layers-file",
        )
    if error.where == "layer_specs":
        fix = "resume with --layers-file (and --output-layers-file) naming the original files"
        return InputError(error.source, error.where, error.problem, fix)
    return error


def _finish(analysis: Any, manifest: dict[str, Any], run: Any, options: dict[str, Any]) -> None:
    import json

    written: list[str] = []
    if options["counts_out"] is not None:
        path: Path = options["counts_out"]
        path.write_text(json.dumps(analysis.counts_for_risk(), indent=2) + "\n", encoding="utf-8")
        written.append(f"counts {path} (use: ddrisk risk --counts {path})")
    if options["figures_dir"] is not None:
        from ddrisk.report.attack_figures import save_attack_figures

        written += [f"figure {p}" for p in save_attack_figures(analysis, options["figures_dir"])]
    if options["as_json"]:
        payload = {"analysis": analysis.to_dict(), "manifest_attack": manifest.get("attack")}
        if run is not None:
            payload["run"] = run.to_dict()
        if written:
            payload["written"] = written
        echo_json(payload)
        return
    from ddrisk.report.attack_sections import render_attack_terminal

    render_attack_terminal(analysis, manifest, run=None if run is None else run.to_dict())
    for line in written:
        click.echo(f"wrote {line}")


__all__ = ["attack"]
