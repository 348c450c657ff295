"""``ddrisk stress analyze``: joint-failure statistics of a stored run or an imported log.

RUN is a run folder, a run id under ``--runs-dir`` (or ``latest``), or a result file
of another tool: a garak ``report.jsonl``, promptfoo JSON output, or an inspect_ai
``.json``/``.eval`` log. ``--from`` names the format; by default a file's format is
recognised from its content.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from ddrisk.cli._common import echo_json, json_option, parse_id_list, runs_dir_option
from ddrisk.errors import InputError
from ddrisk.report.escape import terminal_text as esc
from ddrisk.report.rates import observed_text, prefixed_rate_text, rate_text
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


# ---------------------------------------------------------------------------- rendering
def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _ci(row: dict[str, Any], name: str, digits: int = 2) -> str:
    if row.get(name + "_estimable") is False:
        return "not estimable"
    lo, hi = row.get(name + "_lo"), row.get(name + "_hi")
    return f"{_num(row.get(name), digits)} [{_num(lo, digits)}, {_num(hi, digits)}]"


def _triple(value: dict[str, Any], digits: int = 3) -> str:
    if value.get("estimable") is False:
        return "not estimable"
    lo, hi = _num(value.get("lo"), digits), _num(value.get("hi"), digits)
    return f"{_num(value.get('estimate'), digits)} [{lo}, {hi}]"


def _family_observed(row: dict[str, Any], confidence: float) -> str:
    return rate_text(
        row["all_miss_k"],
        row["n"],
        estimate=row["observed"],
        lo=row["observed_lo"],
        hi=row["observed_hi"],
        confidence=confidence,
        upper_bound=row.get("upper_bound"),
    )


def render_analysis(data: dict[str, Any], *, console: Any, max_master_keys: int = 5) -> None:
    """Print the rich summary of :meth:`StressAnalysis.to_dict` output."""
    from rich.table import Table

    params, source = data["parameters"], data["input"]
    level = f"{params['confidence'] * 100:g} %"
    confidence = params["confidence"]
    console.print(
        f"[bold]stress analysis[/bold] of {esc(source['run_id'])} ({esc(source['source'])}): "
        f"{source['n_items']} items ({source['n_harmful']} harmful, {source['n_benign']} benign), "
        f"{len(source['layers'])} layers, {source['n_clusters_harmful']} clusters of harmful "
        f"items (shared behavior or template); "
        f"{level} intervals, {params['n_bootstrap']} cluster-bootstrap replicates, "
        f"seed {params['seed']}"
    )
    console.print(
        f"input sha256 {esc(source['input_sha256'][:16])}; errors are excluded from every rate"
    )
    for name, reason in source.get("unavailable_layers", {}).items():
        console.print(
            f"[bold]unavailable[/bold] layer {esc(name)}: {esc(reason)} (not in these statistics)"
        )

    table = Table(
        title="per layer (cluster-aware Wilson intervals; k = 0 shown as a one-sided bound)",
        show_edge=False,
    )
    for column in ("layer", "miss on harmful", "false block on benign", "no verdict"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in data["layers"]:
        table.add_row(
            esc(row["layer"]),
            prefixed_rate_text(row, "miss", confidence=confidence),
            prefixed_rate_text(row, "false_block", confidence=confidence),
            str(row["miss_errors"] + row["false_block_errors"]),
        )
    console.print(table)

    if data["pairs"]:
        table = Table(title="pairs on harmful items (cluster-bootstrap intervals)", show_edge=False)
        for column in (
            "A",
            "B",
            "n",
            "both miss",
            "phi",
            "Yule's Q",
            "lift",
            "lift within families",
            "P(B|A) vs P(B)",
        ):
            table.add_column(column, justify="left" if column in ("A", "B") else "right")
        for row in data["pairs"]:
            table.add_row(
                esc(row["layer_a"]),
                esc(row["layer_b"]),
                str(row["n"]),
                str(row["both_miss"]),
                _ci(row, "phi"),
                _ci(row, "yule_q"),
                _ci(row, "lift"),
                _ci(row, "lift_stratified"),
                f"{_num(row['p_b_given_a'], 2)} vs {_num(row['p_b'], 2)}",
            )
        console.print(table)

    stack = data["stack"]
    all_miss = stack["all_miss"]
    table = Table(title="the stack: every layer misses (harmful items)", show_edge=False)
    for column in ("", "all-miss rate", "lift (observed / predicted)"):
        table.add_column(column, justify="left" if not column else "right")
    observed = observed_text(all_miss, confidence=confidence)
    table.add_row("observed", observed, "")
    table.add_row(
        "independence, pooled",
        _triple(stack["independence_pooled"]),
        _triple(stack["lift_pooled"], 2),
    )
    table.add_row(
        "independence, stratified by family",
        _triple(stack["independence_stratified"]),
        _triple(stack["lift_stratified"], 2),
    )
    console.print(table)
    if stack["excluded_for_errors"]:
        console.print(
            f"({stack['excluded_for_errors']} harmful items without every verdict left out)"
        )

    if data["stack_by_family"]:
        table = Table(
            title="per family: all-miss observed vs independence within the family", show_edge=False
        )
        for column in ("family", "n", "observed", "independence", "lift"):
            table.add_column(column, justify="left" if column == "family" else "right")
        for row in data["stack_by_family"]:
            table.add_row(
                esc(row["family"]),
                str(row["n"]),
                _family_observed(row, confidence),
                _num(row["independence"]),
                _ci(row, "lift"),
            )
        console.print(table)

    table = Table(title="k of n: P(at least k layers miss)", show_edge=False)
    for column in ("k", "observed", "independence pooled", "independence stratified"):
        table.add_column(column, justify="right")
    for row in data["k_of_n"]:
        table.add_row(
            str(row["k"]),
            _ci(row, "observed", 3),
            _num(row["independence_pooled"]),
            _num(row["independence_stratified"]),
        )
    console.print(table)

    benign = data["benign_stack"]
    any_block = benign["any_block"]
    if any_block["n"]:
        console.print(
            f"benign blocked by any layer: {observed_text(any_block, confidence=confidence)}; "
            "independence 1 - prod(1 - fpr) predicts "
            f"{_triple(benign['independence_pooled'])} pooled, "
            f"{_triple(benign['independence_stratified'])} stratified"
        )
    else:
        console.print("benign blocked by any layer: no benign items with every verdict")

    keys = data["master_keys"]
    console.print(f"[bold]master keys[/bold] (harmful items that pass every layer): {len(keys)}")
    for row in keys[:max_master_keys]:
        console.print(
            f"  {esc(row['item_id'])}  family={esc(row['family'])}  "
            f"behavior={esc(row['behavior_id'])}"
        )
    if len(keys) > max_master_keys:
        console.print(f"  ... {len(keys) - max_master_keys} more (--json lists them all)")

    table = Table(title="marginal value: all-miss rate without the layer", show_edge=False)
    for column in ("layer", "without", "rise", "items only it blocks"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in data["marginal_value"]:
        table.add_row(
            esc(row["layer"]),
            _num(row["all_miss_without"]),
            _ci(row, "rise", 3),
            str(row["unique_blocks"]),
        )
    console.print(table)

    resistance = data["alignment_metrics"]["jailbreak_resistance"]["rows"]
    if resistance:
        families = sorted({r["family"] for r in resistance})
        layers = [row["layer"] for row in data["layers"]]
        table = Table(
            title="jailbreak resistance per family (share of harmful items blocked)",
            show_edge=False,
        )
        table.add_column("family")
        for layer in [*layers, "stack"]:
            table.add_column(esc(layer), justify="right")
        cells = {
            (r["family"], r["layer"] if r["scope"] == "layer" else "stack"): r for r in resistance
        }
        for fam in families:
            values = []
            for layer in [*layers, "stack"]:
                cell = cells.get((fam, layer))
                values.append(
                    rate_text(
                        cell["k_blocked"],
                        cell["n"],
                        estimate=cell["resistance"],
                        lo=cell.get("lo"),
                        hi=cell.get("hi"),
                        confidence=confidence,
                        lower_bound=cell.get("lower_bound"),
                        digits=2,
                    )
                    if cell and cell["n"]
                    else "-"
                )
            table.add_row(esc(fam), *values)
        console.print(table)

    for warning in data["warnings"]:
        console.print(
            f"[yellow]warning[/yellow] {esc(warning['subject'])}: {esc(warning['message'])}"
        )


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
    default="family",
    show_default=True,
    help="promptfoo/inspect: metadata key of the family.",
)
@click.option(
    "--behavior-key",
    default="behavior_id",
    show_default=True,
    help="promptfoo/inspect: metadata key of the behavior.",
)
@click.option(
    "--harmful-key",
    default="harmful",
    show_default=True,
    help="promptfoo/inspect: metadata key of the label.",
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
    family_key: str,
    behavior_key: str,
    harmful_key: str,
    as_json: bool,
) -> None:
    """Do the layers fail on the same inputs? Per-layer rates, pairs, the stack, master keys.

    RUN: a run folder, a run id under --runs-dir (or 'latest'), or a garak report.jsonl,
    promptfoo JSON output or inspect_ai .json/.eval log; several result files of one tool
    (several garak reports, say) are read as one.
    """
    from rich.console import Console

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
        chosen = parse_id_list(layer_list, option="--layers", known=list(matrix.layers))
        matrix = matrix.select_layers(chosen)
    analysis = analyze_run(matrix, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence)
    data = analysis.to_dict()
    written: list[str] = []
    if catalog_out is not None:
        from ddrisk.catalog import dump_catalog

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


__all__ = ["analyze", "load_matrix", "render_analysis", "sniff_format"]
