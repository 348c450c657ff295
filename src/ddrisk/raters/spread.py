"""Expert disagreement as uncertainty in the risk model.

Each cell of the stack becomes a distribution over the raters who rated it (equal weight per
rater: :class:`~ddrisk.risk.distributions.EmpiricalDistribution`), and the risk model's own Monte
Carlo propagation (:func:`ddrisk.risk.propagation.propagate_uncertainty`) turns those into an
interval for P(stack fails). A rater's value for a cell is the probability they stated, or their
level's default probability when they gave only a level. Cells draw independently of each
other (a draw may take one rater's view of one cell and another rater's of the next); each
rater's own whole-matrix P(stack fails) is reported next to it, so a reader sees both readings.
Cells no rater rated keep the reference pooled catalog's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ddrisk import defaults
from ddrisk.__version__ import __version__
from ddrisk.raters.model import RaterPanel
from ddrisk.raters.pooling import DEFAULT_RULE, POOLING_RULES, pool_ratings, rater_catalog

if TYPE_CHECKING:
    from ddrisk.risk.parameters import RiskParameters
    from ddrisk.risk.propagation import UncertaintyResult

DEFAULT_DRAWS = defaults.UNCERTAINTY_DRAWS


@dataclass(frozen=True)
class DisagreementRisk:
    """P(stack fails) with an interval from rater disagreement, and each rater's own value."""

    stack: tuple[str, ...]
    uncertainty: UncertaintyResult
    by_rater: dict[str, float]
    by_rule: dict[str, float]
    reference_rule: str
    input_sha256: str

    @property
    def interval(self) -> tuple[float, float]:
        summary = self.uncertainty.summary()["probability"]
        return summary["p05"], summary["p95"]

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "format": "ddrisk.raters.spread/1",
            "ddrisk_version": __version__,
            "stack": list(self.stack),
            "method": "each stack cell's p is a distribution over the raters who rated it "
            "(equal weight; stated probability or the level's default), propagated by "
            "ddrisk.risk.propagate_uncertainty (exact engine per draw; cells independent)",
            "reference_rule": self.reference_rule,
            "input_sha256": self.input_sha256,
            "probability_p05_p95": [low, high],
            "probability_by_rater": self.by_rater,
            "probability_by_rule": self.by_rule,
            "uncertainty": self.uncertainty.to_dict(),
        }


def disagreement_uncertainty(
    panel: RaterPanel,
    stack: Sequence[str],
    *,
    params: RiskParameters | None = None,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = defaults.SEED,
    reference_rule: str = DEFAULT_RULE,
) -> DisagreementRisk:
    """Propagate the raters' spread on every cell of ``stack`` to P(stack fails)."""
    from ddrisk.risk.distributions import EmpiricalDistribution
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.parameters import RiskParameters, Setting, resolve_parameters
    from ddrisk.risk.propagation import propagate_uncertainty

    params = params or RiskParameters()
    level_p = {level: setting.value.mean for level, setting in params.p_levels.items()}
    reference = pool_ratings(panel, rule=reference_rule).catalog
    spread: dict[tuple[str, str], Setting] = {}
    for technique in stack:
        for mode in panel.catalog.failure_mode_ids:
            if (technique, mode) in params.p_cells:
                continue  # an explicit override wins over the raters
            values = []
            for r in range(len(panel.files)):
                rating = panel.rating(r, (technique, mode))
                if rating is None or rating.effective_level is None:
                    continue
                values.append(
                    float(rating.probability)
                    if rating.probability is not None
                    else level_p[rating.effective_level]
                )
            if values:
                spread[(technique, mode)] = Setting(
                    EmpiricalDistribution(tuple(values), label="raters"),
                    f"rater files ({', '.join(panel.rater_ids)})",
                    f"{technique}:{mode}",
                )
    with_spread = replace(params, p_cells={**params.p_cells, **spread})
    resolved = resolve_parameters(reference, list(stack), with_spread)
    uncertainty = propagate_uncertainty(resolved, n_draws=n_draws, seed=seed, engine="exact")

    def probability(catalog: Any) -> float:
        model = resolve_parameters(catalog, list(stack), params).model
        return float(compute_stack_failure(model, engine="exact").probability)

    by_rater = {rid: probability(rater_catalog(panel, rid)) for rid in panel.rater_ids}
    by_rule = {rule: probability(pool_ratings(panel, rule=rule).catalog) for rule in POOLING_RULES}
    return DisagreementRisk(
        tuple(stack), uncertainty, by_rater, by_rule, reference_rule, panel.input_hash()
    )
