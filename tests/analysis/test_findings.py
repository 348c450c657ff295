"""Every finding ``ddrisk analyze`` states is computed: real numbers on the built-in catalog, and
for each finding a small catalog on which it comes out "does not hold"."""

from __future__ import annotations

import itertools
import math

import pytest
from click.testing import CliRunner

from ddrisk.analysis import analyze, technique_groups
from ddrisk.catalog import Catalog
from ddrisk.cli import main
from ddrisk.errors import InputError
from tests.conftest import make_catalog

P, N, U = "prone", "not_prone", "unclear"


def _finding(catalog: Catalog, key: str, **options):
    result = analyze(catalog, **options)
    return next(f for f in result.findings if f.key == key)


@pytest.fixture(scope="module")
def builtin_findings(builtin):
    return {f.key: f for f in analyze(builtin, stack=["DEBATE", "RE"]).findings}


# ----------------------------------------------------------------- numbers on the built-in catalog
def test_swiss_cheese_panel_counts(builtin_findings):
    finding = builtin_findings["swiss_cheese"]
    pess, opt = finding.numbers["pessimistic"], finding.numbers["optimistic"]
    assert (pess["A_several_straight_through"], pess["B_one_straight_through"], pess["C_none"]) == (
        33,
        48,
        46,
    )
    assert (opt["A_several_straight_through"], opt["B_one_straight_through"], opt["C_none"]) == (
        24,
        41,
        62,
    )
    assert pess["multi_layer_stacks_with_straight_through"] == 74
    assert opt["multi_layer_stacks_with_straight_through"] == 58
    assert pess["full_stack_straight_through"] == opt["full_stack_straight_through"] == []
    assert finding.holds


def test_correlation_premise_is_measured_against_chance(builtin_findings):
    finding = builtin_findings["paper_arithmetic"]
    assert finding.numbers["independent"] == pytest.approx(1e-10, rel=1e-12)
    assert finding.numbers["perfectly_correlated"] == pytest.approx(0.1)
    pess, opt = finding.numbers["pessimistic"], finding.numbers["optimistic"]
    # 21 pairs; counting '?' as prone, techniques are prone to so many modes that their overlap
    # (52 shared) is no more than chance (53.57); on definite cells it is just above (43 > 42.71).
    assert pess["shared_observed"] == 52
    assert pess["shared_expected_if_independent"] == pytest.approx(375 / 7)
    assert opt["shared_observed"] == 43
    assert opt["shared_expected_if_independent"] == pytest.approx(299 / 7)
    assert finding.holds_by_policy == {"pessimistic": False, "optimistic": True}
    assert not finding.holds
    assert "does not show the correlation" in finding.statement


def test_fragility_counts(builtin_findings):
    finding = builtin_findings["fragility"]
    assert finding.numbers["change_counts"] == {
        "pessimistic": {
            "groups": 33,
            "best_pair": 18,
            "best_affordable_pair": 13,
            "top_priority": 2,
        },
        "optimistic": {
            "groups": 42,
            "best_pair": 22,
            "best_affordable_pair": 16,
            "top_priority": 0,
        },
    }
    assert finding.numbers["cells_checked"] == 98
    assert finding.numbers["fragile"] == {"pessimistic": [], "optimistic": []}
    assert finding.holds


def test_groups_pairs_and_priority_on_builtin(builtin_findings):
    correlated = builtin_findings["correlated_group"].numbers
    for policy in ("pessimistic", "optimistic"):
        assert [g["members"] for g in correlated[policy]] == [["RLHF", "RLAIF", "W2S"]]
    # On definite cells DEBATE is exactly as close to RLAIF/W2S as RLHF is: a tie, stated.
    assert correlated["tie_alternatives"] == {"optimistic": [["RLAIF", "W2S", "DEBATE"]]}
    assert "tied distances decide this" in builtin_findings["correlated_group"].statement
    complementary = builtin_findings["complementary_pair"].numbers
    assert complementary["pessimistic"]["best_overall"]["stack"] == ["RE", "SCIAI"]
    assert complementary["optimistic"]["best_overall"]["stack"] == ["RLHF", "SCIAI"]
    top = builtin_findings["top_priority"].numbers
    for policy in ("pessimistic", "optimistic"):
        assert [t["mode"] for t in top[policy]["top"]] == ["AL-GEN"]
        assert top[policy]["max_defeated"] == 6 and top[policy]["defeats_all"] == []
    high = builtin_findings["high_tax_group"].numbers
    assert high["pessimistic"]["failure_counts"] == {"SCIAI": 3, "IDA": 2}
    assert high["optimistic"]["failure_counts"] == {"SCIAI": 1, "IDA": 2}


# ------------------------------------------------------------ each finding can come out false
DISJOINT = make_catalog([[P, N, N], [N, P, N], [N, N, P]])


def test_no_correlated_group_does_not_hold():
    finding = _finding(DISJOINT, "correlated_group")
    assert not finding.holds and "no correlated group" in finding.statement


def test_high_tax_with_most_modes_does_not_hold():
    catalog = make_catalog([[P, P, P], [P, N, N], [N, P, N]], taxes=["high", "low", "low"])
    finding = _finding(catalog, "high_tax_group")
    assert not finding.holds and "(not the fewest)" in finding.statement
    assert finding.numbers["pessimistic"]["failure_counts"] == {"T0": 3}


def test_no_complementary_pair_does_not_hold():
    # Pairs share two modes each, and are far enough apart not to be one correlated group.
    catalog = make_catalog([[P, P, P, N], [P, P, N, P], [N, P, P, P]])
    finding = _finding(catalog, "complementary_pair")
    assert not finding.holds and "no complementary pair" in finding.statement


def test_mode_defeating_every_technique_does_not_hold():
    catalog = make_catalog([[P, P, N], [P, N, P], [P, N, N]])
    finding = _finding(catalog, "top_priority")
    assert not finding.holds
    assert finding.numbers["pessimistic"]["defeats_all"] == ["M0"]
    assert "M0 defeats every technique" in finding.statement


def test_overlap_below_chance_does_not_hold():
    finding = _finding(DISJOINT, "paper_arithmetic")
    assert not finding.holds
    assert finding.numbers["pessimistic"]["shared_observed"] == 0
    assert finding.numbers["pessimistic"]["shared_expected_if_independent"] == pytest.approx(1.0)


def test_overlap_above_chance_holds():
    catalog = make_catalog([[P, P, N, N], [P, P, N, N], [P, P, N, N]])
    finding = _finding(catalog, "paper_arithmetic")
    assert finding.holds
    # three pairs share 2 modes each; chance expects 2 x 2 / 4 = 1 per pair
    assert finding.numbers["pessimistic"]["shared_observed"] == 6
    assert finding.numbers["pessimistic"]["shared_expected_if_independent"] == pytest.approx(3.0)


def test_mode_through_every_stack_breaks_the_swiss_cheese_claim():
    catalog = make_catalog([[P, P, N], [P, N, P], [P, N, N]])
    finding = _finding(catalog, "swiss_cheese")
    assert not finding.holds
    assert finding.numbers["pessimistic"]["full_stack_straight_through"] == ["M0"]
    assert "no stack reaches panel C" in finding.statement


def test_no_leaky_deep_stack_breaks_the_swiss_cheese_claim():
    finding = _finding(DISJOINT, "swiss_cheese")
    assert not finding.holds
    assert finding.numbers["pessimistic"]["multi_layer_stacks_with_straight_through"] == 0
    assert "no stack of two or more layers lets a mode through" in finding.statement


def test_fragile_conclusions_do_not_hold():
    catalog = make_catalog([[P, N], [N, P]])
    finding = _finding(catalog, "fragility")
    assert not finding.holds
    assert finding.numbers["fragile"]["pessimistic"]
    assert "change under at least 50%" in finding.statement


def test_terminal_says_does_not_hold(tmp_path):
    path = tmp_path / "disjoint.json"
    path.write_text(DISJOINT.model_dump_json(), encoding="utf-8")
    out = CliRunner().invoke(main, ["analyze", "--catalog", str(path)])
    assert out.exit_code == 0, out.output
    assert out.output.count("does not hold") >= 4


# ------------------------------------------------------------------------------ tie-breaking
_TIED = {
    "T0": [P, P, P, N, N],
    "T1": [N, P, P, P, N],
    "T2": [N, N, P, P, P],
}


def _ordered(order: tuple[str, ...]) -> Catalog:
    data = make_catalog([_TIED[t] for t in order]).model_dump()
    rename = {f"T{i}": t for i, t in enumerate(order)}
    for technique in data["techniques"]:
        technique["id"] = rename[technique["id"]]
    for rating in data["ratings"]:
        rating["technique"] = rename[rating["technique"]]
    return Catalog.model_validate(data)


def test_groups_do_not_depend_on_technique_order():
    # d(T0,T1) = d(T1,T2) = 0.5 tie; d(T0,T2) = 0.8. Cut at 0.5, only one pair can merge.
    partitions = set()
    for order in itertools.permutations(_TIED):
        result = technique_groups(_ordered(order), policy="pessimistic", threshold=0.5)
        partitions.add(result.partition("pessimistic"))
        # The tie is reported: broken the other way, T1 and T2 would be the group.
        assert [set(g) for g in result.tie_alternatives["pessimistic"]] == [{"T1", "T2"}]
    assert partitions == {
        frozenset({("correlated", frozenset({"T0", "T1"})), ("ungrouped", frozenset({"T2"}))})
    }


def test_builtin_groups_do_not_depend_on_technique_order(builtin):
    data = builtin.model_dump()
    data["techniques"] = data["techniques"][::-1]
    reversed_catalog = Catalog.model_validate(data)
    for policy in ("pessimistic", "optimistic"):
        a = technique_groups(builtin, policy=policy).partition(policy)
        b = technique_groups(reversed_catalog, policy=policy).partition(policy)
        assert a == b


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -0.1, 1.5])
def test_non_finite_threshold_is_rejected_by_parameter_name(builtin, bad):
    with pytest.raises(InputError, match=r"^group_threshold: "):
        analyze(builtin, group_threshold=bad)
    with pytest.raises(InputError, match=r"^group_threshold: "):
        technique_groups(builtin, threshold=bad)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_threshold_is_one_line_on_the_cli(bad):
    out = CliRunner().invoke(main, ["analyze", f"--group-threshold={bad}"])
    assert out.exit_code == 2
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--group-threshold" in lines[0]
    assert "Traceback" not in out.output
