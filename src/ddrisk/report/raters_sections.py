"""Report sections for several raters: agreement, pooling, disagreement as risk, survival.

:func:`raters_input` is the one entry point the report command and the API share: it runs
every computation once; :func:`raters_sections` only lays the results out as blocks (tables
and figures), with every caption naming the raters, the input hash, the settings and the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddrisk.raters.agreement import DEFAULT_BOOTSTRAP, AgreementResult, rater_agreement
from ddrisk.raters.model import RaterPanel
from ddrisk.raters.pooling import PoolingComparison, cell_text, compare_pooling
from ddrisk.raters.spread import DEFAULT_DRAWS, DisagreementRisk, disagreement_uncertainty
from ddrisk.raters.survival import SurvivalResult, surviving_conclusions
from ddrisk.report.blocks import (
    Cell,
    FigureBlock,
    FindingItem,
    KeyValues,
    Paragraph,
    Section,
    Table,
    cells,
)

if TYPE_CHECKING:
    from ddrisk.risk.parameters import RiskParameters


@dataclass(frozen=True)
class RatersReportInput:
    """Everything the raters sections show, computed once."""

    panel: RaterPanel
    agreement: AgreementResult
    pooling: PoolingComparison
    survival: SurvivalResult
    spread: DisagreementRisk
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "ddrisk.raters.report/1",
            "provenance": raters_provenance(self),
            "coverage": [c.to_dict() for c in self.panel.coverage()],
            "agreement": self.agreement.to_dict(),
            "pooling": self.pooling.to_dict(),
            "survival": self.survival.to_dict(),
            "disagreement_uncertainty": self.spread.to_dict(),
        }


def raters_input(
    panel: RaterPanel,
    *,
    stack: Sequence[str] | None = None,
    params: RiskParameters | None = None,
    seed: int = 0,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_draws: int = DEFAULT_DRAWS,
) -> RatersReportInput:
    """Agreement, pooling, surviving conclusions and disagreement-as-uncertainty for ``panel``."""
    agreement = rater_agreement(panel, n_boot=n_boot, seed=seed)
    pooling = compare_pooling(panel)
    survival = surviving_conclusions(panel, stack=stack, params=params)
    spread = disagreement_uncertainty(
        panel, survival.stack, params=params, n_draws=n_draws, seed=seed
    )
    return RatersReportInput(panel, agreement, pooling, survival, spread, seed)


def raters_provenance(data: RatersReportInput) -> dict[str, Any]:
    return {
        "raters": list(data.panel.rater_ids),
        "rater_files": list(data.panel.sources),
        "input_sha256": data.panel.input_hash(),
        "seed": data.seed,
        "bootstrap_resamples": data.agreement.n_boot,
        "reference_rule": data.survival.reference_rule,
        "stack": list(data.survival.stack),
        "monte_carlo_draws": data.spread.uncertainty.n_draws,
    }


def _caption(data: RatersReportInput, extra: str) -> str:
    return (
        f"raters {', '.join(data.panel.rater_ids)}; input sha256:{data.panel.input_hash()[:12]} "
        f"(catalog sha256:{data.panel.catalog.content_hash[:12]}); {extra}"
    )


def raters_headline(data: RatersReportInput) -> FindingItem:
    survival = data.survival
    robust = [r for r in survival.rows if r.holds_for("rater", survival.views)]
    low, high = data.spread.interval
    return FindingItem(
        f"Several raters ({len(data.panel.rater_ids)})",
        "info",
        "rater panel",
        f"Krippendorff's alpha (ordinal) {data.agreement.alpha_ordinal.text_noted()}; "
        f"{len(robust)} of {len(survival.rows)} conclusions hold for every rater; "
        f"P({'+'.join(survival.stack)} fails) 90% interval over rater disagreement "
        f"[{low:.3g}, {high:.3g}].",
        provenance=_caption(data, f"seed {data.seed}"),
    )


def _agreement_section(data: RatersReportInput) -> Section:
    from ddrisk.report.raters_figures import agreement_figure

    result = data.agreement
    boot = f"bootstrap over cells, {result.n_boot} resamples, seed {result.seed}, {result.confidence:.0%} percentile intervals"
    stats = Table(
        "Agreement over the whole matrix",
        ["statistic", "value [interval]", "cells used", "note"],
        [
            cells(
                name,
                est.text() if est.value is not None else "not estimable",
                est.n_units,
                est.note or "—",
            )
            for name, est in (
                ("Krippendorff's alpha, ordinal (levels)", result.alpha_ordinal),
                ("Krippendorff's alpha, interval (stated probabilities)", result.alpha_interval),
                ("Fleiss' kappa (cells every rater rated)", result.fleiss_kappa),
                ("Mean per-cell disagreement", result.mean_cell_disagreement),
            )
        ],
        _caption(data, boot),
    )
    coverage = Table(
        "What each rater rated",
        ["rater", "file", "cells rated", "blank cells"],
        [
            cells(
                c.rater,
                c.source,
                f"{c.rated} of {c.cells}",
                ", ".join(f"{t}:{m}" for t, m in c.blank_cells) or "none",
            )
            for c in data.panel.coverage()
        ],
        _caption(data, "blank cells are missing data, never filled in"),
    )
    split = result.split_cells()
    split_table = Table(
        f"Cells that split the raters ({len(split)} of {len(result.cells)})",
        ["cell", "how", "disagreement [interval]", *result.raters],
        [
            cells(
                f"{c.technique} x {c.failure_mode}",
                c.how,
                c.disagreement.text(),
                *[c.levels[r] or "blank" for r in result.raters],
            )
            for c in split
        ],
        _caption(
            data,
            "disagreement = share of rater pairs giving different levels; interval: bootstrap over the cell's raters (coarse with few raters)",
        ),
    )
    pairs = Table(
        "Pairwise agreement (share of co-rated cells with the same level; ordinal alpha)",
        ["pair", "same level [interval]", "ordinal alpha [interval]", "co-rated cells"],
        [
            cells(
                f"{p.rater_a} / {p.rater_b}",
                p.share_identical.text_noted(),
                p.alpha_ordinal.text_noted(),
                p.share_identical.n_units,
            )
            for p in result.pairs
        ],
        _caption(data, boot),
    )
    figure = FigureBlock(
        "raters-agreement",
        "Pairwise rater agreement: share of co-rated cells with the same level.",
        _caption(data, boot),
        lambda: agreement_figure(result),
    )
    return Section(
        "raters-agreement",
        "Raters: agreement",
        f"{len(result.raters)} raters rated the cells of {result.catalog['label']} independently. "
        f"Method: {result.method}.",
        [coverage, stats, pairs, figure, split_table],
    )


def _pooling_section(data: RatersReportInput) -> Section:
    pools = data.pooling.pools
    rows = []
    for index, cell in enumerate(pools[0].cells):
        texts = [cell_text(p.cells[index]) for p in pools]
        if (
            len({v.split(",")[0] for v in cell.inputs.values()}) <= 1
            and len({t.split(" ")[0] for t in texts}) <= 1
        ):
            continue
        rows.append(cells(f"{cell.technique} x {cell.failure_mode}", *texts))
    table = Table(
        "Pooled cells by rule, where the raters or rules differ",
        ["cell", *[p.rule for p in pools]],
        rows,
        _caption(data, f"geometric_odds extremize {pools[0].extremize:g}; ties pooled as unclear"),
    )
    catalogs = KeyValues(
        "Pooled catalogs (each an ordinary catalog: `ddrisk raters pool --rule RULE -o FILE`)",
        [
            (
                p.rule,
                f"{p.catalog.label}; ties: {', '.join(f'{c.technique}:{c.failure_mode}' for c in p.ties) or 'none'}",
            )
            for p in pools
        ],
    )
    return Section(
        "raters-pooling",
        "Raters: pooling rules side by side",
        "majority and median pool levels (a tie becomes unclear and is reported); mean_probability "
        "and geometric_odds pool probabilities (a rater who gave only a level contributes that "
        "level's default probability); any_prone is the cautious reading.",
        [table, catalogs],
    )


def _survival_section(data: RatersReportInput) -> Section:
    from ddrisk.report.raters_figures import survival_figure

    survival = data.survival
    rows = []
    for row in survival.rows:
        info = row.to_dict(survival.views)
        rows.append(
            [
                Cell(row.label),
                Cell(row.reference),
                _verdict(info["holds_for_every_rater"], info["dissenting_raters"]),
                _verdict(info["holds_under_every_rule"], info["rules_that_differ"]),
                Cell(info["leave_one_out_note"]),
                Cell(", ".join(info["driven_by"]) or "—"),
            ]
        )
    caption = _caption(
        data,
        f"reference: pool by {survival.reference_rule}; stack {'+'.join(survival.stack)}; "
        f"P(stack fails) holds within a factor {survival.factor:g}; '?' policy {survival.policy}",
    )
    table = Table(
        "Conclusions that survive rater disagreement",
        ["conclusion", "reference", "every rater", "every rule", "one rater left out", "driven by"],
        rows,
        caption,
    )
    figure = FigureBlock(
        "raters-survival",
        "Does each conclusion come out as in the reference pooled view? Each rater's own matrix, "
        "each pooling rule, and the reference rule with one rater left out.",
        caption,
        lambda: survival_figure(survival),
    )
    spread = data.spread
    low, high = spread.interval
    u = spread.uncertainty
    risk_rows = [cells(f"rater {r}", f"{p:.4g}") for r, p in spread.by_rater.items()]
    risk_rows += [cells(f"pool {r}", f"{p:.4g}") for r, p in spread.by_rule.items()]
    risk_table = Table(
        f"P({'+'.join(spread.stack)} fails) for each rater and each pooling rule",
        ["view", "P(stack fails)"],
        risk_rows,
        _caption(
            data, f"failure-mode model, exact engine; parameters sha256:{u.parameters_sha256[:12]}"
        ),
    )
    return Section(
        "raters-survival",
        "Raters: conclusions that survive, and disagreement as uncertainty",
        "A conclusion holds in a view when it comes out as in the reference pooled view; a rater "
        "drives it when leaving that rater out changes it. "
        f"With each cell's probability a distribution over the raters, P({'+'.join(spread.stack)} "
        f"fails) has median {u.summary()['probability']['p50']:.4g} and 90% interval "
        f"[{low:.4g}, {high:.4g}] ({u.n_draws} Monte Carlo draws, seed {u.seed}).",
        [table, figure, risk_table, Paragraph(spread.to_dict()["method"])],
    )


def _verdict(holds: bool, failing: list[str]) -> Cell:
    if holds:
        return Cell("yes", css="kind-complementary")
    return Cell("no: " + ", ".join(failing), css="kind-correlated")


def raters_sections(data: RatersReportInput) -> list[Section]:
    """The raters sections of a report."""
    return [_agreement_section(data), _pooling_section(data), _survival_section(data)]
