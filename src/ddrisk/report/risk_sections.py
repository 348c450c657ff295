"""Report section for the quantitative risk of one stack, built from the risk API's results.

:func:`risk_input_for_stack` calls the same public functions as ``ddrisk risk``
(parameter resolution, the engine, the dependence comparison, the n-layers
curve and, when available, importance measures and uncertainty) and bundles
their result objects in a :class:`RiskReportInput`. :func:`risk_sections`
only formats those objects; :mod:`ddrisk.report.risk_figures` draws the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ddrisk import defaults
from ddrisk.report.blocks import (
    Cell,
    Details,
    FigureBlock,
    FindingItem,
    KeyValues,
    Paragraph,
    Section,
    Table,
)
from ddrisk.report.number_format import significant
from ddrisk.risk.effective import EFFECTIVE_LAYERS_DEFINITION

if TYPE_CHECKING:
    from ddrisk.catalog.model import Catalog
    from ddrisk.risk.dependence import DependenceComparison, DependenceCurve
    from ddrisk.risk.parameters import ResolvedParameters, RiskParameters


_TIMINGS = frozenset({"elapsed_seconds"})
"""Run-time measurements: kept out of the report so that rebuilding it is byte-stable."""


def _sig(value: Any, digits: int = 3) -> str:
    """A number for a table: probabilities in 3 significant digits, '—' when missing.

    >>> _sig(1e-10), _sig(0.123456), _sig(None), _sig(float("inf")), _sig(2)
    ('1e-10', '0.123', '—', '∞', '2')
    """
    return significant(value, digits)


@dataclass(frozen=True)
class RiskReportInput:
    """The risk results for one stack, as the risk API returns them.

    Attributes
    ----------
    parameters
        Every number the model uses and where it comes from (``resolve_parameters``).
    result
        The engine's answer for P(stack fails) (``compute_stack_failure``).
    dependence
        All dependence models on the same marginals (``compare_dependence_models``).
    curve
        P(all fail) of the first n layers under each model (``stack_curve``).
    importance
        Importance measures per failure mode and layer, if computed.
    uncertainty
        Monte Carlo propagation of uncertain parameters, if any are uncertain.
    engine, seed
        The engine setting and seed the results were computed with.
    """

    parameters: ResolvedParameters
    result: Any
    dependence: DependenceComparison
    curve: DependenceCurve
    importance: Any = None
    uncertainty: Any = None
    engine: str = "auto"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.parameters.model.name,
            "engine": self.engine,
            "seed": self.seed,
            "parameters": self.parameters.to_dict(),
            "result": self.result.to_dict(),
            "dependence": self.dependence.to_dict(),
            "curve": self.curve.to_dict(),
            "importance": None if self.importance is None else self.importance.to_dict(),
            "uncertainty": None if self.uncertainty is None else self.uncertainty.to_dict(),
        }


def risk_input_for_stack(
    catalog: Catalog,
    stack: list[str] | tuple[str, ...],
    *,
    params: RiskParameters | None = None,
    engine: str = "auto",
    seed: int = defaults.SEED,
    n_draws: int = defaults.UNCERTAINTY_DRAWS,
) -> RiskReportInput:
    """Run :func:`~ddrisk.risk.assessment.assess_stack`, the same call as ``ddrisk risk``.

    ``n_draws`` Monte Carlo draws propagate uncertain parameters (only when some
    parameter is a distribution); ``seed`` seeds them and the sampling engine.
    """
    from ddrisk.risk.assessment import assess_stack
    from ddrisk.risk.parameters import resolve_parameters

    uncertain = bool(resolve_parameters(catalog, list(stack), params).uncertain_parameters)
    risk = assess_stack(
        catalog, stack, params=params, engine=engine, seed=seed, n_draws=n_draws if uncertain else 0
    )
    # The report asks for every part (the default), so these are always computed.
    assert risk.dependence is not None and risk.curve is not None
    return RiskReportInput(
        parameters=risk.resolved,
        result=risk.result,
        dependence=risk.dependence,
        curve=risk.curve,
        importance=risk.importance,
        uncertainty=risk.uncertainty,
        engine=engine,
        seed=seed,
    )


def risk_provenance(risk: RiskReportInput) -> dict[str, Any]:
    """Model, engine, seed and the hash of every parameter used."""
    return {
        "model": risk.parameters.model.name,
        "stack": list(risk.parameters.layers),
        "engine": risk.engine,
        "seed": risk.seed,
        "parameters_sha256": risk.parameters.parameters_hash,
        "catalog_sha256": risk.parameters.catalog_hash,
        "beta": risk.curve.beta,
        "rho": risk.curve.rho,
    }


def _caption(risk: RiskReportInput, method: str | None) -> str:
    p = risk_provenance(risk)
    parts = [
        f"model: {p['model']}",
        f"engine {p['engine']}" + (f" ({method})" if method else ""),
        f"stack {'+'.join(p['stack'])}",
        f"parameters sha256:{p['parameters_sha256']}",
        f"beta {p['beta']:g}",
        f"rho {p['rho']:g}",
        f"seed {p['seed']}",
        f"catalog {risk.parameters.catalog_label.split(' ')[0]} sha256:{p['catalog_sha256']}",
    ]
    return " · ".join(parts)


def _parameter_text(name: str | None, value: float | None) -> str:
    """How a dependence model's parameter reads in the table.

    >>> _parameter_text("beta", 0.1), _parameter_text("q, p, r", None), _parameter_text(None, None)
    ('beta = 0.1', 'q, p, r (listed below)', '—')
    """
    if name is None:
        return "—"
    if value is None:
        return f"{name} (listed below)"
    return f"{name} = {_sig(value)}"


_COLUMN_TITLES = {
    "p_if_impossible": "P if impossible",
    "p_if_certain": "P if certain",
    "birnbaum": "Birnbaum",
    "fussell_vesely": "Fussell-Vesely",
    "risk_achievement_worth": "RAW",
    "risk_reduction_worth": "RRW",
}


def _frame_table(frame: pd.DataFrame, caption: str, provenance: str) -> Table:
    """A result frame as a table, values in 3 significant digits and known columns titled."""
    rows = [[Cell(_sig(v)) for v in record] for record in frame.itertuples(index=False, name=None)]
    columns = [_COLUMN_TITLES.get(str(c), str(c).replace("_", " ")) for c in frame.columns]
    return Table(caption, columns, rows, provenance)


_OUTPUT_LABELS = {
    "probability": "P(stack fails)",
    "penalty": "correlation penalty (× independence)",
    "effective_layers": "effective independent layers",
}


def _uncertainty_blocks(uncertainty: Any, provenance: str) -> list[Any]:
    """Percentiles of the three outputs and the tornado, from ``UncertaintyResult``."""
    data = uncertainty.to_dict()
    caption = f"{provenance} · {data['n_draws']} draws, seed {data['seed']}"
    rows = [
        [Cell(label), *(Cell(_sig(data[key].get(stat))) for stat in ("p05", "p50", "mean", "p95"))]
        for key, label in _OUTPUT_LABELS.items()
        if key in data
    ]
    tornado = [
        [
            Cell(row["parameter"]),
            Cell(row["spec"]),
            Cell(f"{_sig(row['input_p05'])} to {_sig(row['input_p95'])}"),
            Cell(
                f"{_sig(row['probability_at_input_p05'])} to {_sig(row['probability_at_input_p95'])}"
            ),
            Cell(_sig(row["swing"])),
            Cell(_sig(row["spearman"], 2)),
        ]
        for row in data["tornado"]
    ]
    return [
        Paragraph(
            f"Uncertain inputs propagated by Monte Carlo ({data['method']}). The point value "
            f"is {_sig(data['point_probability'])}."
        ),
        Table(
            "Uncertainty: percentiles of each output",
            ["output", "5th", "median", "mean", "95th"],
            rows,
            caption,
        ),
        Table(
            "Tornado: how far each uncertain input alone moves P(stack fails)",
            [
                "parameter",
                "distribution",
                "input 5th to 95th",
                "P(stack fails)",
                "swing",
                "Spearman",
            ],
            tornado,
            caption,
        ),
    ]


def _method(risk: RiskReportInput) -> str | None:
    """Which engine and exact/sampling method produced P(stack fails), e.g. ``exact: dp``."""
    result = risk.result.to_dict()
    return f"{result.get('engine')}: {result.get('method')}" if result.get("method") else None


def _headline_text(risk: RiskReportInput) -> str:
    result = risk.result.to_dict()
    n_layers = len(risk.parameters.layers)
    probability = _sig(result["probability"])
    if result.get("interval_95"):
        low, high = result["interval_95"]
        probability += f" (95 % interval {_sig(low)} to {_sig(high)})"
    text = (
        f"P(stack fails) = {probability} under the failure-mode model, against "
        f"{_sig(result['independence_prediction'])} if the {n_layers} layers failed "
        f"independently: a correlation penalty of {_sig(result['correlation_penalty'])}× and "
        f"{_sig(result['effective_layers'])} effective independent layers out of {n_layers} "
        f"({EFFECTIVE_LAYERS_DEFINITION})."
    )
    if result.get("note"):
        text += f" Note: {result['note']}."
    return text


def risk_headline(risk: RiskReportInput) -> FindingItem:
    """The stack's risk as one line for the summary of findings."""
    return FindingItem(
        f"Risk of the stack {' + '.join(risk.parameters.layers)}",
        "info",
        "model result",
        _headline_text(risk) + " Defaults are round numbers, not estimates (see the risk section).",
        provenance=_caption(risk, _method(risk)),
    )


def risk_sections(risk: RiskReportInput) -> list[Section]:
    """The risk section: headline numbers, models side by side, the n-layers curve, parameters."""
    from ddrisk.report.risk_figures import plot_dependence_curve
    from ddrisk.risk.dependence import FAILURE_MODE

    result = risk.result.to_dict()
    provenance = _caption(risk, _method(risk))
    comparison = risk.dependence
    stack = list(risk.parameters.layers)
    headline = _headline_text(risk)
    residual = risk.parameters.to_dict()["residual"]
    marginal_rows = [
        [
            Cell(row.layer),
            Cell(_sig(float(row.marginal_failure))),
            Cell(_sig(float(row.residual))),
            Cell(residual[row.layer]["parameter"]),
        ]
        for row in risk.result.to_frame().itertuples(index=False)
    ]
    model_rows = [
        [
            Cell(row.model, css="kind-correlated" if row.model == FAILURE_MODE else None),
            Cell(_parameter_text(row.parameter, row.value)),
            Cell(_sig(row.probability)),
            Cell(_sig(row.ratio_to_independence)),
            Cell(_sig(row.effective_layers)),
            Cell(row.meaning),
        ]
        for row in comparison.rows
    ]
    implied = (
        f"The failure-mode result corresponds to beta = {_sig(comparison.implied_beta)} in the "
        f"beta-factor model and rho = {_sig(comparison.implied_rho)} in the Gaussian copula."
    )
    engine_pairs = [
        (str(key), _sig(value))
        for key, value in result.items()
        if not isinstance(value, dict | list) and value is not None and key not in _TIMINGS
    ]
    blocks: list[Any] = [
        Paragraph(headline),
        Table(
            "Each layer's marginal P(fail) (from all modes and its residual)",
            ["layer", "P(layer fails)", "residual r", "residual parameter"],
            marginal_rows,
            provenance,
        ),
        Table(
            "Dependence models side by side on the same marginals",
            ["model", "parameter", "P(all fail)", "× independence", "effective layers", "meaning"],
            model_rows,
            provenance,
        ),
        Paragraph(implied),
        FigureBlock(
            "risk_curve",
            "P(all layers fail) as layers are added in stack order, under each dependence model.",
            provenance,
            lambda: plot_dependence_curve(risk.curve),
        ),
    ]
    if risk.importance is not None:
        importance = risk.importance.to_dict()
        ranking = importance.get("ranking", "")
        blocks.append(
            _frame_table(
                risk.importance.research_priorities(),
                f"Quantitative research priorities: failure modes ranked by {ranking}",
                provenance,
            )
        )
        blocks.append(
            Details(
                "Importance of each layer's residual failure",
                [
                    _frame_table(
                        risk.importance.to_frame("layers"),
                        "Layer residuals (r set to 0 or 1)",
                        provenance,
                    )
                ],
            )
        )
    if risk.uncertainty is not None:
        blocks += _uncertainty_blocks(risk.uncertainty, provenance)
    blocks.append(
        Details(
            "Engine details and every parameter used",
            [
                KeyValues("Engine result", engine_pairs),
                _frame_table(
                    risk.parameters.to_frame(),
                    f"Parameters (sha256 {risk.parameters.parameters_hash})",
                    provenance,
                ),
            ],
        )
    )
    return [
        Section(
            "risk",
            f"Risk of the stack {' + '.join(stack)}",
            "The failure-mode (common-cause) model: each failure mode occurs with probability q, "
            "a layer fails with probability p when a mode it is exposed to occurs, and on its "
            "own with residual probability r; the stack fails when every layer fails. Defaults "
            "are round numbers, not estimates; every value is listed below.",
            blocks,
        )
    ]
