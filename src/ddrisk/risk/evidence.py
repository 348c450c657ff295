"""Stress-test evidence: counts, their validation, and the Beta posteriors they give.

Stress-test counts update Beta priors (:func:`parse_stress_counts` validates them;
:mod:`ddrisk.io.counts` reads the file format; :func:`apply_stress_counts` puts the posteriors
into a :class:`~ddrisk.risk.parameters.RiskParameters`), so measured evidence and expert
judgment meet in one model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError
from ddrisk.risk.distributions import BetaDistribution, Distribution, FixedValue
from ddrisk.risk.parameters import RiskParameters, Setting, _resolve_id


# ---------------------------------------------------------------------------- Beta posteriors
@dataclass(frozen=True)
class StressCounts:
    """``failures`` of ``n`` harmful items got past a layer (or past all layers, for joint)."""

    failures: int
    n: int
    mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"failures": self.failures, "n": self.n}
        if self.mode is not None:
            out["mode"] = self.mode
        return out


@dataclass(frozen=True)
class StressCountsFile:
    """Per-layer counts and optional joint (all layers missed together) counts."""

    layers: Mapping[str, StressCounts]
    joint: StressCounts | None = None
    source: str = "<counts>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layers": {layer: counts.to_dict() for layer, counts in self.layers.items()},
            "joint": None if self.joint is None else self.joint.to_dict(),
        }


def beta_posterior(prior: BetaDistribution, failures: int, n: int) -> BetaDistribution:
    """Conjugate update: Beta(a + k, b + n - k).

    >>> beta_posterior(BetaDistribution(1, 1), 3, 10).spec
    'beta(4, 8)'
    """
    if n < 0 or failures < 0 or failures > n:
        raise ValueError(f"need 0 <= failures <= n, got {failures} of {n}")
    return BetaDistribution(prior.a + failures, prior.b + (n - failures))


def prior_as_beta(prior: Distribution, *, strength: float = 2.0) -> tuple[BetaDistribution, str]:
    """Express an expert judgment as a Beta prior, saying how.

    A Beta stays as it is. A fixed value ``v`` becomes a Beta with mean ``v`` worth
    ``strength`` pseudo-observations (``a = strength v``, ``b = strength (1 - v)``):
    a point judgment states no confidence, so by default it counts as two items.
    Other distributions are matched by mean and variance.

    >>> prior_as_beta(FixedValue(0.25))[0].spec
    'beta(0.5, 1.5)'
    """
    if isinstance(prior, BetaDistribution):
        return prior, "given Beta prior"
    mean = min(max(prior.mean, 1e-9), 1 - 1e-9)
    if prior.is_degenerate:
        return BetaDistribution(strength * mean, strength * (1 - mean)), (
            f"point value as a Beta of mean {mean:g} worth {strength:g} pseudo-observations"
        )
    draws = prior.ppf((np.arange(4000) + 0.5) / 4000)
    variance = float(np.var(draws))
    total = mean * (1 - mean) / variance - 1 if variance > 0 else strength
    total = max(total, 1e-6)
    return BetaDistribution(
        mean * total, (1 - mean) * total
    ), f"{prior.spec} matched by mean and variance"


def joint_posterior(
    counts: StressCounts, *, prior: BetaDistribution | None = None
) -> BetaDistribution:
    """Posterior of P(all layers miss) from joint counts (Jeffreys Beta(0.5, 0.5) prior by default)."""
    return beta_posterior(prior or BetaDistribution(0.5, 0.5), counts.failures, counts.n)


MAX_COUNT = 10**12
"""Largest item count accepted: far above any stress test, small enough to stay exact in floats."""


def _counts_entry(value: Any, *, source: str, where: str) -> StressCounts:
    if not isinstance(value, Mapping):
        raise InputError(
            source,
            where,
            "expected a mapping with 'failures' and 'n'",
            'write {"failures": k, "n": n}',
        )
    unknown = set(value) - {"failures", "n", "mode"}
    if unknown:
        raise InputError(
            source, f"{where}.{sorted(unknown)[0]}", "unknown key", "use only failures, n and mode"
        )
    for key in ("failures", "n"):
        if key not in value:
            raise InputError(source, where, f"missing '{key}'", 'write {"failures": k, "n": n}')
        count = value[key]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InputError(
                source, f"{where}.{key}", f"{count!r} is not a count", "use a whole number >= 0"
            )
        if count > MAX_COUNT:
            raise InputError(
                source,
                f"{where}.{key}",
                f"a {len(str(count))}-digit count is more than any stress test ran",
                f"use a whole number from 0 to {MAX_COUNT:.0e}",
            )
    if value["failures"] > value["n"]:
        raise InputError(
            source,
            where,
            f"failures {value['failures']} > n {value['n']}",
            "failures cannot exceed n",
        )
    mode = value.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise InputError(
            source, f"{where}.mode", "expected a failure-mode id", "write the mode's id as a string"
        )
    return StressCounts(int(value["failures"]), int(value["n"]), mode)


def parse_stress_counts(data: Any, *, source: str = "<counts>") -> StressCountsFile:
    """Validate parsed stress-test counts (the format: :mod:`ddrisk.io.counts`, which reads them)."""
    if not isinstance(data, Mapping):
        raise InputError(
            source,
            None,
            "counts must be a JSON object",
            'write {"RLHF": {"failures": 12, "n": 50}}',
        )
    structured = (
        set(data) <= {"layers", "joint"}
        and isinstance(data.get("layers"), Mapping)
        and ("failures" not in data.get("layers", {}))
    )
    layer_data = data["layers"] if structured else data
    prefix = "layers." if structured else ""
    layers = {
        str(layer): _counts_entry(value, source=source, where=f"{prefix}{layer}")
        for layer, value in layer_data.items()
    }
    joint = (
        _counts_entry(data["joint"], source=source, where="joint")
        if structured and "joint" in data
        else None
    )
    if joint is not None and joint.mode is not None:
        raise InputError(source, "joint.mode", "joint counts cannot target a mode", "remove 'mode'")
    return StressCountsFile(layers=layers, joint=joint, source=source)


# ---------------------------------------------------------------------------- stress evidence
@dataclass(frozen=True)
class PosteriorUpdate:
    """One Beta update from stress-test counts: which value, prior, counts, posterior."""

    target: str
    prior: BetaDistribution
    prior_basis: str
    failures: int
    n: int
    posterior: BetaDistribution

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "prior": self.prior.spec,
            "prior_basis": self.prior_basis,
            "failures": self.failures,
            "n": self.n,
            "posterior": self.posterior.spec,
            "posterior_mean": self.posterior.mean,
        }


def apply_stress_counts(
    params: RiskParameters,
    counts: StressCountsFile,
    catalog: Catalog,
    *,
    prior_strength: float = 2.0,
) -> tuple[RiskParameters, tuple[PosteriorUpdate, ...]]:
    """Replace each counted value by its Beta posterior (prior = the current judgment).

    Layer counts update ``residual.<layer>``; counts with a ``mode`` update the
    cell ``p.cells.<layer>.<mode>``. The prior is the value the parameters would
    otherwise use, turned into a Beta by :func:`prior_as_beta`.
    """
    techniques, modes = catalog.technique_ids, catalog.failure_mode_ids
    r_layers = dict(params.r_layers)
    p_cells = dict(params.p_cells)
    updates = []
    for raw_layer, entry in counts.layers.items():
        where_setting = Setting(FixedValue(0.0), counts.source, f"layers.{raw_layer}")
        layer = _resolve_id(raw_layer, techniques, where_setting, "technique")
        if entry.mode is None:
            current = r_layers.get(layer, params.r_default).value
            target = f"residual.{layer}"
        else:
            mode = _resolve_id(
                entry.mode, modes, replace(where_setting, where=f"{raw_layer}.mode"), "failure mode"
            )
            rating = catalog.rating(layer, mode)
            if (layer, mode) in p_cells:
                current = p_cells[(layer, mode)].value
            elif rating.probability is not None:
                current = FixedValue(rating.probability)
            else:
                current = params.p_levels[rating.effective_level].value
            target = f"p.cells.{layer}.{mode}"
        prior, basis = prior_as_beta(current, strength=prior_strength)
        posterior = beta_posterior(prior, entry.failures, entry.n)
        setting = Setting(posterior, counts.source, f"{raw_layer} ({entry.failures} of {entry.n})")
        if entry.mode is None:
            r_layers[layer] = setting
        else:
            p_cells[(layer, mode)] = setting
        updates.append(PosteriorUpdate(target, prior, basis, entry.failures, entry.n, posterior))
    updated = replace(params, r_layers=r_layers, p_cells=p_cells)
    return updated, tuple(updates)
