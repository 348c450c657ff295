"""Research priorities: importance x impact, configurable weights, ranking changes shown."""

from __future__ import annotations

import pytest

from ddrisk.audit.priorities import DEFAULT_WEIGHTS, Impact, check_weights, research_priorities
from ddrisk.io.stackfile import builtin_impacts


def _impact(s, t, n, u):
    return Impact(s, t, n, u, rationale="r", source="test")


def test_default_weights_are_the_source_reports():
    assert DEFAULT_WEIGHTS == {
        "severity": 0.35,
        "tractability": 0.25,
        "neglectedness": 0.25,
        "urgency": 0.15,
    }
    # the report's own example: 8, 5, 6, 8 -> 6.75
    assert _impact(8, 5, 6, 8).score(DEFAULT_WEIGHTS) == pytest.approx(6.75)
    impacts, weights = builtin_impacts()
    assert weights == DEFAULT_WEIGHTS and all(i.rationale for i in impacts.values())


def test_impact_reorders_equal_importance_and_weights_move_ranks():
    importance = {"grave": 0.5, "tractable": 0.5, "irrelevant": 0.0}
    impacts = {
        "grave": _impact(10, 1, 2, 5),
        "tractable": _impact(3, 10, 9, 5),
        "irrelevant": _impact(10, 10, 10, 10),
    }
    result = research_priorities(importance, impacts)
    ranks = result.ranks_by_scenario
    assert ranks["chosen"]["irrelevant"] == 3  # importance 0: no priority however grave
    assert ranks["severity-heavy"]["grave"] == 1
    assert ranks["tractability-heavy"]["tractable"] == 1
    assert result.top_by_scenario["severity-heavy"] != result.top_by_scenario["tractability-heavy"]
    assert any(
        change[0] in {"severity-heavy", "tractability-heavy"} for change in result.rank_changes()
    )


def test_bad_weights_are_rejected():
    with pytest.raises(ValueError, match="unknown criteria"):
        check_weights({"beauty": 1})
    with pytest.raises(ValueError, match=">= 0"):
        check_weights({"severity": -1, "urgency": 2})
    assert check_weights({"severity": 2, "urgency": 2})["severity"] == 0.5
