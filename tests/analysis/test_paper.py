"""Every finding of ../shared/reference/dung-mai-2025.md, computed from the built-in data."""

from __future__ import annotations

import pytest

import ddrisk
from ddrisk.analysis import (
    analyze,
    best_stacks,
    failure_mode_priorities,
    pairwise_overlap,
    robustness,
    stack_coverage,
    technique_groups,
)

PIPELINE_SHARED = ["CAP-DEV", "DEC-AL", "EM-MIS", "EVAL-DIFF", "AL-GEN"]


@pytest.fixture(scope="module")
def result(builtin):
    return analyze(builtin, stack=["DEBATE", "RE"])


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_finding_1_pipeline_techniques_share_almost_all_modes(builtin, policy):
    groups = technique_groups(builtin, policy=policy)
    correlated = groups.of_kind("correlated", policy)
    assert [g.members for g in correlated] == [("RLHF", "RLAIF", "W2S")]
    assert list(correlated[0].shared_modes) == PIPELINE_SHARED
    assert set(correlated[0].safety_tax.values()) == {"low"}
    overlap = pairwise_overlap(builtin, policy=policy)
    assert overlap.pair("RLAIF", "W2S", policy).jaccard == 1.0  # identical profiles
    assert overlap.pair("RLAIF", "W2S", policy).phi == 1.0
    assert overlap.pair("RLHF", "RLAIF", policy).shared_count == 5


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_finding_2_high_tax_techniques_have_fewest_modes(builtin, policy):
    groups = technique_groups(builtin, policy=policy)
    high = groups.of_kind("high_tax", policy)
    assert [g.members for g in high] == [("SCIAI", "IDA")]
    assert high[0].shared_modes == ("S-TAX",)
    overlap = pairwise_overlap(builtin, policy=policy)
    assert overlap.pair("SCIAI", "IDA", policy).shared_modes == ("S-TAX",)
    counts = {
        t: len(stack_coverage(builtin, [t], policy=policy).straight_through[policy])
        for t in builtin.technique_ids
    }
    others = [c for t, c in counts.items() if t not in {"SCIAI", "IDA"}]
    fewest = max(counts["SCIAI"], counts["IDA"]) <= min(others)
    assert fewest == (policy == "optimistic")  # on definite cells; SCIAI's '?' cells decide
    # IDA has two definite failure modes; Scientist AI one definite plus two unclear.
    assert counts["IDA"] == 2 and counts["SCIAI"] == (3 if policy == "pessimistic" else 1)


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_finding_3_debate_and_re_are_complementary(builtin, policy):
    groups = technique_groups(builtin, policy=policy)
    assert [g.members for g in groups.of_kind("complementary", policy)] == [("DEBATE", "RE")]
    assert stack_coverage(builtin, ["DEBATE", "RE"], policy=policy).straight_through[policy] == [
        "AL-GEN"
    ]
    affordable = best_stacks(builtin, policy=policy, k_max=2, exclude_high_tax=True)
    assert [s.stack for s in affordable.tied_best[policy][2]] == [("DEBATE", "RE")]


def test_stacks_with_scientist_ai_leave_no_definite_straight_through_mode(builtin):
    for other in builtin.technique_ids:
        if other in {"SCIAI", "IDA"}:  # IDA is also prone to S-TAX, so that pair keeps it
            continue
        assert stack_coverage(builtin, ["SCIAI", other]).definite == []
    assert stack_coverage(builtin, ["SCIAI", "IDA"]).definite == ["S-TAX"]
    assert stack_coverage(builtin, ["SCIAI", "IDA", "RE"]).definite == []


def test_finding_4_al_gen_first_and_no_mode_shared_by_all(builtin):
    priorities = failure_mode_priorities(builtin)
    for policy in ("pessimistic", "optimistic"):
        assert priorities.top(policy) == ["AL-GEN"]
        first = priorities.priorities[policy][0]
        assert first.spared == ("SCIAI",) and len(first.defeats) == 6
        assert all(len(p.defeats) < 7 for p in priorities.priorities[policy])
    everything = stack_coverage(builtin, builtin.technique_ids)
    assert everything.straight_through == {"pessimistic": [], "optimistic": []}


def test_finding_5_arithmetic(result):
    finding = next(f for f in result.findings if f.key == "paper_arithmetic")
    assert finding.numbers["independent"] == pytest.approx(1e-10, rel=1e-12)
    assert finding.numbers["perfectly_correlated"] == pytest.approx(0.1)


def test_finding_6_swiss_cheese_panels(result):
    numbers = next(f for f in result.findings if f.key == "swiss_cheese").numbers
    panels = {
        policy: (
            numbers[policy]["A_several_straight_through"],
            numbers[policy]["B_one_straight_through"],
            numbers[policy]["C_none"],
        )
        for policy in ("pessimistic", "optimistic")
    }
    assert panels == {"pessimistic": (33, 48, 46), "optimistic": (24, 41, 62)}
    # Panel A: the pipeline group lets 5 modes straight through; B: DEBATE+RE lets one.
    assert len(stack_coverage(result_catalog(), ["RLHF", "RLAIF", "W2S"]).definite) == 5


def result_catalog():
    return ddrisk.load_catalog()


def test_which_findings_hold_on_builtin(result):
    assert [f.key for f in result.findings] == [
        "correlated_group",
        "high_tax_group",
        "complementary_pair",
        "top_priority",
        "paper_arithmetic",
        "swiss_cheese",
        "fragility",
    ]
    by_key = {f.key: f for f in result.findings}
    partial = {"high_tax_group", "paper_arithmetic"}
    assert all(f.holds for k, f in by_key.items() if k not in partial)
    # "Fewest failure modes" holds on definite cells; counting Scientist AI's two '?' as prone,
    # it has 3, more than RE's 2, and the summary says so rather than hiding it.
    assert by_key["high_tax_group"].holds_by_policy == {"pessimistic": False, "optimistic": True}
    # Pairs share modes beyond chance only on definite cells (tests/analysis/test_findings.py).
    assert by_key["paper_arithmetic"].holds_by_policy == {"pessimistic": False, "optimistic": True}
    text = " ".join(f.statement for f in result.findings)
    for fragment in (
        "RLHF, RLAIF and W2S",
        "SCIAI and IDA",
        "DEBATE and RE share only 1",
        "AL-GEN defeats 6 of 7",
        "1e-10",
    ):
        assert fragment in text


def test_best_pairs_and_ties(builtin):
    stacks = best_stacks(builtin, k_max=2)
    assert [s.stack for s in stacks.tied_best["pessimistic"][2]] == [("RE", "SCIAI")]
    assert {s.stack for s in stacks.tied_best["optimistic"][2]} == {
        ("RLHF", "SCIAI"),
        ("RLAIF", "SCIAI"),
        ("W2S", "SCIAI"),
        ("RE", "SCIAI"),
    }


def test_robustness_names_the_judgments_conclusions_rest_on(builtin):
    robust = robustness(builtin, policy="pessimistic")
    # AL-GEN stays first under every resolution of '?', and the affordable best pair too.
    assert robust.holds_share("top_priority") == 1.0
    assert robust.holds_share("best_affordable_pair") == 1.0
    assert robust.resolutions_checked == 2 ** len(robust.unclear_cells) == 8
    # Making RE prone to S-TAX breaks the DEBATE+RE complementarity.
    flips = {(c.technique, c.mode, c.to_level) for c in robust.changes("groups")}
    assert ("RE", "S-TAX", "prone") in flips
    # One more unclear cell elsewhere cannot dethrone AL-GEN (it defeats 6, the next 5).
    assert ("RLAIF", "AL-GEN", "unclear") not in {
        (c.technique, c.mode, c.to_level) for c in robust.changes("top_priority")
    }
    # Best pessimistic pair SCIAI+RE depends on Scientist AI's unclear CAP-DEV cell.
    assert robust.holds_share("best_pair") < 1.0


def test_analysis_json_keys_are_stable(result):
    data = result.to_dict()
    assert set(data) == {
        "format",
        "ddrisk_version",
        "catalog",
        "settings",
        "summary",
        "overlap",
        "groups",
        "stack",
        "best_stacks",
        "priorities",
        "robustness",
    }
    assert data["catalog"]["sha256"] == ddrisk.load_catalog().content_hash
    assert data["stack"]["straight_through"] == {
        "pessimistic": ["AL-GEN"],
        "optimistic": ["AL-GEN"],
    }
    assert data["groups"]["by_policy"]["pessimistic"][0]["members"] == ["RLHF", "RLAIF", "W2S"]


def test_frames(builtin):
    frame = pairwise_overlap(builtin).to_frame()
    assert len(frame) == 2 * 21 and {"jaccard", "phi", "shared_count"} <= set(frame.columns)
    assert not technique_groups(builtin).to_frame().empty
    assert not best_stacks(builtin).to_frame().empty
    assert not failure_mode_priorities(builtin).to_frame().empty
