"""The Swiss-cheese figure is drawn from the stack's own ratings."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from ddrisk.audit.engine import run_audit
from ddrisk.io.stackfile import read_stack
from ddrisk.io.taxonomies import load_all_mappings
from ddrisk.report.swiss_cheese import audit_figure, stack_figure


def _gids(figure, prefix):
    return sorted(
        p.get_gid()
        for ax in figure.axes
        for p in ax.patches
        if (p.get_gid() or "").startswith(prefix)
    )


def test_holes_slices_and_arrows_match_the_ratings():
    levels = {
        "A": {"x": "prone", "y": "not_prone", "z": "unclear"},
        "B": {"x": "prone", "y": "prone", "z": "unclear"},
    }
    figure = stack_figure(["A", "B"], ["x", "y", "z"], levels)
    assert _gids(figure, "slice:") == ["slice:A", "slice:B"]
    assert _gids(figure, "hole:") == ["hole:A:x", "hole:A:z", "hole:B:x", "hole:B:y", "hole:B:z"]
    assert _gids(figure, "through:") == ["through:x", "through:z"]
    levels["A"]["x"] = "not_prone"
    figure = stack_figure(["A", "B"], ["x", "y", "z"], levels)
    assert "hole:A:x" not in _gids(figure, "hole:") and _gids(figure, "through:") == ["through:z"]


def test_audit_figure_uses_the_audited_stack(small_stack):
    loaded = read_stack(small_stack)
    result = run_audit(
        loaded.compiled,
        input_sha256=loaded.input_sha256,
        mappings=load_all_mappings(),
        impacts=loaded.impacts,
        n_draws=20,
    )
    figure = audit_figure(result)
    expected_holes = sum(
        level != "not_prone" for row in result.levels.values() for level in row.values()
    )
    assert len(_gids(figure, "hole:")) == expected_holes
    through = [g.removeprefix("through:") for g in _gids(figure, "through:")]
    assert sorted(through) == sorted(m.mode for m in result.straight_through)
    assert _gids(figure, "slice:") == sorted(f"slice:{layer}" for layer in result.layers)
