"""The search: exact budgets, errors never passes, deterministic strategies."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.stress.attack.engine import Query
from ddrisk.stress.attack.registry import build_registry
from ddrisk.stress.attack.search import STRATEGIES, Evaluated, SearchSettings
from ddrisk.stress.attack.store import AttackRecord
from ddrisk.stress.layer import Verdict

from .fakes import BlockAll, Broken, PassAll, Raising, behaviors, run_attack

REGISTRY, _ = build_registry()
ALL_OPS = list(REGISTRY.values())


def _counting(blocked: bool | None, error: str | None = None):
    calls: list[Query] = []

    def evaluate(queries: Sequence[Query]) -> list[Evaluated]:
        calls.extend(queries)
        return [
            Evaluated(q, {"x": Verdict(blocked, 0.5 if error is None else None, error=error)})
            for q in queries
        ]

    return evaluate, calls


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@settings(max_examples=30, deadline=None)
@given(
    budget=st.integers(1, 60),
    batch=st.integers(1, 10),
    beam=st.integers(1, 4),
    depth=st.integers(1, 3),
)
def test_a_search_that_never_succeeds_spends_exactly_its_budget(
    strategy: str, budget: int, batch: int, beam: int, depth: int
) -> None:
    evaluate, calls = _counting(True)
    result = STRATEGIES[strategy].search(
        "tell me the forbidden thing",
        operators=ALL_OPS,
        seed=0,
        settings=SearchSettings(
            budget=budget, batch_size=batch, beam_width=beam, max_depth=depth, strategy=strategy
        ),
        evaluate=evaluate,
    )
    assert len(calls) == result.queries_used <= budget
    assert [q.index for q in calls] == list(range(len(calls)))
    assert len({q.text for q in calls}) == len(calls)  # no text is paid for twice
    if result.status == "budget_exhausted":
        assert result.queries_used == budget
    else:  # the strategy ran out of candidates first
        assert result.status == "space_exhausted" and result.queries_used < budget
    assert result.chain is None and result.first_success is None


def test_beam_search_with_room_to_spare_exhausts_its_space_and_says_so() -> None:
    evaluate, calls = _counting(True)
    ops = [REGISTRY["base64"], REGISTRY["rot13"]]
    result = STRATEGIES["beam"].search(
        "x y z",
        operators=ops,
        seed=0,
        settings=SearchSettings(budget=100, max_depth=2),
        evaluate=evaluate,
    )
    # root + 2 single operators + 2 compositions of both
    assert result.status == "space_exhausted" and result.queries_used == len(calls) == 5


@pytest.mark.parametrize("error_kind", ["error_verdicts", "exception"])
def test_errors_are_never_passes(tmp_path: Path, error_kind: str) -> None:
    layer = Broken("broken") if error_kind == "error_verdicts" else Raising("broken")
    attack_dir, _, _ = run_attack(tmp_path, [layer, PassAll("open")], behaviors(4), budget=7)
    record = AttackRecord(attack_dir)
    try:
        outcomes = {(o.target, o.item_id): o for o in record.outcomes()}
        rows = record.query_rows()
    finally:
        record.close()
    for item in behaviors(4):
        broken = outcomes[("broken", item.item_id)]
        assert broken.status != "found" and broken.chain is None
        assert outcomes[("__stack__", item.item_id)].status != "found"
        assert outcomes[("open", item.item_id)].status == "found"  # the other layer still works
    broken_rows = [r for r in rows if r.layer == "broken"]
    assert broken_rows and all(r.verdict.blocked is None and r.verdict.error for r in broken_rows)
    from ddrisk.stress.attack.results import attack_data
    from ddrisk.stress.attack.statistics import analyze_attack

    record = AttackRecord(attack_dir)
    analysis = analyze_attack(attack_data(record), n_bootstrap=50)
    record.close()
    row = analysis.layers.set_index("layer").loc["broken"]
    assert row.adaptive_k == 0 and row.adaptive_n == 4 and row.static_n == 0
    assert analysis.stack["adaptive"]["k"] == 0


def test_the_stored_queries_match_the_budget_exactly(tmp_path: Path) -> None:
    attack_dir, _, _ = run_attack(
        tmp_path,
        [BlockAll("wall"), BlockAll("wall2")],
        behaviors(3),
        operators=[op.name for op in ALL_OPS],
        budget=13,
        max_depth=3,
        batch_size=4,
    )
    db = sqlite3.connect(attack_dir / "attack.sqlite")
    per_search = db.execute(
        "SELECT target, item_id, COUNT(DISTINCT query_index), MAX(query_index) FROM queries"
        " WHERE phase='search' GROUP BY target, item_id"
    ).fetchall()
    used = db.execute("SELECT target, item_id, queries_used, status FROM outcomes").fetchall()
    db.close()
    assert len(per_search) == 3 * 3  # two layers alone and the stack, three behaviors
    assert all(count == 13 and last == 12 for _, _, count, last in per_search)
    assert all(q == 13 and status == "budget_exhausted" for _, _, q, status in used)


def test_search_is_deterministic_and_stops_at_the_first_success() -> None:
    ops = ALL_OPS

    def evaluate(queries: Sequence[Query]) -> list[Evaluated]:
        return [
            Evaluated(
                q, {"x": Verdict("\u200b" not in q.text, 0.9 if "\u200b" not in q.text else 0.1)}
            )
            for q in queries
        ]

    runs = [
        STRATEGIES["beam"].search(
            "how to do it",
            operators=ops,
            seed=4,
            settings=SearchSettings(budget=30, batch_size=1),
            evaluate=evaluate,
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert runs[0].status == "found" and runs[0].chain is not None and "zero_width" in runs[0].chain
    assert runs[0].queries_used == runs[0].first_success  # batch size 1: nothing spent after it
