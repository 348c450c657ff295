"""Figures of a stress analysis, drawn from a :class:`~ddrisk.stress.statistics.StressAnalysis`.

Each ``*_figure`` function returns a :class:`matplotlib.figure.Figure` built without pyplot
(no global state, safe in threads) and computes nothing itself: every number comes from
the analysis tables, so figures agree with the JSON. :func:`save_stress_figures` is the
only function that writes files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from ddrisk.report.escape import mpl_text
from ddrisk.report.number_format import fixed
from ddrisk.stress.statistics import StressAnalysis

_RC = {"font.family": "DejaVu Sans", "font.size": 8.0}

LABEL_CHARS = 28
"""Longest tick label a stress figure shows, ellipsis included: layer and family names come
from users and attack tools, and an 80-character name would squeeze the heatmap to nothing."""


def _label(value: object) -> str:
    """A layer or family name as a tick label: escaped first, so the bound holds for what is
    drawn (``\\x1b`` is four characters), then cut with an ellipsis."""
    text = mpl_text(value)
    if len(text) <= LABEL_CHARS:
        return text
    # Cutting never exposes a "$": mpl_text escapes each one as a pair "\\$".
    return text[: LABEL_CHARS - 1].rstrip("\\") + "…"


def _label_room(labels: list[str]) -> float:
    """Inches the widest tick label needs, measured in the current font (labels of wide
    letters such as "MMM" need twice what "iii" does, so a per-character guess would not do)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure, font = TextToPath(), FontProperties()
    widths = [measure.get_text_width_height_descent(t, font, ismath=False)[0] for t in labels]
    return max(widths, default=0.0) / 72.0


def phi_heatmap_figure(analysis: StressAnalysis) -> Figure:
    """Pairwise phi between layers' misses on harmful items, with cluster-bootstrap intervals.

    Red cells fail together more than chance, blue cells complement each other; each cell
    shows phi, its interval and the number of joint misses.
    """
    layers = list(analysis.input["layers"])
    size = len(layers)
    values = np.full((size, size), np.nan)
    labels = [["" for _ in layers] for _ in layers]
    index = {layer: i for i, layer in enumerate(layers)}
    for row in analysis.pairs.itertuples(index=False):
        i, j = index[row.layer_a], index[row.layer_b]
        text = f"{fixed(row.phi, 2, finite_only=True)}\n[{fixed(row.phi_lo, 2, finite_only=True)}, {fixed(row.phi_hi, 2, finite_only=True)}]\n{row.both_miss} joint"
        for a, b in ((i, j), (j, i)):
            values[a, b] = row.phi
            labels[a][b] = text
    names = [_label(layer) for layer in layers]
    room = _label_room(names)
    # At least wide enough for the (two-line) title and the colour bar beside the cells.
    figure = Figure(
        figsize=(max(4.2, 2.0 + 1.25 * size + room), 1.6 + 1.05 * size + 0.5 * room),
        layout="constrained",
    )
    axes = figure.add_subplot()
    image = axes.imshow(
        np.ma.masked_invalid(values),
        cmap="RdBu_r",
        norm=TwoSlopeNorm(vcenter=0.0, vmin=-1.0, vmax=1.0),
    )
    for i in range(size):
        for j in range(size):
            axes.text(j, i, labels[i][j] if i != j else "-", ha="center", va="center", fontsize=7)
    axes.set_xticks(range(size), names, rotation=30, ha="right")
    axes.set_yticks(range(size), names)
    axes.set_title("phi of misses on harmful items\n(pooled over families)")
    figure.colorbar(image, ax=axes, shrink=0.8, label="phi (0 = independent)")
    return figure


def k_of_n_figure(analysis: StressAnalysis) -> Figure:
    """P(at least k layers miss): observed (with interval) against both independence predictions."""
    frame = analysis.k_of_n
    figure = Figure(figsize=(5.0, 3.4), layout="constrained")
    axes = figure.add_subplot()
    k = frame["k"].to_numpy()
    observed = frame["observed"].to_numpy(dtype=float)
    lo = frame["observed_lo"].to_numpy(dtype=float)
    hi = frame["observed_hi"].to_numpy(dtype=float)
    errors = np.vstack([np.nan_to_num(observed - lo), np.nan_to_num(hi - observed)])
    axes.errorbar(k, observed, yerr=errors, marker="o", capsize=3, label="observed")
    axes.plot(
        k, frame["independence_pooled"], marker="s", linestyle="--", label="independence (pooled)"
    )
    axes.plot(
        k,
        frame["independence_stratified"],
        marker="^",
        linestyle=":",
        label="independence (stratified by family)",
    )
    axes.set_xticks(k)
    axes.set_xlabel("k (layers that miss)")
    axes.set_ylabel("P(at least k miss)")
    axes.set_ylim(0.0, 1.02)
    axes.set_title("k-of-n misses on harmful items")
    axes.legend(frameon=False)
    return figure


def family_miss_figure(analysis: StressAnalysis) -> Figure:
    """Layer x attack-family miss rates (the empirical catalog), plus the whole stack's row."""
    table = analysis.family_miss
    layers = list(analysis.input["layers"])
    families = sorted(table["family"].unique()) if not table.empty else []
    rows = [*layers, "all layers"]
    values = np.full((len(rows), len(families)), np.nan)
    labels = [["" for _ in families] for _ in rows]
    col = {fam: j for j, fam in enumerate(families)}
    for r in table.itertuples(index=False):
        i, j = layers.index(r.layer), col[r.family]
        values[i, j] = r.miss_rate
        labels[i][j] = f"{fixed(r.miss_rate, 2, finite_only=True)}\n{r.k}/{r.n}"
    for r in analysis.stack_by_family.itertuples(index=False):
        if r.family in col:
            values[-1, col[r.family]] = r.observed
            labels[-1][col[r.family]] = (
                f"{fixed(r.observed, 2, finite_only=True)}\n{r.all_miss_k}/{r.n}"
            )
    column_names = [_label(f) for f in families]
    row_names = [_label(row) for row in rows]
    figure = Figure(
        figsize=(
            max(3.6, 2.2 + 1.1 * max(len(families), 1) + _label_room(row_names)),
            1.4 + 0.55 * len(rows) + 0.5 * _label_room(column_names),
        ),
        layout="constrained",
    )
    axes = figure.add_subplot()
    image = axes.imshow(
        np.ma.masked_invalid(values), cmap="Reds", vmin=0.0, vmax=1.0, aspect="auto"
    )
    for i in range(len(rows)):
        for j in range(len(families)):
            colour = "white" if np.isfinite(values[i, j]) and values[i, j] > 0.6 else "black"
            axes.text(j, i, labels[i][j] or "-", ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(len(families)), column_names, rotation=30, ha="right")
    axes.set_yticks(range(len(rows)), row_names)
    axes.set_title("miss rate per attack family")
    figure.colorbar(image, ax=axes, shrink=0.8, label="miss rate")
    return figure


def save_stress_figures(analysis: StressAnalysis, directory: str | Path) -> list[Path]:
    """Write the three figures as PNG files into ``directory``; return their paths."""
    import matplotlib

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(cast(Any, _RC)):
        for name, build in (
            ("stress-phi.png", phi_heatmap_figure),
            ("stress-k-of-n.png", k_of_n_figure),
            ("stress-families.png", family_miss_figure),
        ):
            path = folder / name
            build(analysis).savefig(path, dpi=150, metadata={"Software": None})
            written.append(path)
    return written
