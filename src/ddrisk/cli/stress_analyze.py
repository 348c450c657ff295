"""``ddrisk stress analyze``: joint-failure statistics of a stored run or an imported log.

RUN is a run folder, a run id under ``--runs-dir`` (or ``latest``), or a result file
of another tool: a garak ``report.jsonl``, promptfoo JSON output, or an inspect_ai
``.json``/``.eval`` log. ``--from`` names the format; by default a file's format is
recognised from its content.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ddrisk.cli._common import (
    _finite_number,
    echo_json,
    json_option,
    parse_id_list,
    runs_dir_option,
)
from ddrisk.errors import InputError
from ddrisk.report.escape import terminal_text as esc
from ddrisk.stress.defaults import DEFAULT_CONFIDENCE, DEFAULT_N_BOOTSTRAP, DEFAULT_SEED

FORMATS = ("auto", "run", "garak", "promptfoo", "inspect")


def sniff_format(path: Path) -> str:
    """Recognise a result file (the registry is :func:`ddrisk.io.outcomes.detect_format`)."""
    from ddrisk.io.outcomes import detect_format

    return detect_format(path)


def load_matrix(
    run: str | tuple[str, ...],
    *,
    fmt: str,
    runs_dir: Path,
    import_options: dict[str, Any],
) -> Any:
    """The outcome matrix behind RUN: a stored run, or one or several imported files."""
    from ddrisk.io.documents import check_usable_path

    runs = (run,) if isinstance(run, str) else tuple(run)
    paths = [check_usable_path(one) for one in runs]
    if fmt == "run" or (fmt == "auto" and len(runs) == 1 and not paths[0].is_file()):
        if len(runs) > 1:
            raise InputError(
                "<command line>",
                "RUN",
                "several stored runs cannot be analysed as one",
                "pass one run id, or several result files of one tool",
            )
        try:
            from ddrisk.stress.store import load_outcomes
        except ImportError:  # pragma: no cover - the store ships with ddrisk
            raise InputError(
                runs[0], None, "the run store is not installed", "import a file with --from"
            ) from None
        return load_outcomes(runs[0], runs_dir=runs_dir)
    for one, path in zip(runs, paths, strict=True):
        if not path.is_file():
            what = "result file" if fmt == "auto" else f"{fmt} result file"
            raise InputError(one, None, "no such file", f"pass the {what}")
    from ddrisk.io.outcomes import read_outcomes

    return read_outcomes(paths, format=fmt, **import_options)


def _check_outputs(
    catalog_out: Path | None, counts_out: Path | None, figures_dir: Path | None
) -> None:
    """A bad output path is one line now, not a traceback after the whole analysis."""
    from ddrisk.io.paths import check_output_folder, check_output_path

    if catalog_out is not None:
        check_output_path(catalog_out, option="--catalog-out", suffixes=(".yaml", ".yml", ".json"))
    if counts_out is not None:
        check_output_path(counts_out, option="--counts-out")
    if figures_dir is not None:
        check_output_folder(figures_dir, option="--figures")


@click.command("analyze")
@click.argument("run", nargs=-1, required=True, metavar="RUN...")
@click.option(
    "--from",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="What RUN is: a stored run, or a garak/promptfoo/inspect result file "
    "(auto: recognise it).",
)
@runs_dir_option
@click.option(
    "--layers",
    "layer_list",
    default=None,
    metavar="A,B,...",
    help="Analyse only these layers (e.g. the detectors that judged the same items).",
)
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Cluster-bootstrap seed."
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=0),
    default=DEFAULT_N_BOOTSTRAP,
    show_default=True,
    help="Cluster-bootstrap replicates (0: no intervals for pairs and stack).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 0.999),
    callback=_finite_number,
    default=DEFAULT_CONFIDENCE,
    show_default=True,
    help="Interval level.",
)
@click.option(
    "--catalog-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the measured layer x family miss-rate matrix as a catalog (.yaml or .json).",
)
@click.option(
    "--counts-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write per-layer and joint miss counts for `ddrisk risk --counts` (JSON, keyed by the "
    "--catalog-out technique ids).",
)
@click.option(
    "--prone-threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    callback=_finite_number,
    default=0.5,
    show_default=True,
    help="Miss rate that makes a catalog cell 'prone' (when the whole interval clears it).",
)
@click.option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write PNG figures (phi heatmap, k-of-n curve, family heatmap) into this folder.",
)
@click.option(
    "--threshold",
    type=float,
    callback=_finite_number,
    default=0.5,
    show_default=True,
    help="garak/inspect: score threshold.",
)
@click.option(
    "--benign-probe",
    "benign_probes",
    multiple=True,
    help="garak: probe (or module) whose prompts are benign.",
)
@click.option(
    "--family-from", default=None, help="garak: probe, probe_module, goal, intent or notes:KEY."
)
@click.option(
    "--behavior-from", default=None, help="garak: attempt, prompt, goal, intent or notes:KEY."
)
@click.option(
    "--score-means",
    type=click.Choice(["correct", "blocked"]),
    default="correct",
    show_default=True,
    help="inspect: a passing score means right behaviour, or that the layer blocked.",
)
@click.option(
    "--invert", multiple=True, help="inspect: scorer whose high values mean the attack succeeded."
)
@click.option(
    "--family-key",
    default=None,
    help="promptfoo/inspect: metadata key of the family [default: family; a key named here must be in some record].",
)
@click.option(
    "--behavior-key",
    default=None,
    help="promptfoo/inspect: metadata key of the behavior [default: behavior_id; a key named here must be in some record].",
)
@click.option(
    "--harmful-key",
    default=None,
    help="promptfoo/inspect: metadata key of the label [default: harmful; a key named here must be in some record].",
)
@json_option
def analyze(
    run: tuple[str, ...],
    fmt: str,
    runs_dir: Path,
    layer_list: str | None,
    seed: int,
    n_bootstrap: int,
    confidence: float,
    catalog_out: Path | None,
    counts_out: Path | None,
    prone_threshold: float,
    figures_dir: Path | None,
    threshold: float,
    benign_probes: tuple[str, ...],
    family_from: str | None,
    behavior_from: str | None,
    score_means: str,
    invert: tuple[str, ...],
    family_key: str | None,
    behavior_key: str | None,
    harmful_key: str | None,
    as_json: bool,
) -> None:
    """Do the layers fail on the same inputs? Per-layer rates, pairs, the stack, master keys.

    RUN: a run folder, a run id under --runs-dir (or 'latest'), or a garak report.jsonl,
    promptfoo JSON output or inspect_ai .json/.eval log; several result files of one tool
    (several garak reports, say) are read as one.
    """
    from rich.console import Console

    from ddrisk.report.stress_terminal import render_analysis
    from ddrisk.stress.experiment import analyze_run
    from ddrisk.stress.statistics import counts_for_risk, empirical_catalog

    import_options = {
        "threshold": threshold,
        "benign_probes": benign_probes,
        "family_from": family_from,
        "behavior_from": behavior_from,
        "score_means": score_means,
        "invert": invert,
        "family_key": family_key,
        "behavior_key": behavior_key,
        "harmful_key": harmful_key,
    }
    _check_outputs(catalog_out, counts_out, figures_dir)  # before any reading or bootstrap
    matrix = load_matrix(run, fmt=fmt, runs_dir=runs_dir, import_options=import_options)
    source = " + ".join(run)
    if not matrix.layers:
        raise InputError(
            source, None, "the run has no layer verdicts", "run at least one available layer"
        )
    if layer_list is not None:
        chosen = parse_id_list(
            layer_list, option="--layers", known=list(matrix.layers), known_from="the input"
        )
        matrix = matrix.select_layers(chosen)
    analysis = analyze_run(matrix, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence)
    data = analysis.to_dict()
    written: list[str] = []
    if catalog_out is not None:
        from ddrisk.io.catalog import dump_catalog

        if not matrix.harmful.any():
            raise InputError(
                source, None, "no harmful items, so no attack family to rate", "drop --catalog-out"
            )
        catalog = empirical_catalog(matrix, prone_threshold=prone_threshold, confidence=confidence)
        fmt_out = "json" if catalog_out.suffix.lower() == ".json" else "yaml"
        catalog_out.write_text(dump_catalog(catalog, fmt=fmt_out), encoding="utf-8")
        written.append(f"catalog {catalog_out} ({catalog.label})")
    if counts_out is not None:
        counts = counts_for_risk(matrix, catalog_ids=True)
        counts_out.write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
        written.append(f"counts {counts_out}")
    if figures_dir is not None:
        from ddrisk.report.stress_figures import save_stress_figures

        written += [f"figure {p}" for p in save_stress_figures(analysis, figures_dir)]
    if as_json:
        if written:
            data["written"] = written
        echo_json(data)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    render_analysis(data, console=console)
    for line in written:
        console.print(f"wrote {esc(line)}")


__all__ = ["analyze", "load_matrix", "sniff_format"]
