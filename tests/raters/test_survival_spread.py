"""Leave-one-out and surviving conclusions; rater disagreement as risk uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from ddrisk.catalog.model import Level
from ddrisk.raters import disagreement_uncertainty, pool_ratings, surviving_conclusions
from ddrisk.risk import compute_stack_failure, resolve_parameters
from ddrisk.risk.distributions import EmpiricalDistribution
from tests.raters.helpers import base_catalog, panel

P, N, U = "prone", "not_prone", "unclear"


def _levels(catalog, overrides=None):
    base = [
        catalog.rating(t, m).effective_level.value
        for t in catalog.technique_ids
        for m in catalog.failure_mode_ids
    ]
    for index, level in (overrides or {}).items():
        base[index] = level
    return base


def _catalog():
    from tests.conftest import make_catalog

    return make_catalog([[P, P, N, N], [N, P, P, N], [N, N, P, P]], ["low", "low", "high"])


def test_identical_raters_every_conclusion_holds_and_nobody_drives_it():
    catalog = _catalog()
    same = _levels(catalog)
    result = surviving_conclusions(
        panel(catalog, {"a": same, "b": same, "c": same}), stack=["T0", "T1"]
    )
    for row in result.rows:
        info = row.to_dict(result.views)
        assert info["holds_for_every_rater"] and info["holds_under_every_rule"] is not None
        assert info["holds_leaving_any_rater_out"] and info["driven_by"] == []
        assert info["dissenting_raters"] == []


def test_leave_one_out_names_the_raters_who_drive_a_conclusion():
    # b and c make T0 prone to every mode; a keeps the catalog. The median pool follows b and c.
    # Without a: b, c agree -> same pool. Without b (or c): a and the other tie -> unclear cells,
    # so P(stack fails) moves: the conclusion is driven by b and by c, and a dissents.
    catalog = _catalog()
    a = _levels(catalog)
    bc = _levels(catalog, {2: P, 3: P})
    result = surviving_conclusions(
        panel(catalog, {"a": a, "b": bc, "c": bc}), stack=["T0", "T1"], factor=1.0
    )
    row = result.row("stack_probability", None)
    info = row.to_dict(result.views)
    assert info["dissenting_raters"] == ["a"]
    assert info["driven_by"] == ["b", "c"]
    assert row.holds["without:a"] and not row.holds["without:b"]
    reference = pool_ratings(panel(catalog, {"a": a, "b": bc, "c": bc}), rule="median").catalog
    expected = compute_stack_failure(resolve_parameters(reference, ["T0", "T1"]).model).probability
    assert float(row.reference) == pytest.approx(expected, rel=1e-3)
    # The figure-ready frame has one column per view.
    assert {"rater:a", "pool:any_prone", "without:c"} <= set(result.to_frame().columns)


def test_two_raters_skip_leave_one_out_and_say_so():
    catalog = _catalog()
    result = surviving_conclusions(
        panel(catalog, {"a": _levels(catalog), "b": _levels(catalog, {0: N})})
    )
    assert not any(v.kind == "leave-one-out" for v in result.views)
    assert "needs 3 or more raters" in result.rows[0].to_dict(result.views)["leave_one_out_note"]
    assert len(result.stack) <= 2


def test_empirical_distribution():
    d = EmpiricalDistribution((0.9, 0.05, 0.5))
    u = np.array([0.0, 0.33, 0.34, 0.66, 0.67, 0.999999])
    assert list(d.ppf(u)) == [0.05, 0.05, 0.5, 0.5, 0.9, 0.9]
    assert d.mean == pytest.approx(1.45 / 3) and not d.is_degenerate
    assert EmpiricalDistribution((0.2, 0.2)).is_degenerate


def test_agreeing_raters_give_no_interval_and_disagreeing_ones_give_a_bounded_one():
    catalog = base_catalog(2, 3)
    same = [0.3, 0.6, 0.9, 0.2, 0.5, 0.7]
    agree = disagreement_uncertainty(
        panel(catalog, probabilities={"a": same, "b": same}), ["T0", "T1"], n_draws=200
    )
    low, high = agree.interval
    assert low == pytest.approx(high) == pytest.approx(agree.by_rater["a"])
    low_p = [0.1, 0.2, 0.5, 0.1, 0.3, 0.4]
    high_p = [0.6, 0.9, 0.95, 0.5, 0.8, 0.9]
    spread = disagreement_uncertainty(
        panel(catalog, probabilities={"a": low_p, "b": high_p, "c": same}),
        ["T0", "T1"],
        n_draws=400,
        seed=3,
    )
    low, high = spread.interval
    # P(stack fails) grows with every p: all-low and all-high bound every draw.
    assert spread.by_rater["a"] <= low < high <= spread.by_rater["b"]
    assert spread.uncertainty.seed == 3 and spread.uncertainty.n_draws == 400
    assert set(spread.uncertainty.parameter_names) >= {"p.cells.T0.M0", "p.cells.T1.M2"}
    assert spread.to_dict()["probability_by_rule"].keys() == {
        "majority",
        "median",
        "mean_probability",
        "geometric_odds",
        "any_prone",
    }


def test_blank_cells_keep_out_of_the_spread():
    catalog = base_catalog(1, 2)
    result = disagreement_uncertainty(
        panel(catalog, {"a": [P, N], "b": [None, U]}, {"a": [0.7, None], "b": [None, None]}),
        ["T0"],
        n_draws=50,
    )
    specs = {row.parameter: row.spec for row in result.uncertainty.tornado}
    assert "p.cells.T0.M0" not in specs  # one rater only: a fixed value, not a spread
    assert specs["p.cells.T0.M1"] == "raters(0.05, 0.5)"  # level defaults of not_prone, unclear
    assert Level.UNCLEAR.value == "unclear"
