"""Figures for the quantitative risk analysis (matplotlib, no pyplot global state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ddrisk.report.escape import mpl_text
from ddrisk.risk.dependence import (
    BETA_FACTOR,
    COPULA,
    FAILURE_MODE,
    INDEPENDENCE,
    PERFECT,
    DependenceCurve,
)

_STYLE: dict[str, dict[str, Any]] = {
    INDEPENDENCE: {"color": "#1b9e77", "marker": "o", "linestyle": "--"},
    PERFECT: {"color": "#d95f02", "marker": "s", "linestyle": "--"},
    FAILURE_MODE: {"color": "#000000", "marker": "D", "linestyle": "-", "linewidth": 2.2},
    BETA_FACTOR: {"color": "#7570b3", "marker": "^", "linestyle": "-"},
    COPULA: {"color": "#e7298a", "marker": "v", "linestyle": "-"},
}


def _legend_label(name: str, curve: DependenceCurve) -> str:
    if name == BETA_FACTOR:
        return f"{name} (beta = {curve.beta:g})"
    if name == COPULA:
        return f"{name} (rho = {curve.rho:g})"
    return name


def plot_dependence_curve(curve: DependenceCurve, *, figure: Figure | None = None) -> Figure:
    """P(all fail) against the number of layers, one line per dependence model (log scale).

    Examples
    --------
    >>> from ddrisk.risk.dependence import identical_layers_curve
    >>> fig = plot_dependence_curve(identical_layers_curve())
    >>> len(fig.axes[0].lines)
    4
    """
    figure = figure or Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for name, values in curve.series.items():
        shown = np.where(np.asarray(values) > 0, values, np.nan)
        axes.plot(curve.n_layers, shown, label=_legend_label(name, curve), **_STYLE.get(name, {}))
    axes.set_yscale("log")
    axes.set_xlabel("number of layers")
    axes.set_ylabel("P(all layers fail)")
    axes.set_xticks(curve.n_layers)
    if curve.layers is not None:
        axes.set_xticklabels(
            [
                f"{n}\n+{mpl_text(layer)}"
                for n, layer in zip(curve.n_layers, curve.layers, strict=True)
            ],
            fontsize=7,
        )
    axes.set_title(mpl_text(curve.title), fontsize=9)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def save_dependence_curve(curve: DependenceCurve, path: str | Path) -> Path:
    """Write :func:`plot_dependence_curve` to ``path`` (format from the suffix: png, svg, pdf)."""
    path = Path(path)
    plot_dependence_curve(curve).savefig(path, dpi=150, metadata=_stable_metadata(path))
    return path


def _stable_metadata(path: Path) -> dict[str, str | None]:
    """Drop creation dates so repeated runs write identical files (SVG/PDF embed them)."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}
