"""Structural figures: drawn from the result objects, deterministic, one panel per policy."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ddrisk.analysis import analyze
from ddrisk.report import figures


@pytest.fixture(scope="module")
def analysis(builtin):
    return analyze(builtin, policy="bounds")


@pytest.fixture(scope="module")
def pessimistic(builtin):
    return analyze(builtin, policy="pessimistic")


def _texts(figure: Figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def test_matrix_figure_shows_every_cell_in_the_papers_symbols(builtin):
    figure = figures.matrix_figure(builtin)
    texts = _texts(figure)
    assert len(texts) == len(builtin.technique_ids) * len(builtin.failure_mode_ids)
    expected = [
        builtin.rating(t, m).effective_level.symbol
        for t in builtin.technique_ids
        for m in builtin.failure_mode_ids
    ]
    assert [text[0] for text in texts] == expected
    single = sum(
        builtin.rating(t, m).provenance.corroboration == "single-source"
        for t in builtin.technique_ids
        for m in builtin.failure_mode_ids
    )
    assert single > 0
    assert sum(text.endswith("*") for text in texts) == single
    dashed = [p for p in figure.axes[0].patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(dashed) == single
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[0] == "RLHF  (low tax)"


def test_overlap_figure_values_come_from_the_overlap_result(analysis):
    figure = figures.overlap_figure(analysis, metric="shared_count")
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title().split()[0] for ax in panels] == ["pessimistic", "optimistic"]
    table = analysis.overlap.matrix("shared_count", "optimistic")
    techniques = list(analysis.groups.techniques)
    shown = {}
    for text in panels[1].texts:
        x, y = text.get_position()
        shown[(techniques[round(y)], techniques[round(x)])] = text.get_text()
    assert shown[("SCIAI", "RLHF")] == f"{table.loc['SCIAI', 'RLHF']:.0f}" == "0"
    assert shown[("RLAIF", "W2S")] == "6"
    assert shown[("RE", "RE")] == "·"
    jaccard = figures.overlap_figure(analysis, metric="jaccard")
    assert "1.00" in _texts(jaccard)  # RLAIF and W2S have identical profiles


def test_overlap_figure_rejects_unknown_metric(analysis):
    with pytest.raises(ValueError, match="metric"):
        figures.overlap_figure(analysis, metric="phi")


def test_single_policy_gives_single_panels(pessimistic):
    figure = figures.overlap_figure(pessimistic)
    assert len([ax for ax in figure.axes if ax.get_title()]) == 1
    tree = figures.dendrogram_figure(pessimistic)
    assert len(tree.axes) == 1


def test_dendrogram_labels_every_technique_and_marks_the_cut(analysis):
    figure = figures.dendrogram_figure(analysis)
    for ax in figure.axes:
        names = {label.get_text().split()[0] for label in ax.get_yticklabels()}
        assert names == set(analysis.groups.techniques)
        cut = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert cut and np.allclose(cut[0].get_xdata(), analysis.groups.threshold)


def test_straight_through_figure_plots_the_best_stack_counts(analysis):
    figure = figures.straight_through_figure(analysis)
    ax = figure.axes[0]
    best = analysis.best_stacks
    for line, policy in zip(ax.lines, ["pessimistic", "optimistic"], strict=True):
        expected = [
            len(best.tied_best[policy][k][0].straight_through) for k in range(1, best.k_max + 1)
        ]
        assert list(line.get_ydata()) == expected
    assert len(ax.collections) == 1  # the band between the two policies


def test_priorities_figure_bars_match_techniques_defeated(analysis):
    figure = figures.priorities_figure(analysis)
    ax = figure.axes[0]
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels[-1] == "AL-GEN"  # top priority drawn at the top
    definite = {m.mode: len(m.defeats) for m in analysis.priorities.priorities["optimistic"]}
    solid = ax.containers[0]
    assert [bar.get_width() for bar in solid] == [definite[mode] for mode in labels]


def test_svg_output_is_byte_stable_and_undated(analysis):
    first = figures.figure_svg(figures.straight_through_figure(analysis))
    again = figures.straight_through_figure(analysis)
    assert figures.figure_svg(again) == first
    assert figures.figure_svg(again) == first  # saving twice does not move the layout
    assert "<dc:date>" not in first
    assert first.lstrip().startswith("<?xml")


def test_png_output_renders(builtin):
    png = figures.figure_png(figures.matrix_figure(builtin))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000


def test_analysis_figures_names_are_stable(builtin, analysis):
    assert list(figures.analysis_figures(builtin, analysis)) == [
        "matrix",
        "overlap_shared",
        "overlap_jaccard",
        "dendrogram",
        "best_stacks",
        "priorities",
    ]
