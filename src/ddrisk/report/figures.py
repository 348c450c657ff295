"""Figures for the structural analysis, drawn only from result objects.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot
(no global figure registry, no interactive backend), so report building is
safe in threads and servers. Nothing here computes a statistic: values come
from the catalog or from :class:`~ddrisk.analysis.AnalysisResult` and its
parts, so a figure always agrees with the tables and the JSON.

Output is deterministic: :data:`STYLE` fixes fonts, sizes and the SVG id salt,
and :func:`figure_svg` / :func:`figure_png` drop the creation date, so two
builds of the same result give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ddrisk.analysis.analyze import AnalysisResult
from ddrisk.catalog.model import Catalog, Level
from ddrisk.report.escape import mpl_text

# Fixed style: a DejaVu font that ships with matplotlib (so glyphs, including
# ✓ and ✗, never depend on the host), text stored as paths, a fixed SVG id salt.
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "legend.frameon": False,
    "figure.dpi": 100.0,
    "savefig.dpi": 150.0,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.08,
    "svg.fonttype": "path",
    "svg.hashsalt": "ddrisk-report",
    "path.simplify": True,
    "image.interpolation": "nearest",
}

# Colour-blind-safe palette (Okabe-Ito) for the three levels and two policies.
LEVEL_COLOURS = {
    Level.NOT_PRONE: "#9fd4b5",  # light bluish green: ✓
    Level.PRONE: "#e8a29a",  # light vermillion: ✗
    Level.UNCLEAR: "#f3d98b",  # light yellow-orange: ?
}
POLICY_COLOURS = {"pessimistic": "#d55e00", "optimistic": "#0072b2"}
_POLICY_LABEL = {
    "pessimistic": "pessimistic ('?' counts as prone)",
    "optimistic": "optimistic ('?' counts as not prone)",
}


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply :data:`STYLE` while a figure is built or saved (rcParams are read at both times)."""
    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def figure_svg(figure: Figure) -> str:
    """The figure as standalone SVG text, byte-stable across runs (no date, fixed ids)."""
    buffer = io.StringIO()
    with figure_style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes without a timestamp, for viewers that cannot show SVG."""
    buffer = io.BytesIO()
    with figure_style():
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _frozen(figure: Figure) -> Figure:
    """Run the layout engine once and fix the result, so every later save is identical.

    Constrained layout re-solves on each draw and can move by a fraction of a
    point between saves; freezing it keeps repeated exports byte-identical.
    """
    with figure_style():
        figure.draw_without_rendering()
    figure.set_layout_engine("none")
    return figure


def _mpl(labels: Iterable[object]) -> list[str]:
    """Catalog ids and names as matplotlib labels: a ``$`` in them must not start mathtext."""
    return [mpl_text(label) for label in labels]


def _policies(analysis: AnalysisResult) -> list[str]:
    """The concrete policies present in a result, pessimistic first."""
    return list(analysis.groups.groups)


# --------------------------------------------------------------------------- matrix
def matrix_figure(catalog: Catalog) -> Figure:
    """The technique x failure-mode matrix in the paper's symbols.

    Cells show ✓ (not prone), ✗ (prone) or ? (unclear), coloured by level, with
    the probability under the symbol when a cell gives one. Single-source cells
    carry a ``*`` and a dashed border, because they rest on one secondary source
    and deserve less trust. Row labels include the safety tax.
    """
    techniques = catalog.techniques
    modes = catalog.failure_mode_ids
    order = [Level.NOT_PRONE, Level.PRONE, Level.UNCLEAR]
    codes = np.array(
        [[order.index(catalog.rating(t.id, m).effective_level) for m in modes] for t in techniques]
    )
    with figure_style():
        figure = Figure(figsize=(1.2 + 0.78 * len(modes), 0.9 + 0.42 * len(techniques)))
        ax = figure.add_subplot()
        cmap = ListedColormap([LEVEL_COLOURS[level] for level in order])
        ax.imshow(codes, cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3), aspect="auto")
        for i, technique in enumerate(techniques):
            for j, mode in enumerate(modes):
                rating = catalog.rating(technique.id, mode)
                text = rating.effective_level.symbol
                if rating.probability is not None:
                    text += f"\n{rating.probability:.2g}"
                single = rating.provenance.corroboration == "single-source"
                if single:
                    text += "*"
                    ax.add_patch(
                        Rectangle(
                            (j - 0.46, i - 0.44),
                            0.92,
                            0.88,
                            fill=False,
                            linestyle=(0, (2, 2)),
                            linewidth=0.8,
                            edgecolor="#555555",
                        )
                    )
                ax.text(j, i, text, ha="center", va="center", fontsize=11, color="#202020")
        ax.set_xticks(
            range(len(modes)), _mpl(modes), rotation=35, ha="right", rotation_mode="anchor"
        )
        ax.set_yticks(
            range(len(techniques)),
            _mpl(f"{t.id}  ({t.safety_tax.value} tax)" for t in techniques),
        )
        ax.set_xticks(np.arange(-0.5, len(modes)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(techniques)), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="both", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(mpl_text(catalog.title), loc="left")
        handles = [
            Patch(facecolor=LEVEL_COLOURS[level], label=f"{level.symbol} {level.value}")
            for level in order
        ]
        handles.append(
            Patch(facecolor="white", edgecolor="#555555", linestyle="--", label="* single-source")
        )
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return _frozen(figure)


# --------------------------------------------------------------------------- overlap
def overlap_figure(analysis: AnalysisResult, *, metric: str = "shared_count") -> Figure:
    """Technique x technique heatmap of shared failure modes (or Jaccard), one panel per policy.

    Parameters
    ----------
    analysis
        The structural analysis; values come from ``analysis.overlap.matrix``.
    metric
        ``"shared_count"`` (number of failure modes both techniques are prone to)
        or ``"jaccard"`` (shared / either).
    """
    if metric not in ("shared_count", "jaccard"):
        raise ValueError(f"metric must be 'shared_count' or 'jaccard', not {metric!r}")
    policies = _policies(analysis)
    techniques = list(analysis.groups.techniques)
    n = len(techniques)
    vmax = 1.0 if metric == "jaccard" else float(len(analysis.priorities.priorities[policies[0]]))
    with figure_style():
        side = 0.9 + 0.5 * n
        figure = Figure(figsize=(side * len(policies) + 0.8, side + 0.3), layout="constrained")
        axes = figure.subplots(1, len(policies), squeeze=False)[0]
        image = None
        for ax, policy in zip(axes, policies, strict=True):
            if n < 2:  # a one-technique catalog has no pairs
                ax.text(0.5, 0.5, "one technique: no pairs", ha="center", transform=ax.transAxes)
                ax.set_axis_off()
                continue
            table = analysis.overlap.matrix(metric, policy).reindex(
                index=techniques, columns=techniques
            )
            values = table.to_numpy(dtype=float)
            masked = np.ma.masked_invalid(values)
            image = ax.imshow(masked, cmap="Purples", vmin=0.0, vmax=vmax)
            for i in range(n):
                for j in range(n):
                    if i == j or np.isnan(values[i, j]):
                        ax.text(j, i, "·", ha="center", va="center", color="#999999")
                        continue
                    value = values[i, j]
                    label = f"{value:.2f}" if metric == "jaccard" else f"{value:.0f}"
                    dark = value > 0.55 * vmax
                    ax.text(
                        j,
                        i,
                        label,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="white" if dark else "#202020",
                    )
            ax.set_xticks(
                range(n), _mpl(techniques), rotation=45, ha="right", rotation_mode="anchor"
            )
            ax.set_yticks(range(n), _mpl(techniques))
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title(_POLICY_LABEL[policy], fontsize=10)
        label = "Jaccard similarity" if metric == "jaccard" else "shared failure modes"
        if image is not None:
            figure.colorbar(image, ax=list(axes), shrink=0.8, label=label)
    return _frozen(figure)


# --------------------------------------------------------------------------- groups
_KIND_COLOURS = {
    "correlated": "#d55e00",
    "high_tax": "#0072b2",
    "complementary": "#009e73",
    "ungrouped": "#555555",
}


def dendrogram_figure(analysis: AnalysisResult) -> Figure:
    """The clustering tree (``GroupsResult.linkage``) with the cut line, one panel per policy.

    Leaf labels are coloured by the group kind the analysis assigned (correlated,
    high-tax, complementary, ungrouped) and show each technique's safety tax,
    because the paper reads the groups together with the tax.
    """
    from scipy.cluster.hierarchy import dendrogram

    groups = analysis.groups
    policies = _policies(analysis)
    techniques = list(groups.techniques)
    with figure_style():
        figure = Figure(figsize=(5.0 * len(policies) + 0.4, 3.8), layout="constrained")
        axes = figure.subplots(1, len(policies), squeeze=False)[0]
        for ax, policy in zip(axes, policies, strict=True):
            kinds = {m: g.kind for g in groups.groups[policy] for m in g.members}
            taxes = {m: g.safety_tax[m] for g in groups.groups[policy] for m in g.members}
            tree = np.asarray(groups.linkage[policy], dtype=float)
            if tree.size == 0:
                ax.text(0.5, 0.5, "one technique: no tree", ha="center", transform=ax.transAxes)
                continue
            n_leaves = len(techniques)

            def link_colour(link: int, tree: np.ndarray = tree, n_leaves: int = n_leaves) -> str:
                # merges below the cut are the correlated clusters
                below = tree[link - n_leaves, 2] <= groups.threshold
                return _KIND_COLOURS["correlated"] if below else "#999999"

            # scipy computes the tree's layout; we draw it, because scipy's own drawing sets
            # the x range to [0, 1.05 * tallest merge], which is empty when every technique
            # has the same prone set (all merges at distance 0) and collapses the layout.
            tree_info = dendrogram(
                tree,
                no_plot=True,
                labels=_mpl(f"{t} ({taxes[t]} tax)" for t in techniques),
                orientation="right",
                link_color_func=link_colour,
            )
            for heights, positions, colour in zip(
                tree_info["dcoord"], tree_info["icoord"], tree_info["color_list"], strict=True
            ):
                ax.plot(heights, positions, color=colour, linewidth=1.0)
            leaves = len(tree_info["ivl"])
            ax.set_ylim(0, 10 * leaves)
            ax.set_yticks(np.arange(5, 10 * leaves, 10), tree_info["ivl"], fontsize=9)
            tallest = max(float(np.max(tree_info["dcoord"])), groups.threshold)
            ax.set_xlim(0, 1.05 * tallest if tallest > 0 else 1.0)
            ax.axvline(groups.threshold, color="#333333", linestyle="--", linewidth=0.9)
            ax.annotate(
                f"cut at {groups.threshold:g}",
                (groups.threshold, 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7.5,
                color="#333333",
            )
            for label, leaf in zip(ax.get_yticklabels(), tree_info["leaves"], strict=True):
                label.set_color(_KIND_COLOURS.get(kinds.get(techniques[leaf], ""), "#202020"))
            ax.set_xlabel("Jaccard distance of prone sets (average linkage)")
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
            ax.set_title(_POLICY_LABEL[policy], fontsize=10)
        figure.legend(
            handles=[
                Patch(color=colour, label=kind.replace("_", "-"))
                for kind, colour in _KIND_COLOURS.items()
            ],
            loc="outside lower center",
            ncols=len(_KIND_COLOURS),
        )
    return _frozen(figure)


# --------------------------------------------------------------------------- best stacks
def straight_through_figure(analysis: AnalysisResult) -> Figure:
    """Straight-through modes of the best stack of k techniques against k.

    With both policies the shaded band spans optimistic (only definite ✗
    cells) to pessimistic ("?" counts as prone): the width is what the unclear
    judgments leave open. Each point is labelled with the best stack.
    """
    best = analysis.best_stacks
    policies = _policies(analysis)
    ks = list(range(1, best.k_max + 1))
    counts = {
        p: [
            len(best.tied_best[p][k][0].straight_through) if best.tied_best[p][k] else np.nan
            for k in ks
        ]
        for p in policies
    }
    with figure_style():
        figure = Figure(figsize=(7.2, 3.6), layout="constrained")
        ax = figure.add_subplot()
        if len(policies) == 2:
            ax.fill_between(
                ks,
                counts["optimistic"],
                counts["pessimistic"],
                color="#bbbbbb",
                alpha=0.45,
                linewidth=0,
                label="range left open by '?' cells",
            )
        for policy in policies:
            pessimistic = policy == "pessimistic"
            ax.plot(
                ks,
                counts[policy],
                marker="s" if pessimistic else "o",
                markersize=8 if pessimistic else 5,
                color=POLICY_COLOURS[policy],
                label=_POLICY_LABEL[policy],
            )
            offset = 7 if policy == "pessimistic" else -12
            previous = None
            for k, count in zip(ks, counts[policy], strict=True):
                ties = best.tied_best[policy][k]
                # label only where a further layer changes the count, to keep it legible
                if not ties or count == previous:
                    continue
                previous = count
                text = "+".join(ties[0].stack) + (f" (+{len(ties) - 1})" if len(ties) > 1 else "")
                ax.annotate(
                    mpl_text(text),
                    (k, count),
                    textcoords="offset points",
                    xytext=(0, offset),
                    ha="center",
                    fontsize=8,
                    color=POLICY_COLOURS[policy],
                )
        n_modes = len(analysis.priorities.priorities[policies[0]])
        ax.set_xticks(ks)
        ax.set_ylim(-0.6, n_modes + 0.6)
        ax.set_yticks(range(n_modes + 1))
        ax.set_xlabel("layers in the stack (k)")
        ax.set_ylabel("straight-through failure modes\nof the best k-stack")
        ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
        ax.legend(loc="upper right")
    return _frozen(figure)


# --------------------------------------------------------------------------- priorities
def priorities_figure(analysis: AnalysisResult) -> Figure:
    """Failure modes ranked by the number of techniques they defeat.

    With both policies, the solid bar counts definite ✗ cells (optimistic) and
    the hatched extension the techniques defeated only if "?" resolves to prone.
    """
    priorities = analysis.priorities
    policies = _policies(analysis)
    reference = policies[0]
    ranked = priorities.priorities[reference]
    modes = [m.mode for m in ranked][::-1]  # top priority at the top
    by_policy = {
        p: {m.mode: m.to_dict()["defeats_count"] for m in priorities.priorities[p]}
        for p in policies
    }
    ranks = {m.mode: m.rank for m in ranked}
    with figure_style():
        figure = Figure(figsize=(6.4, 0.7 + 0.36 * len(modes)), layout="constrained")
        ax = figure.add_subplot()
        y = np.arange(len(modes))
        if len(policies) == 2:
            low = np.array([by_policy["optimistic"][m] for m in modes])
            high = np.array([by_policy["pessimistic"][m] for m in modes])
            ax.barh(y, low, color=POLICY_COLOURS["optimistic"], label="definite (✗ cells)")
            extra = high > low
            ax.barh(
                y[extra],
                (high - low)[extra],
                left=low[extra],
                color="white",
                edgecolor=POLICY_COLOURS["pessimistic"],
                hatch="////",
                linewidth=0.8,
                label="only if '?' is prone",
            )
            ends = high
        else:
            ends = np.array([by_policy[reference][m] for m in modes])
            ax.barh(y, ends, color=POLICY_COLOURS[reference], label=_POLICY_LABEL[reference])
        for position, mode in enumerate(modes):
            ax.text(
                ends[position] + 0.1,
                position,
                f"#{ranks[mode]}",
                va="center",
                fontsize=8.5,
                color="#444444",
            )
        ax.set_yticks(y, _mpl(modes))
        ax.set_xlim(0, priorities.n_techniques + 0.8)
        ax.set_xticks(range(priorities.n_techniques + 1))
        ax.set_xlabel(f"techniques defeated (of {priorities.n_techniques})")
        ax.axvline(priorities.n_techniques, color="#999999", linestyle=":", linewidth=0.8)
        ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right")
    return _frozen(figure)


def analysis_figures(catalog: Catalog, analysis: AnalysisResult) -> dict[str, Figure]:
    """Every structural figure, keyed by a stable file-name stem."""
    return {
        "matrix": matrix_figure(catalog),
        "overlap_shared": overlap_figure(analysis, metric="shared_count"),
        "overlap_jaccard": overlap_figure(analysis, metric="jaccard"),
        "dendrogram": dendrogram_figure(analysis),
        "best_stacks": straight_through_figure(analysis),
        "priorities": priorities_figure(analysis),
    }
