"""The two entry points of a stress experiment: :func:`run_experiment` and :func:`analyze_run`.

The CLI (``ddrisk stress run`` / ``analyze``), the report and Python users all go
through these, so a run started anywhere can be resumed anywhere and every
statistic uses the same defaults (:data:`DEFAULT_N_BOOTSTRAP`, :data:`DEFAULT_SEED`).

``run_experiment`` builds (or, with ``resume``, reopens) a run, sets the operating
points (calibration of scored layers to a false-block rate on a benign split
disjoint from the test items, the default for the built-in experiment), fills
every missing verdict and returns a :class:`~ddrisk.stress.runner.RunResult`
whose ``status`` says whether the run measured every layer. ``analyze_run``
turns a stored run (or any :class:`OutcomeMatrix`) into a
:class:`~ddrisk.stress.statistics.StressAnalysis`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from ddrisk.errors import InputError
from ddrisk.stress.calibration import (
    DEFAULT_TARGET_FALSE_BLOCK_RATE,
    CalibrationPlan,
    apply_plan,
    calibrate_layers,
)
from ddrisk.stress.items import StressDataset
from ddrisk.stress.layer import Item, Layer
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.runner import RunOptions, RunResult, prepare_run, resume_stress
from ddrisk.stress.statistics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_BOOTSTRAP,
    DEFAULT_SEED,
    StressAnalysis,
    analyze_outcomes,
)
from ddrisk.stress.store import DEFAULT_RUNS_DIR, RunRecord, RunStore, VerdictCache

__all__ = [
    "DEFAULT_N_BOOTSTRAP",
    "DEFAULT_SEED",
    "DEFAULT_TARGET_FALSE_BLOCK_RATE",
    "RunInterrupted",
    "analyze_run",
    "run_experiment",
]

#: ``calibrate="default"``: calibrate when the dataset ships a calibration split.
_DEFAULT = "default"


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted; every finished batch is stored and ``run_dir`` can resume."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir


def _specs_and_layers(
    layers: Sequence[Layer] | Sequence[Mapping[str, Any]] | str | Path | None,
    *,
    store: RunStore,
) -> tuple[list[dict[str, Any]], list[Layer]]:
    from ddrisk.stress.config import (
        DEFAULT_LAYER_SPECS,
        build_layers,
        load_layer_specs,
        redact_specs,
    )

    if layers is None:
        specs, source = [dict(s) for s in DEFAULT_LAYER_SPECS], "built-in default layers"
    elif isinstance(layers, str | Path):
        specs, source = load_layer_specs(layers), str(layers)
    elif all(isinstance(entry, Mapping) for entry in layers):
        specs, source = [dict(entry) for entry in layers], "layers"  # type: ignore[arg-type]
    else:
        return [], cast(list[Layer], list(layers))
    built = build_layers(specs, source=source, artifact_dir=store.cache_dir)
    return redact_specs(specs), built


def _calibrated(
    layers: list[Layer],
    calibration_items: Sequence[Item],
    *,
    target: float,
    split_name: str,
    store: RunStore,
    options: RunOptions,
) -> tuple[list[Layer], CalibrationPlan]:
    cache = VerdictCache(store.cache_dir / "verdicts.sqlite") if options.use_cache else None
    try:
        return calibrate_layers(
            layers,
            calibration_items,
            target_false_block_rate=target,
            split_name=split_name,
            cache=cache,
            batch_size=options.batch_size,
        )
    finally:
        if cache is not None:
            cache.close()


def run_experiment(
    *,
    data: StressDataset | str | Path | None = None,
    layers: Sequence[Layer] | Sequence[Mapping[str, Any]] | str | Path | None = None,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    resume: str | Path | bool | None = None,
    limit: int | None = None,
    seed: int = DEFAULT_SEED,
    options: RunOptions | None = None,
    calibrate: float | str | None = _DEFAULT,
    calibration_items: Sequence[Item] | None = None,
    argv: Sequence[str] | None = None,
) -> RunResult:
    """Run (or resume) a stress experiment and return what happened.

    Parameters
    ----------
    data
        Items: a :class:`StressDataset`, a JSONL/CSV file, or ``None`` for the built-in
        default experiment (which ships a benign calibration split).
    layers
        Layer objects, layer entries (dicts), a layers YAML file, or ``None`` for the
        five built-in offline layers.
    runs_dir
        Folder of runs and of the shared verdict cache.
    resume
        ``True`` resumes the latest unfinished run, a run id or folder resumes that
        run; ``data`` and ``limit`` must then be left out. ``layers`` may be given
        again (needed when the stored entries had secrets removed, or for objects).
    limit, seed
        A family-balanced slice of ``limit`` items; the seed of item sampling.
    options
        Concurrency, batch size, cache use, progress bars.
    calibrate
        Target false-block rate for scored layers (e.g. 0.05), ``None`` to run every
        layer at its own threshold, or ``"default"``: 0.05 when a calibration split
        exists (the built-in experiment's, or ``calibration_items``), else none.
    calibration_items
        Benign items for calibration (must be disjoint from the test items).

    Returns
    -------
    RunResult
        ``status`` is ``complete``, ``no_layer_available`` or ``layer_failed``;
        ``ok`` is false for the latter two.

    Raises
    ------
    InputError
        Bad parameters or files; a resumed run whose layers changed.
    RunInterrupted
        On Ctrl-C, naming the run folder to resume.
    """
    options = options or RunOptions()
    store = RunStore(runs_dir)
    if resume not in (None, False):
        if data is not None or limit is not None:
            raise InputError(
                "run_experiment",
                "resume",
                "data and limit cannot change a started run",
                "leave data and limit out when resuming",
            )
        return _resume(resume, layers=layers, store=store, options=options)

    if data is None:
        from ddrisk.stress.datasets import load_default_dataset

        dataset = load_default_dataset(seed=seed)
    elif isinstance(data, StressDataset):
        dataset = data
    else:
        from ddrisk.stress.datasets import load_items_file

        dataset = load_items_file(data)
    dataset = dataset.sliced(limit, seed=seed)
    specs, built = _specs_and_layers(layers, store=store)
    split = list(calibration_items) if calibration_items is not None else list(dataset.calibration)
    if calibrate == _DEFAULT:
        target: float | None = DEFAULT_TARGET_FALSE_BLOCK_RATE if split else None
    elif calibrate is None:
        target = None
    else:
        target = float(calibrate)
        if not split:
            raise InputError(
                "run_experiment",
                "calibrate",
                "no calibration split: the dataset has none and calibration_items is empty",
                "pass benign calibration_items, or calibrate=None",
            )
    plan = None
    run_layers: list[Layer] = list(built)
    if target is not None:
        test_texts = {item.text_sha256 for item in dataset.items}
        if any(item.text_sha256 in test_texts for item in split):
            raise InputError(
                "run_experiment",
                "calibration_items",
                "some calibration items are also test items",
                "calibrate on benign items kept apart from the test items",
            )
        run_layers, plan = _calibrated(
            run_layers,
            split,
            target=target,
            split_name=f"{dataset.name} calibration",
            store=store,
            options=options,
        )
    run_dir = prepare_run(
        dataset=dataset,
        layers=run_layers,
        layer_specs=specs,
        store=store,
        options=options,
        seed=seed,
        limit=limit,
        argv=list(argv) if argv is not None else sys.argv[1:],
        calibration=plan.to_dict() if plan is not None else None,
    )
    return _execute(run_dir, run_layers, store=store, options=options, resumed=False)


def _resume(
    resume: str | Path | bool,
    *,
    layers: Sequence[Layer] | Sequence[Mapping[str, Any]] | str | Path | None,
    store: RunStore,
    options: RunOptions,
) -> RunResult:
    from ddrisk.stress.config import build_layers, specs_have_redactions

    if resume is True:
        found = store.latest_unfinished()
        if found is None:
            raise InputError(
                str(store.runs_dir),
                "resume",
                "no unfinished run to resume",
                "start a run first, or name the run to resume",
            )
        run_dir = found
    else:
        run_dir = store.resolve(str(resume))
    record = RunRecord(run_dir)
    try:
        stored_specs = record.layer_specs
        calibration = record.manifest.get("calibration")
    finally:
        record.close()
    if layers is None:
        if not stored_specs:
            raise InputError(
                str(run_dir),
                "layers",
                "the run was started with layer objects, which are not stored",
                "pass the same layers again",
            )
        if specs_have_redactions(stored_specs):
            raise InputError(
                str(run_dir),
                "layer_specs",
                "the stored layers had secret values removed",
                "pass the original layers file again",
            )
        built = build_layers(
            stored_specs, source=f"{run_dir} (stored layers)", artifact_dir=store.cache_dir
        )
    else:
        _, built = _specs_and_layers(layers, store=store)
    if calibration:
        built = apply_plan(built, CalibrationPlan.from_dict(calibration))
    return _execute(run_dir, built, store=store, options=options, resumed=True)


def _execute(
    run_dir: Path, layers: list[Layer], *, store: RunStore, options: RunOptions, resumed: bool
) -> RunResult:
    try:
        return resume_stress(run_dir, layers=layers, store=store, options=options, resumed=resumed)
    except KeyboardInterrupt as interrupt:
        raise RunInterrupted(run_dir) from interrupt


def analyze_run(
    run: str | Path | OutcomeMatrix,
    *,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    layers: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
) -> StressAnalysis:
    """Every statistic of a stored run (id, folder or ``latest``) or of an outcome matrix.

    ``layers`` restricts the analysis to a subset (in that order). The defaults are the
    package's single defaults, so the CLI, the report and the API agree to the digit.
    """
    from ddrisk.stress.store import load_outcomes

    matrix = run if isinstance(run, OutcomeMatrix) else load_outcomes(run, runs_dir=runs_dir)
    if not matrix.layers:
        raise InputError(
            str(run) if not isinstance(run, OutcomeMatrix) else matrix.source,
            None,
            "the run has no layer verdicts (no layer was available)",
            "run at least one available layer",
        )
    if layers is not None:
        unknown = [name for name in layers if name not in matrix.layers]
        if unknown:
            raise InputError(
                "analyze_run",
                "layers",
                f"unknown layer(s) {unknown}",
                f"use some of: {', '.join(matrix.layers)}",
            )
        matrix = matrix.select_layers(list(layers))
    return analyze_outcomes(matrix, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence)
