"""Tiny inputs and long hostile labels: figures draw without warnings and stay readable."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ddrisk.analysis import analyze
from ddrisk.report import figures
from ddrisk.report.stress_figures import (
    LABEL_CHARS,
    family_miss_figure,
    phi_heatmap_figure,
    save_stress_figures,
)
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import analyze_outcomes
from tests.conftest import make_catalog


def _matrix(layers: tuple[str, ...], blocked: list[list[float]], family: str = "direct"):
    rows = [
        ("h1", family, "b1", True),
        ("h2", family, "b2", True),
        ("h3", "rp", "b3", True),
        ("g1", "benign", "c1", False),
    ]
    items = pd.DataFrame(rows, columns=["item_id", "family", "behavior_id", "harmful"])
    verdicts = np.array(blocked, dtype=float)
    return OutcomeMatrix(
        items=items,
        layers=layers,
        blocked=verdicts,
        score=np.full(verdicts.shape, np.nan),
        errors=np.full(verdicts.shape, None, dtype=object),
    )


LONG = ("L" * 80, "<b>$\\frac{" + "M" * 60 + "$ \x1b[31m", "short")
TINY_BLOCKED = [[0, 0, 1], [0, 1, 0], [1, 1, 1], [1, 0, 0]]


@pytest.mark.parametrize(
    "levels",
    [
        [["prone", "prone"], ["prone", "prone"]],  # identical prone sets: a tree of height 0
        [["not_prone", "not_prone"], ["not_prone", "not_prone"]],
        [["prone", "unclear"], ["not_prone", "prone"]],
    ],
)
def test_two_by_two_catalog_figures_draw_without_warnings(levels):
    catalog = make_catalog(levels, ["low", "high"])
    analysis = analyze(catalog)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = figures.analysis_figures(catalog, analysis)
        for figure in drawn.values():
            figures.figure_svg(figure)
    assert [str(w.message) for w in caught] == []
    tree = drawn["dendrogram"]
    for ax in tree.axes:
        assert {t.get_text().split()[0] for t in ax.get_yticklabels()} == {"T0", "T1"}
        left, right = ax.get_xlim()
        assert left == 0 and right > analysis.groups.threshold  # the cut line is in view


def test_tiny_stress_run_with_long_labels_saves_without_warnings(tmp_path):
    analysis = analyze_outcomes(_matrix(LONG, TINY_BLOCKED, "F" * 90), n_bootstrap=50, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_stress_figures(analysis, tmp_path)
    assert [str(w.message) for w in caught] == []


def test_one_layer_stress_run_saves_without_warnings(tmp_path):
    analysis = analyze_outcomes(_matrix(("x",), [[0], [1], [1], [0]]), n_bootstrap=50, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_stress_figures(analysis, tmp_path)
    assert [str(w.message) for w in caught] == []


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("build", [phi_heatmap_figure, family_miss_figure])
def test_long_labels_are_bounded_and_title_clears_the_colour_bar(build):
    analysis = analyze_outcomes(_matrix(LONG, TINY_BLOCKED, "F" * 90), n_bootstrap=50, seed=0)
    figure = build(analysis)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    axes, bar = figure.axes[0], figure.axes[1]
    labels = [t.get_text() for t in (*axes.get_xticklabels(), *axes.get_yticklabels())]
    assert all(len(label) <= LABEL_CHARS for label in labels), labels
    assert any(label.endswith("…") for label in labels)
    assert "short" in labels and all("\x1b" not in label for label in labels)
    assert all(label.count("$") == label.count("\\$") for label in labels)  # no mathtext
    renderer = canvas.get_renderer()
    title = axes.title.get_window_extent(renderer)
    assert not _overlap(title, bar.get_tightbbox(renderer))
    assert not _overlap(axes.get_window_extent(renderer), bar.get_tightbbox(renderer))
    figure_box = figure.bbox
    for text in (*axes.get_xticklabels(), *axes.get_yticklabels(), axes.title):
        box = text.get_window_extent(renderer)
        assert box.x0 >= figure_box.x0 - 1 and box.x1 <= figure_box.x1 + 1
