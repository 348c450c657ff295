"""Pooling rules on hand-made cases; the pooled catalog is an ordinary catalog."""

from __future__ import annotations

import math

import pytest

import ddrisk
from ddrisk.catalog.model import Level
from ddrisk.io.catalog import dump_catalog, parse_catalog
from ddrisk.raters import POOLING_RULES, compare_pooling, pool_ratings
from ddrisk.raters.pooling import pool_levels, pool_probabilities
from ddrisk.risk import compute_stack_failure, resolve_parameters
from tests.raters.helpers import base_catalog, panel

P, N, U = Level.PRONE, Level.NOT_PRONE, Level.UNCLEAR


@pytest.mark.parametrize(
    ("levels", "rule", "expected", "tie"),
    [
        ([P, P, N], "majority", P, ()),
        ([P, N], "majority", U, ("not_prone", "prone")),
        ([P, N, U], "majority", U, ("not_prone", "unclear", "prone")),
        ([N, N, U, P], "majority", N, ()),
        ([N, U, P], "median", U, ()),
        ([N, N, P], "median", N, ()),
        ([N, P], "median", U, ("not_prone", "prone")),
        ([N, N, U, P], "median", U, ("not_prone", "unclear")),
        ([U, P, P, P], "median", P, ()),
        ([N, N, N, P], "any_prone", P, ()),
        ([N, U], "any_prone", U, ()),
        ([N, N], "any_prone", N, ()),
        ([], "median", U, ()),
    ],
)
def test_level_rules_by_hand(levels, rule, expected, tie):
    assert pool_levels(levels, rule) == (expected, tie)


def test_probability_rules_by_hand():
    assert pool_probabilities([0.2, 0.4, 0.9], "mean_probability") == pytest.approx(0.5)
    # odds 1 and 9: geometric mean 3 -> p = 0.75; extremised by 2: odds 9 -> 0.9.
    assert pool_probabilities([0.5, 0.9], "geometric_odds") == pytest.approx(0.75)
    assert pool_probabilities([0.5, 0.9], "geometric_odds", extremize=2.0) == pytest.approx(0.9)
    # Extremising pulls away from 0.5 on both sides; 0 and 1 are clipped, never infinite.
    assert pool_probabilities([0.1, 0.3], "geometric_odds", extremize=2.0) < pool_probabilities(
        [0.1, 0.3], "geometric_odds"
    )
    assert 0.0 < pool_probabilities([0.0, 1.0, 1.0], "geometric_odds") < 1.0
    with pytest.raises(ValueError):
        pool_probabilities([], "mean_probability")


def _panel():
    catalog = base_catalog(2, 3)
    return panel(
        catalog,
        {
            "a": [P, P, N, N, U, None],
            "b": [P, N, N, None, U, None],
            "c": [P, N, U, P, None, None],
        },
        {
            "a": [0.8, 0.7, None, 0.1, 0.5, None],
            "b": [None] * 6,
            "c": [0.9, 0.2, 0.4, 0.6, None, None],
        },
    )


def test_pooled_catalog_values_ties_blanks_and_provenance():
    the_panel = _panel()
    median = pool_ratings(the_panel, rule="median")
    by_cell = {(c.technique, c.failure_mode): c for c in median.cells}
    assert by_cell[("T0", "M0")].level is P
    assert by_cell[("T0", "M1")].level is N  # P, N, N
    assert by_cell[("T1", "M0")].tie == ("not_prone", "prone")  # a N, c P; b blank
    assert by_cell[("T1", "M0")].raters == ("a", "c")
    assert by_cell[("T1", "M2")].level is U and by_cell[("T1", "M2")].raters == ()
    assert "no rater rated" in by_cell[("T1", "M2")].note
    mean = pool_ratings(the_panel, rule="mean_probability")
    cell = {(c.technique, c.failure_mode): c for c in mean.cells}
    # b gave only a level (prone -> default 0.9): (0.8 + 0.9 + 0.9) / 3.
    assert cell[("T0", "M0")].probability == pytest.approx((0.8 + 0.9 + 0.9) / 3)
    assert "level defaults used for b" in cell[("T0", "M0")].note
    assert cell[("T1", "M2")].probability is None and cell[("T1", "M2")].level is U
    catalog = median.catalog
    assert catalog.raters[0].kind == "derived"
    assert "median" in catalog.raters[0].name and "a, b, c" in catalog.raters[0].name
    assert catalog.version.endswith("+pool.median")
    rating = catalog.rating("T1", "M0")
    assert rating.provenance.sources == ["a", "c"]
    assert "rule median" in (rating.provenance.note or "")


@pytest.mark.parametrize("rule", POOLING_RULES)
def test_every_pooled_catalog_is_an_ordinary_catalog(rule):
    pooled = pool_ratings(_panel(), rule=rule).catalog
    again = parse_catalog(dump_catalog(pooled), label="pooled.yaml")  # validates like any file
    assert again.content_hash == pooled.content_hash
    ddrisk.analyze(again)
    probability = compute_stack_failure(resolve_parameters(again, ["T0", "T1"]).model).probability
    assert 0.0 < probability < 1.0


def test_any_prone_is_at_least_as_cautious_as_every_other_rule():
    comparison = compare_pooling(_panel())
    risk = {
        pool.rule: compute_stack_failure(
            resolve_parameters(pool.catalog, ["T0", "T1"]).model
        ).probability
        for pool in comparison.pools
    }
    assert risk["any_prone"] == max(risk.values())
    assert list(comparison.to_frame().columns) == ["technique", "failure_mode", *POOLING_RULES]


def test_bad_rule_and_extremize_are_refused():
    with pytest.raises(ValueError, match="unknown pooling rule"):
        pool_ratings(_panel(), rule="mode")
    with pytest.raises(ValueError, match="extremize"):
        pool_ratings(_panel(), rule="geometric_odds", extremize=math.nan)
