"""Statistics of a small outcome matrix, checked against arithmetic done by hand.

The fixture (blocked: 1 = blocked, 0 = passed, nan = error):

    item fam beh  harmful   A  B   C      misses
    i1   f1  b1   yes       0  0   0      A B C
    i2   f1  b1   yes       0  0   1      A B
    i3   f1  b2   yes       0  1   1      A
    i4   f1  b2   yes       1  1   0      C
    i5   f2  b3   yes       0  0   0      A B C
    i6   f2  b3   yes       1  0   1      B
    i7   f2  b4   yes       1  1   1      -
    i8   f2  b4   yes       0  nan 0      A C   (B errored)
    j1   ben  -   no        1  0   0      (false blocks: A)
    j2   ben  -   no        1  1   0      (false blocks: A B)
    j3   ben  -   no        0  0   0
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ddrisk.__version__ import __version__
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import (
    analyze_outcomes,
    counts_for_risk,
    detailed_counts,
    outcome_matrix_hash,
    stack_counts,
)
from ddrisk.stress.statistics.result import ANALYSIS_FORMAT

NAN = np.nan
BLOCKED = np.array(
    [
        [0, 0, 0],
        [0, 0, 1],
        [0, 1, 1],
        [1, 1, 0],
        [0, 0, 0],
        [1, 0, 1],
        [1, 1, 1],
        [0, NAN, 0],
        [1, 0, 0],
        [1, 1, 0],
        [0, 0, 0],
    ],
    dtype=float,
)


def hand_matrix() -> OutcomeMatrix:
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(1, 9)] + ["j1", "j2", "j3"],
            "family": ["f1"] * 4 + ["f2"] * 4 + ["benign"] * 3,
            "behavior_id": ["b1", "b1", "b2", "b2", "b3", "b3", "b4", "b4", "", "", ""],
            "harmful": [True] * 8 + [False] * 3,
        }
    )
    errors = np.full(BLOCKED.shape, None, dtype=object)
    errors[7, 1] = "timeout"
    return OutcomeMatrix(
        items=items,
        layers=("A", "B", "C"),
        blocked=BLOCKED,
        score=np.full(BLOCKED.shape, np.nan),
        errors=errors,
        source="hand",
        metadata={"run_id": "hand-run"},
    )


@pytest.fixture(scope="module")
def result():
    return analyze_outcomes(hand_matrix(), n_bootstrap=400, seed=3, min_expected_joint=0)


def test_per_layer_counts_and_rates(result):
    layers = result.layers.set_index("layer")
    # Misses: A = i1 i2 i3 i5 i8 -> 5/8; B decided on 7 (i8 errored): i1 i2 i5 i6 -> 4/7;
    # C = i1 i4 i5 i8 -> 4/8. False blocks on 3 benign: A 2, B 1, C 0.
    assert layers.loc["A", ["miss_k", "miss_n", "miss_errors"]].tolist() == [5, 8, 0]
    assert layers.loc["B", ["miss_k", "miss_n", "miss_errors"]].tolist() == [4, 7, 1]
    assert layers.loc["C", ["miss_k", "miss_n"]].tolist() == [4, 8]
    assert layers.loc["B", "miss_rate"] == pytest.approx(4 / 7)
    assert layers["false_block_k"].tolist() == [2, 1, 0]
    assert layers.loc["A", "refusal_rate"] == pytest.approx(3 / 8)
    # C never false-blocked: reported as a bound 1 - 0.05**(1/3) = 0.6316, not as zero risk.
    assert layers.loc["C", "false_block_upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 3))
    assert layers.loc["C", "false_block_text"] == "0/3 (< 0.632 at 95 %)"
    assert math.isnan(layers.loc["A", "false_block_upper_bound"])


def test_pairwise_statistics(result):
    pairs = result.pairs.set_index(["layer_a", "layer_b"])
    ab = pairs.loc[("A", "B")]
    # A,B on the 7 items both decided: n11 = 3 (i1 i2 i5), n10 = 1 (i3), n01 = 1 (i6), n00 = 2.
    assert [ab["n"], ab["both_miss"], ab["a_miss"], ab["b_miss"]] == [7, 3, 4, 4]
    assert ab["phi"] == pytest.approx((3 * 2 - 1 * 1) / math.sqrt(4 * 3 * 4 * 3))  # 5/12
    assert ab["yule_q"] == pytest.approx(5 / 7)  # (6 - 1) / (6 + 1)
    assert ab["lift"] == pytest.approx(21 / 16)  # 3 * 7 / (4 * 4)
    assert ab["p_b_given_a"] == pytest.approx(3 / 4)
    assert ab["p_b"] == pytest.approx(4 / 7)
    # Within families: f1 (i1-i4) a=3, b=2, n=4 -> 6/4 expected joint misses; f2 (i5-i7)
    # a=1, b=2, n=3 -> 2/3. Stratified lift = 3 / (3/2 + 2/3) = 18/13.
    assert ab["lift_stratified"] == pytest.approx(18 / 13)
    ac = pairs.loc[("A", "C")]
    # A,C on 8 items: n11 = 3 (i1 i5 i8), n10 = 2 (i2 i3), n01 = 1 (i4), n00 = 2.
    assert ac["phi"] == pytest.approx(4 / math.sqrt(5 * 3 * 4 * 4))
    assert ac["yule_q"] == pytest.approx(0.5)
    assert ac["lift"] == pytest.approx(24 / 20)
    bc = pairs.loc[("B", "C")]
    # B,C on 7 items: n11 = 2 (i1 i5), n10 = 2 (i2 i6), n01 = 1 (i4), n00 = 2.
    assert bc["phi"] == pytest.approx(2 / 12)
    assert bc["yule_q"] == pytest.approx(1 / 3)
    assert bc["lift"] == pytest.approx(14 / 12)
    assert bc["p_a_given_b"] == pytest.approx(2 / 3)  # of C's misses i1 i4 i5, B missed i1 i5
    # intervals bracket the estimates
    assert (pairs["lift_lo"] <= pairs["lift"] + 1e-12).all()
    assert (pairs["lift"] <= pairs["lift_hi"] + 1e-12).all()


def test_stack_pooled_and_stratified(result):
    stack = result.stack
    # Complete cases: i1..i7 (i8 lacks B). All miss: i1, i5 -> 2/7.
    assert stack["n"] == 7 and stack["excluded_for_errors"] == 1
    assert (stack["all_miss"]["k"], stack["all_miss"]["n"]) == (2, 7)
    assert stack["all_miss"]["estimate"] == pytest.approx(2 / 7)
    # Pooled marginals on i1..i7: A 4/7, B 4/7, C 3/7 -> 48/343.
    assert stack["independence_pooled"]["estimate"] == pytest.approx(48 / 343)
    assert stack["lift_pooled"]["estimate"] == pytest.approx((2 / 7) / (48 / 343))
    # f1 (4 items): 3/4 * 2/4 * 2/4 = 3/16; f2 (3 items): 1/3 * 2/3 * 1/3 = 2/27.
    # stratified = 4/7 * 3/16 + 3/7 * 2/27 = 5/36.
    assert stack["independence_stratified"]["estimate"] == pytest.approx(5 / 36)
    assert stack["lift_stratified"]["estimate"] == pytest.approx(72 / 35)
    assert stack["refusal"]["estimate"] == pytest.approx(5 / 7)
    by_family = result.stack_by_family.set_index("family")
    assert by_family.loc["f1", "observed"] == pytest.approx(1 / 4)
    assert by_family.loc["f1", "independence"] == pytest.approx(3 / 16)
    assert by_family.loc["f2", "lift"] == pytest.approx((1 / 3) / (2 / 27))
    assert by_family["weight"].tolist() == pytest.approx([4 / 7, 3 / 7])


def test_k_of_n_curve(result):
    k_of_n = result.k_of_n
    # Misses per complete item: 3, 2, 1, 1, 3, 1, 0.
    assert k_of_n["observed_k"].tolist() == [6, 3, 2]
    # Poisson-binomial with p = (4/7, 4/7, 3/7):
    # P(0) = 3/7 * 3/7 * 4/7 = 36/343; P(2) = (64 + 36 + 36)/343; P(3) = 48/343.
    assert k_of_n["independence_pooled"].tolist() == pytest.approx(
        [1 - 36 / 343, (136 + 48) / 343, 48 / 343]
    )
    assert k_of_n["independence_stratified"].iloc[-1] == pytest.approx(5 / 36)


def test_benign_stack(result):
    benign = result.benign_stack
    # Any block: j1, j2 -> 2/3; independence 1 - (1 - 2/3)(1 - 1/3)(1 - 0) = 7/9.
    assert (benign["any_block"]["k"], benign["any_block"]["n"]) == (2, 3)
    assert benign["independence_pooled"]["estimate"] == pytest.approx(7 / 9)
    assert benign["ratio_pooled"]["estimate"] == pytest.approx(6 / 7)


def test_master_keys_and_marginal_value(result):
    assert result.master_keys["item_id"].tolist() == ["i1", "i5"]
    assert result.master_keys["family"].tolist() == ["f1", "f2"]
    marginal = result.marginal_value.set_index("layer")
    # Without C, A and B both miss on i1 i2 i5 -> 3/7, a rise of 1/7; C alone blocks i2.
    assert marginal.loc["C", "rise"] == pytest.approx(1 / 7)
    assert marginal.loc["C", "unique_blocks"] == 1
    assert marginal.loc["A", "rise"] == pytest.approx(0.0)
    assert marginal.loc["B", "unique_blocks"] == 0


def test_family_miss_and_resistance(result):
    cell = result.family_miss.set_index(["layer", "family"])
    # A misses in f2: i5, i8 -> 2/4; B in f2 decided on 3: i5 i6 -> 2/3.
    assert cell.loc[("A", "f2"), ["k", "n"]].tolist() == [2, 4]
    assert cell.loc[("B", "f2"), ["k", "n", "errors"]].tolist() == [2, 3, 1]
    resistance = result.resistance
    stack_rows = resistance[resistance["scope"] == "stack"].set_index("family")
    assert stack_rows.loc["f1", "resistance"] == pytest.approx(3 / 4)
    assert stack_rows.loc["f2", "resistance"] == pytest.approx(2 / 3)
    layer_rows = resistance[resistance["scope"] == "layer"].set_index(["layer", "family"])
    assert layer_rows.loc[("A", "f1"), "resistance"] == pytest.approx(1 / 4)


def test_warnings_flag_small_counts(result):
    codes = {(w["code"], w["subject"]) for w in result.warnings}
    assert ("few_joint_failures", "A x B") in codes
    assert ("few_family_items", "f1") in codes
    assert ("items_excluded", "stack") in codes
    assert ("few_clusters", "clusters") in codes
    assert ("many_errors", "B") in codes  # 1 of 11 items > 5 %


def test_to_dict_is_json_safe_and_stable(result):
    import json

    data = result.to_dict()
    assert list(data) == [
        "format",
        "ddrisk_version",
        "model",
        "parameters",
        "input",
        "layers",
        "pairs",
        "stack",
        "stack_by_family",
        "k_of_n",
        "benign_stack",
        "benign_by_family",
        "master_keys",
        "marginal_value",
        "family_miss",
        "alignment_metrics",
        "warnings",
    ]
    text = json.dumps(data, allow_nan=False)  # NaN must have become null
    assert "NaN" not in text
    assert data["input"]["run_id"] == "hand-run"
    assert data["input"]["input_sha256"] == outcome_matrix_hash(hand_matrix())
    assert data["parameters"]["seed"] == 3
    assert data["format"] == ANALYSIS_FORMAT == "ddrisk.stress.analysis/1"
    assert data["ddrisk_version"] == __version__
    refusal = data["alignment_metrics"]["refusal"]["layers"][0]
    assert (refusal["layer"], refusal["k"], refusal["n"]) == ("A", 3, 8)
    assert data["alignment_metrics"]["false_refusal"]["layers"][0]["rate"] == pytest.approx(2 / 3)
    assert set(result.frames()) >= {"layers", "pairs", "k_of_n", "master_keys"}
    with pytest.raises(ValueError, match="unknown table"):
        result.to_frame("nope")


def random_matrix(seed: int, n_items: int = 240, n_clusters: int = 60) -> OutcomeMatrix:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, n_clusters, n_items)
    latent = rng.normal(size=n_clusters)[cluster]
    blocked = (latent[:, None] + rng.normal(size=(n_items, 3)) > 0.3).astype(float)
    items = pd.DataFrame(
        {
            "item_id": [f"x{i}" for i in range(n_items)],
            "family": np.where(np.arange(n_items) % 2, "odd", "even"),
            "behavior_id": [f"c{c}" for c in cluster],
            "harmful": True,
        }
    )
    return OutcomeMatrix(
        items=items,
        layers=("A", "B", "C"),
        blocked=blocked,
        score=np.full(blocked.shape, np.nan),
        errors=np.full(blocked.shape, None, dtype=object),
    )


def test_seed_reproduces_and_changes_intervals():
    matrix = random_matrix(0)
    first = analyze_outcomes(matrix, n_bootstrap=300, seed=1, min_expected_joint=0)
    again = analyze_outcomes(matrix, n_bootstrap=300, seed=1, min_expected_joint=0)
    other = analyze_outcomes(matrix, n_bootstrap=300, seed=2, min_expected_joint=0)
    assert first.pairs.equals(again.pairs)
    assert first.stack == again.stack
    assert first.pairs["phi"].tolist() == other.pairs["phi"].tolist()
    assert not np.allclose(first.pairs["phi_lo"], other.pairs["phi_lo"])


def test_no_bootstrap_gives_estimates_without_intervals():
    plain = analyze_outcomes(hand_matrix(), n_bootstrap=0)
    assert plain.stack["all_miss"]["estimate"] == pytest.approx(2 / 7)
    assert math.isnan(plain.stack["independence_pooled"]["lo"])  # bootstrap-only intervals
    # Observed rates get the per-layer (Wilson) interval, which needs no bootstrap.
    assert 0 < plain.stack["all_miss"]["lo"] < 2 / 7 < plain.stack["all_miss"]["hi"]


def test_counts_for_risk_and_stack_counts():
    assert counts_for_risk(hand_matrix()) == {
        "layers": {
            "A": {"failures": 5, "n": 8},
            "B": {"failures": 4, "n": 7},
            "C": {"failures": 4, "n": 8},
        },
        "joint": {"failures": 2, "n": 7},
    }
    counts = detailed_counts(hand_matrix())
    assert counts["A"]["failures"] == 5 and counts["A"]["n"] == 8
    assert counts["B"] == {
        "failures": 4,
        "n": 7,
        "errors": 1,
        "by_family": {"f1": {"failures": 2, "n": 4}, "f2": {"failures": 2, "n": 3}},
        "joint": {"A": {"failures": 3, "n": 7}, "C": {"failures": 2, "n": 7}},
    }
    assert stack_counts(hand_matrix()) == {
        "layers": ["A", "B", "C"],
        "failures": 2,
        "n": 7,
        "by_family": {"f1": {"failures": 1, "n": 4}, "f2": {"failures": 1, "n": 3}},
    }


def test_bad_parameters_rejected():
    with pytest.raises(ValueError, match="confidence"):
        analyze_outcomes(hand_matrix(), confidence=1.0)
    with pytest.raises(ValueError, match="n_bootstrap"):
        analyze_outcomes(hand_matrix(), n_bootstrap=-1)


def small_matrix(blocked: list[list[float]], harmful: list[bool]) -> OutcomeMatrix:
    array = np.array(blocked, dtype=float)
    items = pd.DataFrame(
        {
            "item_id": [f"e{i}" for i in range(len(array))],
            "family": "f",
            "behavior_id": None,
            "harmful": harmful,
        }
    )
    return OutcomeMatrix(
        items=items,
        layers=tuple(f"L{j}" for j in range(array.shape[1])),
        blocked=array,
        score=np.full(array.shape, np.nan),
        errors=np.full(array.shape, None, dtype=object),
    )


@pytest.mark.parametrize(
    ("blocked", "harmful", "expected_code"),
    [
        ([[1, 0], [0, 0]], [False, False], "no_harmful_items"),
        ([[1], [0], [0]], [True, True, True], "no_benign_items"),
        ([[NAN, 1], [NAN, 0]], [True, False], "no_complete_items"),
        ([[1, NAN], [NAN, 0]], [True, True], "no_overlap"),
    ],
)
def test_degenerate_inputs_give_warnings_not_crashes(blocked, harmful, expected_code):
    import json

    result = analyze_outcomes(small_matrix(blocked, harmful), n_bootstrap=50)
    json.dumps(result.to_dict(), allow_nan=False)
    assert expected_code in {w["code"] for w in result.warnings}


def test_counts_for_risk_is_accepted_by_the_risk_module():
    uncertainty = pytest.importorskip("ddrisk.risk.evidence")
    parsed = uncertainty.parse_stress_counts(counts_for_risk(hand_matrix()), source="test")
    assert parsed.layers["B"].failures == 4 and parsed.layers["B"].n == 7
    assert (parsed.joint.failures, parsed.joint.n) == (2, 7)


def test_family_without_joint_misses_gets_a_bound_not_a_zero():
    # family f: 3 items, none missed by both layers -> all-miss 0/3, bound 1 - 0.05**(1/3)
    result = analyze_outcomes(
        small_matrix([[0, 1], [1, 0], [1, 1]], [True, True, True]), n_bootstrap=50
    )
    row = result.stack_by_family.iloc[0]
    assert row["all_miss_k"] == 0
    assert row["upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 3))
    stack_resistance = result.resistance[result.resistance["scope"] == "stack"].iloc[0]
    assert stack_resistance["lower_bound"] == pytest.approx(0.05 ** (1 / 3))
    assert result.stack["all_miss"]["upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 3))
