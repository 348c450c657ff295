"""Figures of an adaptive attack, drawn from an :class:`~ddrisk.stress.attack.statistics.AttackAnalysis`.

Built without pyplot (no global state); every number comes from the analysis
tables, so figures agree with the JSON. :func:`save_attack_figures` is the only
function that writes files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from ddrisk.report.escape import mpl_text

if TYPE_CHECKING:
    from ddrisk.stress.attack.statistics import AttackAnalysis


def _label(name: str) -> str:
    return "whole stack" if name == "stack" else mpl_text(name)


def _errorbar(values: Any, lo: Any, hi: Any) -> np.ndarray:
    values, lo, hi = (np.asarray(v, dtype=float) for v in (values, lo, hi))
    lower = np.where(np.isfinite(lo), values - lo, 0.0)
    upper = np.where(np.isfinite(hi), hi - values, 0.0)
    return np.vstack([np.clip(lower, 0, None), np.clip(upper, 0, None)])


def rates_figure(analysis: AttackAnalysis) -> Figure:
    """Per layer: static miss rate (original prompts) next to adaptive bypass rate, with intervals."""
    table = analysis.layers
    names = [mpl_text(n) for n in table["layer"]]
    x = np.arange(len(names))
    figure = Figure(figsize=(1.8 + 0.9 * max(len(names), 2), 3.2), layout="constrained")
    axes = figure.add_subplot()
    width = 0.38
    axes.bar(
        x - width / 2,
        table["static"].fillna(0),
        width,
        label="static miss (original prompt)",
        yerr=_errorbar(table["static"], table["static_lo"], table["static_hi"]),
        capsize=2,
        color="#9ecae1",
    )
    axes.bar(
        x + width / 2,
        table["adaptive"].fillna(0),
        width,
        label=f"adaptive bypass ({analysis.settings.get('budget')} queries)",
        yerr=_errorbar(table["adaptive"], table["adaptive_lo"], table["adaptive_hi"]),
        capsize=2,
        color="#de2d26",
    )
    stack = analysis.stack.get("adaptive")
    if stack is not None:
        axes.axhline(stack["estimate"], color="black", lw=1, ls="--", label="whole stack, adaptive")
    axes.set_xticks(x, names, rotation=20, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share of behaviors")
    axes.set_title("static miss vs adaptive bypass per layer")
    axes.legend(fontsize=7, loc="lower left")
    return figure


def transfer_figure(analysis: AttackAnalysis) -> Figure:
    """Transfer matrix P(column passes | attack found against row); diagonal: row's adaptive rate."""
    layers = list(analysis.layers["layer"])
    size = len(layers)
    index = {name: i for i, name in enumerate(layers)}
    values = np.full((size, size), np.nan)
    labels = [["" for _ in layers] for _ in layers]
    for row in analysis.transfer.itertuples(index=False):
        i, j = index[row.source], index[row.target]
        values[i, j] = row.rate
        labels[i][j] = "-" if not row.n else f"{row.rate:.2f}\n{row.k}/{row.n}"
    for i, row in enumerate(analysis.layers.itertuples(index=False)):
        labels[i][i] = f"adaptive\n{row.adaptive:.2f}" if math.isfinite(row.adaptive) else "-"
    figure = Figure(
        figsize=(1.8 + 1.1 * max(size, 2), 1.4 + 0.95 * max(size, 2)), layout="constrained"
    )
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(values), cmap="Reds", vmin=0.0, vmax=1.0)
    for i in range(size):
        for j in range(size):
            dark = bool(np.isfinite(values[i, j]) and values[i, j] > 0.6)
            axes.text(
                j,
                i,
                labels[i][j],
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    axes.set_xticks(range(size), [mpl_text(n) for n in layers], rotation=30, ha="right")
    axes.set_yticks(range(size), [mpl_text(n) for n in layers])
    axes.set_xlabel("replayed on layer B")
    axes.set_ylabel("attack found against layer A")
    axes.set_title("P(B passes | attack found against A)")
    figure.colorbar(image, ax=axes, shrink=0.8, label="transfer rate")
    return figure


def curve_figure(analysis: AttackAnalysis) -> Figure:
    """Share of behaviors bypassed within b queries, per layer and for the whole stack."""
    curve = analysis.curve
    figure = Figure(figsize=(5.2, 3.2), layout="constrained")
    axes = figure.add_subplot()
    for column in curve.columns:
        if column == "budget":
            continue
        style = {"color": "black", "lw": 2.0} if column == "stack" else {"lw": 1.0, "alpha": 0.8}
        label = "whole stack (master key)" if column == "stack" else mpl_text(column)
        axes.step(curve["budget"], curve[column], where="post", label=label, **style)
    axes.set_xlabel("queries per behavior")
    axes.set_ylabel("share of behaviors bypassed")
    axes.set_ylim(0, 1.05)
    axes.set_title("queries to the first bypass")
    axes.legend(fontsize=7, loc="lower right")
    return figure


FIGURES = (
    ("attack-rates", rates_figure),
    ("attack-transfer", transfer_figure),
    ("attack-curve", curve_figure),
)


def save_attack_figures(analysis: AttackAnalysis, directory: str | Path) -> list[Path]:
    """Write the figures as PNG and SVG files into ``directory``; return their paths."""
    import matplotlib

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8.0}):
        for name, build in FIGURES:
            figure = build(analysis)
            for suffix in ("png", "svg"):
                path = folder / f"{name}.{suffix}"
                figure.savefig(
                    path,
                    dpi=150,
                    metadata={"Date": None} if suffix == "svg" else {"Software": None},
                )
                written.append(path)
    return written
