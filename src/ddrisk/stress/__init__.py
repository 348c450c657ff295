"""Empirical correlated stress testing of real safety layers.

Public face (names load their module on first use, so importing :mod:`ddrisk.stress`
stays cheap):

* :func:`run_experiment` runs (or resumes) an experiment; :func:`analyze_run` computes
  every statistic of a stored run or an :class:`OutcomeMatrix`.
* :class:`Item`, :class:`Verdict` and the :class:`Layer` protocol are the contract a
  layer meets; :class:`RunOptions`, :class:`RunResult`, :class:`RunStore` and
  :class:`VerdictCache` are the runner and its storage; :class:`StressAnalysis` is the
  typed result of the statistics.
* :func:`calibrate_layers` and :class:`CalibratedLayer` set operating points at a
  false-block rate; the defaults live in :mod:`ddrisk.stress.defaults`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "run_experiment": "ddrisk.stress.experiment",
    "analyze_run": "ddrisk.stress.experiment",
    "RunInterrupted": "ddrisk.stress.experiment",
    "Item": "ddrisk.stress.layer",
    "Verdict": "ddrisk.stress.layer",
    "Layer": "ddrisk.stress.layer",
    "OutcomeMatrix": "ddrisk.stress.matrix",
    "RunOptions": "ddrisk.stress.runner",
    "RunResult": "ddrisk.stress.runner",
    "RunStore": "ddrisk.stress.store",
    "VerdictCache": "ddrisk.stress.store",
    "StressDataset": "ddrisk.stress.datasets",
    "StressAnalysis": "ddrisk.stress.statistics",
    "CalibratedLayer": "ddrisk.stress.calibration",
    "CalibrationPlan": "ddrisk.stress.calibration",
    "calibrate_layers": "ddrisk.stress.calibration",
    "DEFAULT_N_BOOTSTRAP": "ddrisk.stress.defaults",
    "DEFAULT_SEED": "ddrisk.stress.defaults",
    "DEFAULT_TARGET_FALSE_BLOCK_RATE": "ddrisk.stress.defaults",
}

__all__ = [
    "DEFAULT_N_BOOTSTRAP",
    "DEFAULT_SEED",
    "DEFAULT_TARGET_FALSE_BLOCK_RATE",
    "CalibratedLayer",
    "CalibrationPlan",
    "Item",
    "Layer",
    "OutcomeMatrix",
    "RunInterrupted",
    "RunOptions",
    "RunResult",
    "RunStore",
    "StressAnalysis",
    "StressDataset",
    "Verdict",
    "VerdictCache",
    "analyze_run",
    "calibrate_layers",
    "run_experiment",
]

if TYPE_CHECKING:
    from ddrisk.stress.calibration import CalibratedLayer, CalibrationPlan, calibrate_layers
    from ddrisk.stress.defaults import (
        DEFAULT_N_BOOTSTRAP,
        DEFAULT_SEED,
        DEFAULT_TARGET_FALSE_BLOCK_RATE,
    )
    from ddrisk.stress.experiment import RunInterrupted, analyze_run, run_experiment
    from ddrisk.stress.items import StressDataset
    from ddrisk.stress.layer import Item, Layer, Verdict
    from ddrisk.stress.matrix import OutcomeMatrix
    from ddrisk.stress.runner import RunOptions, RunResult
    from ddrisk.stress.statistics import StressAnalysis
    from ddrisk.stress.store import RunStore, VerdictCache


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ddrisk.stress' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
