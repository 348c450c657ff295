"""Helpers for the risk-application tests: a brute-force reference and model strategies.

The brute force enumerates every subset of failure modes; it is the test oracle only
(ddrisk's engines live in ddrisk.risk.exact / engine).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from ddrisk.risk.model import FailureModeModel

REPO = Path(__file__).resolve().parents[2]


def brute_force_probability(model: FailureModeModel) -> float:
    """P(every layer fails) by summing over all 2**M mode-occurrence patterns."""
    total = 0.0
    for pattern in itertools.product((False, True), repeat=model.n_modes):
        occurs = np.array(pattern, dtype=bool)
        weight = float(np.prod(np.where(occurs, model.q, 1.0 - model.q)))
        with np.errstate(divide="ignore"):
            log_survive = np.log1p(-model.r) + np.where(
                occurs[None, :], np.log1p(-model.p), 0.0
            ).sum(axis=1)
        total += weight * float(np.prod(-np.expm1(log_survive)))
    return total


class BruteResult:
    """Minimal stand-in for the engine's result (only .probability is read)."""

    def __init__(self, probability: float) -> None:
        self.probability = probability


def brute_evaluate(model: FailureModeModel) -> BruteResult:
    return BruteResult(brute_force_probability(model))


probabilities = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def small_models(draw, max_layers: int = 5, max_modes: int = 5) -> FailureModeModel:
    n_layers = draw(st.integers(1, max_layers))
    n_modes = draw(st.integers(1, max_modes))
    q = draw(st.lists(probabilities, min_size=n_modes, max_size=n_modes))
    cell = st.one_of(st.sampled_from([0.0, 1.0]), probabilities)
    p = [draw(st.lists(cell, min_size=n_modes, max_size=n_modes)) for _ in range(n_layers)]
    r = draw(st.lists(st.floats(0.0, 0.5), min_size=n_layers, max_size=n_layers))
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"M{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=r,
    )


def mef_schema_paths() -> list[Path]:
    """Every Open-PSA MEF RelaxNG schema available here (not shipped: SCRAM's is GPL)."""
    candidates = [
        os.environ.get("DDRISK_MEF_SCHEMA"),
        REPO.parent / "shared" / "reference" / "open-psa-mef-input.rng",
        "/usr/share/scram/input.rng",
    ]
    return [Path(c) for c in candidates if c and Path(c).is_file()]
