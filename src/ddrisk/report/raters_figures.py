"""Figures for several raters: which conclusions survive in which view, and pairwise agreement."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ddrisk.raters.agreement import AgreementResult
from ddrisk.raters.survival import SurvivalResult
from ddrisk.report.escape import mpl_text

_HOLDS, _DIFFERS = "#1b9e77", "#d95f02"


def survival_figure(result: SurvivalResult) -> Figure:
    """Conclusions (rows) x views (columns): green where the conclusion is the reference's.

    >>> import glob
    >>> from ddrisk.io.raterfile import load_rater_panel
    >>> from ddrisk.raters import surviving_conclusions
    >>> panel = load_rater_panel(sorted(glob.glob("examples/raters/*.yaml")))
    >>> figure = survival_figure(surviving_conclusions(panel))
    >>> len(figure.axes)
    1
    """
    views = list(result.views)
    rows = list(result.rows)
    grid = np.array([[1.0 if row.holds[v.id] else 0.0 for v in views] for row in rows])
    figure = Figure(figsize=(2.8 + 0.55 * len(views), 1.0 + 0.36 * len(rows)), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(grid, cmap=ListedColormap([_DIFFERS, _HOLDS]), vmin=0, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(views)):
            axes.text(
                j,
                i,
                "✓" if grid[i, j] else "✗",
                ha="center",
                va="center",
                color="white",
                fontsize=8,
            )
    axes.set_xticks(range(len(views)))
    axes.set_xticklabels([mpl_text(v.id) for v in views], rotation=60, ha="right", fontsize=7)
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([mpl_text(r.label) for r in rows], fontsize=7)
    kinds = [v.kind for v in views]
    for j in range(1, len(views)):
        if kinds[j] != kinds[j - 1]:
            axes.axvline(j - 0.5, color="black", linewidth=1.5)
    axes.set_title(
        mpl_text(
            f"Same as the reference (pool: {result.reference_rule})? "
            "Raters | pooling rules | one rater left out"
        ),
        fontsize=9,
    )
    return figure


def agreement_figure(result: AgreementResult) -> Figure:
    """Pairwise share of identical levels as a heat map (rater x rater)."""
    frame = result.pairs_frame()
    figure = Figure(figsize=(1.8 + 0.7 * len(frame), 1.4 + 0.6 * len(frame)), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(frame.to_numpy(), cmap="viridis", vmin=0, vmax=1)
    labels = [mpl_text(r) for r in frame.index]
    axes.set_xticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    axes.set_yticks(range(len(labels)))
    axes.set_yticklabels(labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = frame.iat[i, j]
            axes.text(
                j,
                i,
                "—" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                color="white",
                fontsize=7,
            )
    figure.colorbar(image, ax=axes, label="share of co-rated cells with the same level")
    axes.set_title("Pairwise rater agreement", fontsize=9)
    return figure
