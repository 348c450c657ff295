"""How far raters agree: Krippendorff's alpha, Fleiss' kappa, pairwise and per-cell agreement.

The statistics come from well-kept packages: ``krippendorff`` (alpha; ordinal on the level scale
not prone < unclear < prone, interval on stated probabilities; blank cells are missing data) and
``statsmodels`` (Fleiss' kappa, which needs every cell rated by the same raters, so it uses the
cells every rater rated and says how many).

Every panel-wide statistic has a percentile bootstrap interval over cells: the cells are the
units raters judged, so resampling them (with replacement, seeded numpy PCG64) asks how the
statistic would vary over another matrix of the same kind. Per-cell disagreement has an interval
from resampling the raters of that cell instead (the only thing that varies within one cell);
with a handful of raters that interval is coarse, and it says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from ddrisk import defaults
from ddrisk.__version__ import __version__
from ddrisk.raters.model import LEVEL_ORDER, RaterPanel

DEFAULT_BOOTSTRAP = defaults.BOOTSTRAP_REPLICATES
DEFAULT_CONFIDENCE = defaults.CONFIDENCE
LEVEL_DOMAIN = (0.0, 1.0, 2.0)
_METHOD = (
    "Krippendorff's alpha (package krippendorff; ordinal on not_prone < unclear < prone, "
    "interval on stated probabilities; blank cells missing), Fleiss' kappa (statsmodels; cells "
    "every rater rated), pairwise share of identical levels and pairwise ordinal alpha; "
    "percentile bootstrap over cells (numpy PCG64, seeded); per-cell intervals resample that "
    "cell's raters"
)


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval; ``value`` None when not estimable (``note``)."""

    value: float | None
    low: float | None
    high: float | None
    n_units: int
    note: str = ""
    exact: bool = False
    """True when every resample gives ``value`` (unanimous raters): no interval, ``note`` says why."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "interval": None if self.low is None else [self.low, self.high],
            "n_units": self.n_units,
            "note": self.note,
        }

    def text(self, digits: int = 2) -> str:
        if self.value is None:
            return f"not estimable ({self.note})" if self.note else "not estimable"
        out = f"{self.value:.{digits}f}"
        if self.low is not None and self.high is not None:
            out += f" [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return out

    def text_noted(self, digits: int = 2) -> str:
        """:meth:`text`, plus the note of an exact value, for places with no note column."""
        out = self.text(digits)
        return f"{out} ({self.note})" if self.exact and self.value is not None else out


def _require(module: str) -> Any:
    """Import an optional statistics package, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        from ddrisk.errors import DdriskError

        raise DdriskError(
            f"rater agreement needs the '{module.split('.')[0]}' package: "
            "pip install 'ddrisk[raters]'"
        ) from None


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def krippendorff_alpha(data: np.ndarray, *, level: Literal["ordinal", "interval"]) -> float | None:
    """Alpha of a raters x units matrix (NaN = missing) or None when not defined.

    Not defined when fewer than one unit has two values, or when every value is the same
    (no variation to agree about).
    """
    krippendorff = _require("krippendorff")
    pairable = np.sum(np.isfinite(data), axis=0) >= 2
    if not pairable.any():
        return None
    values = data[:, pairable]
    finite = values[np.isfinite(values)]
    if np.unique(finite).size < 2:
        return None
    domain = LEVEL_DOMAIN if level == "ordinal" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alpha = krippendorff.alpha(
            reliability_data=values, level_of_measurement=level, value_domain=domain
        )
    return _finite(alpha)


def fleiss_kappa(data: np.ndarray) -> tuple[float | None, int]:
    """Fleiss' kappa over the units every rater rated (statsmodels); returns (kappa, units)."""
    sm_fleiss = _require("statsmodels.stats.inter_rater").fleiss_kappa
    complete = np.all(np.isfinite(data), axis=0)
    n_units = int(complete.sum())
    if n_units == 0:
        return None, 0
    codes = data[:, complete].T.astype(int)
    table = np.stack([(codes == k).sum(axis=1) for k in range(len(LEVEL_DOMAIN))], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = sm_fleiss(table, method="fleiss")
    return _finite(kappa), n_units


def pair_share(a: np.ndarray, b: np.ndarray) -> tuple[float | None, int]:
    """Share of co-rated units on which two raters give the same value."""
    both = np.isfinite(a) & np.isfinite(b)
    n = int(both.sum())
    if n == 0:
        return None, 0
    return float(np.mean(a[both] == b[both])), n


def _bootstrap(
    statistic: Callable[[np.ndarray], float | None],
    data: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
    confidence: float,
) -> tuple[float | None, float | None, int]:
    """Percentile interval of ``statistic`` over column (cell) resamples; skips undefined ones."""
    n_units = data.shape[1]
    values = []
    for _ in range(n_boot):
        sample = data[:, rng.integers(0, n_units, n_units)]
        value = statistic(sample)
        if value is not None:
            values.append(value)
    if len(values) < max(10, n_boot // 2):
        return None, None, len(values)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high), len(values)


def _unanimous(data: np.ndarray) -> bool:
    """True when no column holds two different (non-missing) values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(data, axis=0) - np.nanmin(data, axis=0) if data.size else np.zeros(0)
    return not np.any(spread[np.isfinite(spread)] > 0)


def _estimate(
    statistic: Callable[[np.ndarray], float | None],
    data: np.ndarray,
    *,
    n_units: int,
    n_boot: int,
    rng: np.random.Generator,
    confidence: float,
    undefined: str,
    unanimous: str | None = None,
) -> Estimate:
    """Value and bootstrap interval; ``unanimous`` (a note) marks data that cannot vary.

    When the raters agree on every unit the statistic uses, every resample gives the same
    value, so "1.00 [1.00, 1.00]" would dress up a plain fact as an estimate: the value is
    reported exact, with the note. The bootstrap still runs so that the seeded generator
    reaches the statistics after this one in the same state.
    """
    value = statistic(data)
    if value is None:
        return Estimate(None, None, None, n_units, undefined)
    if n_boot == 0:
        return Estimate(value, None, None, n_units, "no bootstrap asked for")
    low, high, used = _bootstrap(statistic, data, n_boot=n_boot, rng=rng, confidence=confidence)
    if unanimous is not None:
        return Estimate(value, None, None, n_units, unanimous, exact=True)
    note = (
        "" if low is not None else f"interval not estimable ({used} of {n_boot} resamples defined)"
    )
    if low is not None and used < n_boot:
        note = f"{n_boot - used} of {n_boot} resamples undefined and skipped"
    return Estimate(value, low, high, n_units, note)


@dataclass(frozen=True)
class PairAgreement:
    rater_a: str
    rater_b: str
    share_identical: Estimate
    alpha_ordinal: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "rater_a": self.rater_a,
            "rater_b": self.rater_b,
            "share_identical": self.share_identical.to_dict(),
            "alpha_ordinal": self.alpha_ordinal.to_dict(),
        }


@dataclass(frozen=True)
class CellDisagreement:
    """How the raters split on one cell."""

    technique: str
    failure_mode: str
    levels: dict[str, str | None]  # rater -> level (None blank)
    probabilities: dict[str, float | None]
    counts: dict[str, int]
    n_rated: int
    disagreement: Estimate  # share of rater pairs giving different levels
    probability_range: tuple[float, float] | None

    @property
    def split(self) -> bool:
        return sum(1 for n in self.counts.values() if n) > 1

    @property
    def how(self) -> str:
        """``"2 prone / 1 not_prone"``: the split in words (most frequent level first)."""
        parts = sorted(((n, k) for k, n in self.counts.items() if n), key=lambda x: (-x[0], x[1]))
        text = " / ".join(f"{n} {k}" for n, k in parts) or "no ratings"
        if (
            self.probability_range is not None
            and self.probability_range[0] != self.probability_range[1]
        ):
            text += f"; p {self.probability_range[0]:g}-{self.probability_range[1]:g}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "failure_mode": self.failure_mode,
            "levels": self.levels,
            "probabilities": self.probabilities,
            "counts": self.counts,
            "n_rated": self.n_rated,
            "split": self.split,
            "how": self.how,
            "disagreement": self.disagreement.to_dict(),
            "probability_range": None
            if self.probability_range is None
            else list(self.probability_range),
        }


def _pair_disagreement_columns(data: np.ndarray) -> np.ndarray:
    """Per column: share of pairs of non-missing values that differ (NaN with < 2 values)."""
    counts = np.stack([np.sum(data == k, axis=0) for k in LEVEL_DOMAIN])
    n = counts.sum(axis=0).astype(float)
    same = np.sum(counts * (counts - 1), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= 2, 1.0 - same / (n * (n - 1)), np.nan)


def _pair_disagreement(values: np.ndarray) -> float | None:
    """Share of pairs of (non-missing) values that differ; None with fewer than 2 values."""
    value = float(_pair_disagreement_columns(values.reshape(-1, 1))[0])
    return None if np.isnan(value) else value


def _mean_cell_disagreement(data: np.ndarray) -> float | None:
    values = _pair_disagreement_columns(data)
    defined = values[np.isfinite(values)]
    return float(defined.mean()) if defined.size else None


@dataclass(frozen=True)
class AgreementResult:
    """Agreement of a panel of raters on one catalog."""

    catalog: dict[str, str]
    raters: tuple[str, ...]
    input_sha256: str
    n_boot: int
    seed: int
    confidence: float
    alpha_ordinal: Estimate
    alpha_interval: Estimate
    fleiss_kappa: Estimate
    mean_cell_disagreement: Estimate
    pairs: tuple[PairAgreement, ...]
    cells: tuple[CellDisagreement, ...]
    method: str = _METHOD

    def split_cells(self) -> list[CellDisagreement]:
        """Cells the raters split on, most disagreement first."""
        split = [c for c in self.cells if c.split]
        return sorted(
            split, key=lambda c: (-(c.disagreement.value or 0.0), c.technique, c.failure_mode)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "ddrisk.raters.agreement/1",
            "ddrisk_version": __version__,
            "catalog": self.catalog,
            "raters": list(self.raters),
            "input_sha256": self.input_sha256,
            "settings": {"n_boot": self.n_boot, "seed": self.seed, "confidence": self.confidence},
            "method": self.method,
            "alpha_ordinal": self.alpha_ordinal.to_dict(),
            "alpha_interval": self.alpha_interval.to_dict(),
            "fleiss_kappa": self.fleiss_kappa.to_dict(),
            "mean_cell_disagreement": self.mean_cell_disagreement.to_dict(),
            "pairs": [p.to_dict() for p in self.pairs],
            "cells": [c.to_dict() for c in self.cells],
            "split_cells": [f"{c.technique}:{c.failure_mode}" for c in self.split_cells()],
        }

    def pairs_frame(self) -> pd.DataFrame:
        """Rater x rater matrix of the share of identical levels (diagonal 1)."""
        frame = pd.DataFrame(
            np.eye(len(self.raters)), index=list(self.raters), columns=list(self.raters)
        )
        for pair in self.pairs:
            value = np.nan if pair.share_identical.value is None else pair.share_identical.value
            frame.loc[pair.rater_a, pair.rater_b] = value
            frame.loc[pair.rater_b, pair.rater_a] = value
        return frame

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: the split and its disagreement interval."""
        return pd.DataFrame(
            [
                {
                    "technique": c.technique,
                    "failure_mode": c.failure_mode,
                    "n_rated": c.n_rated,
                    "how": c.how,
                    "disagreement": c.disagreement.value,
                    "low": c.disagreement.low,
                    "high": c.disagreement.high,
                    **{f"level:{r}": c.levels[r] for r in self.raters},
                }
                for c in self.cells
            ]
        )


def rater_agreement(
    panel: RaterPanel,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = defaults.SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> AgreementResult:
    """Agreement statistics of ``panel`` with seeded bootstrap intervals.

    Parameters
    ----------
    n_boot
        Bootstrap resamples (0: point values only).
    seed
        Seed of the numpy generator; the same seed gives the same intervals.
    confidence
        Coverage of the percentile intervals.
    """
    if n_boot < 0:
        raise ValueError("n_boot must be >= 0")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    rng = np.random.default_rng(seed)
    levels = panel.level_codes()
    probabilities = panel.stated_probabilities()
    n_cells = levels.shape[1]

    def fleiss_only(data: np.ndarray) -> float | None:
        return fleiss_kappa(data)[0]

    everyone_agrees = "all raters agree on every co-rated cell"
    levels_agree = everyone_agrees if _unanimous(levels) else None
    complete = np.all(np.isfinite(levels), axis=0)
    kappa_agree = levels_agree or (
        "all raters agree on every cell they all rated" if _unanimous(levels[:, complete]) else None
    )

    alpha_ordinal = _estimate(
        lambda d: krippendorff_alpha(d, level="ordinal"),
        levels,
        n_units=int(np.sum(np.sum(np.isfinite(levels), axis=0) >= 2)),
        undefined="no cell rated by two raters, or no variation in levels",
        unanimous=levels_agree,
        n_boot=n_boot,
        rng=rng,
        confidence=confidence,
    )
    prob_units = int(np.sum(np.sum(np.isfinite(probabilities), axis=0) >= 2))
    alpha_interval = _estimate(
        lambda d: krippendorff_alpha(d, level="interval"),
        probabilities,
        n_units=prob_units,
        undefined="fewer than one cell with two stated probabilities, or no variation",
        unanimous=(
            "all raters state the same probability on every co-rated cell"
            if _unanimous(probabilities)
            else None
        ),
        n_boot=n_boot,
        rng=rng,
        confidence=confidence,
    )
    kappa_units = fleiss_kappa(levels)[1]
    kappa = _estimate(
        fleiss_only,
        levels,
        n_units=kappa_units,
        undefined="no cell rated by every rater, or no variation",
        unanimous=kappa_agree,
        n_boot=n_boot,
        rng=rng,
        confidence=confidence,
    )
    mean_split = _estimate(
        _mean_cell_disagreement,
        levels,
        n_units=n_cells,
        undefined="no cell rated by two raters",
        n_boot=n_boot,
        rng=rng,
        confidence=confidence,
    )
    if mean_split.value == 0.0:
        # Every resample of cells that never split is 0 too: "0.00 [0.00, 0.00]" would dress
        # up a plain fact as an estimate.
        mean_split = Estimate(0.0, None, None, n_cells, everyone_agrees, exact=True)
    pairs = []
    raters = panel.rater_ids
    for a, b in combinations(range(len(raters)), 2):
        sub = levels[[a, b], :]
        pair_agrees = "the two agree on every co-rated cell" if _unanimous(sub) else None
        share = _estimate(
            lambda d: pair_share(d[0], d[1])[0],
            sub,
            n_units=pair_share(sub[0], sub[1])[1],
            undefined="no cell rated by both",
            unanimous=pair_agrees,
            n_boot=n_boot,
            rng=rng,
            confidence=confidence,
        )
        alpha = _estimate(
            lambda d: krippendorff_alpha(d, level="ordinal"),
            sub,
            n_units=pair_share(sub[0], sub[1])[1],
            undefined="no co-rated cell, or no variation",
            unanimous=pair_agrees,
            n_boot=n_boot,
            rng=rng,
            confidence=confidence,
        )
        pairs.append(PairAgreement(raters[a], raters[b], share, alpha))
    cells = []
    for c, (technique, mode) in enumerate(panel.cells):
        column = levels[:, c]
        rated = np.isfinite(column)
        counts = {lv.value: int(np.sum(column == code)) for code, lv in enumerate(LEVEL_ORDER)}
        value = _pair_disagreement(column)
        if value is None:
            estimate = Estimate(None, None, None, int(rated.sum()), "fewer than 2 raters rated it")
        elif n_boot == 0:
            estimate = Estimate(value, None, None, int(rated.sum()), "no bootstrap asked for")
        else:
            present = column[rated]
            resamples = present[rng.integers(0, present.size, (n_boot, present.size))].T
            draws = _pair_disagreement_columns(resamples)
            tail = (1.0 - confidence) / 2.0
            low, high = np.quantile(draws, [tail, 1.0 - tail])
            estimate = Estimate(
                value,
                float(low),
                float(high),
                int(rated.sum()),
                f"bootstrap over this cell's {present.size} raters; coarse with few raters",
            )
        probs = probabilities[:, c]
        stated = probs[np.isfinite(probs)]
        cells.append(
            CellDisagreement(
                technique,
                mode,
                {
                    r: None if not rated[i] else LEVEL_ORDER[int(column[i])].value
                    for i, r in enumerate(raters)
                },
                {
                    r: None if not np.isfinite(probs[i]) else float(probs[i])
                    for i, r in enumerate(raters)
                },
                counts,
                int(rated.sum()),
                estimate,
                None if stated.size == 0 else (float(stated.min()), float(stated.max())),
            )
        )
    provenance = panel.provenance()
    return AgreementResult(
        catalog=provenance["catalog"],
        raters=raters,
        input_sha256=provenance["input_sha256"],
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
        alpha_ordinal=alpha_ordinal,
        alpha_interval=alpha_interval,
        fleiss_kappa=kappa,
        mean_cell_disagreement=mean_split,
        pairs=tuple(pairs),
        cells=tuple(cells),
    )
