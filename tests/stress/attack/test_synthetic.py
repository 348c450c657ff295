"""A stack with a known structure gives the expected transfer matrix and adaptive penalty.

Layers A and B share one blind spot (an outer base64 encoding, on the behaviors marked
'weak', half of them); layer C has a different one (ROT13 anywhere). With the base64 and
ROT13 operators and compositions of two:

* A and B are bypassed on the weak half (base64), C on every behavior (rot13);
* an attack found against A passes B always and C never (and vice versa for B);
  an attack found against C (rot13 outside) passes neither A nor B;
* the whole stack falls only to ``rot13 > base64`` on the weak half: 0.5, while
  independence predicts 0.5 * 0.5 * 1 = 0.25, an adaptive correlation penalty of 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddrisk.stress.attack.results import attack_data
from ddrisk.stress.attack.statistics import analyze_attack
from ddrisk.stress.attack.store import AttackRecord

from .fakes import OuterBase64Weak, RotAnywhere, behaviors, run_attack


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory):
    layers = [OuterBase64Weak("A"), OuterBase64Weak("B"), RotAnywhere("C")]
    attack_dir, _, _ = run_attack(tmp_path_factory.mktemp("synthetic"), layers, behaviors(20))
    record = AttackRecord(attack_dir)
    try:
        return analyze_attack(attack_data(record), n_bootstrap=300)
    finally:
        record.close()


def test_per_layer_adaptive_and_static_rates(analysis) -> None:
    rows = analysis.layers.set_index("layer")
    assert rows.loc["A", "adaptive_k"] == rows.loc["B", "adaptive_k"] == 10
    assert rows.loc["C", "adaptive_k"] == 20
    assert (rows["adaptive_n"] == 20).all() and (rows["static_k"] == 0).all()


def test_transfer_matrix(analysis) -> None:
    cell = {(r.source, r.target): (r.k, r.n) for r in analysis.transfer.itertuples()}
    assert cell[("A", "B")] == (10, 10) and cell[("B", "A")] == (10, 10)  # shared blind spot
    assert cell[("A", "C")] == (0, 10) and cell[("B", "C")] == (0, 10)
    assert cell[("C", "A")] == (0, 20) and cell[("C", "B")] == (0, 20)
    ab = analysis.transfer.set_index(["source", "target"]).loc[("A", "B")]
    assert ab.rate == 1.0 and ab.target_adaptive == 0.5 and ab.target_static == 0.0


def test_stack_rate_independence_prediction_and_penalty(analysis) -> None:
    stack = analysis.stack
    assert stack["adaptive"]["k"] == 10 and stack["adaptive"]["n"] == 20
    assert stack["independence_prediction"]["estimate"] == pytest.approx(0.25)
    penalty = stack["penalty"]
    assert penalty["estimable"] and penalty["estimate"] == pytest.approx(2.0)
    assert penalty["lo"] <= 2.0 <= penalty["hi"]
    assert stack["static_joint"]["k"] == 0
    assert {tuple(k["chain"]) for k in analysis.master_keys} == {("rot13", "base64")}
    counts = analysis.operators.set_index("operator")["in_master_keys"]
    assert counts["rot13"] == counts["base64"] == 10
    # root, two single operators, then rot13 > base64 comes second or fourth
    assert all(k["queries"] in (4, 5) for k in analysis.master_keys)


def test_queries_to_first_bypass_curve(analysis) -> None:
    curve = analysis.curve.set_index("budget")
    assert (curve.loc[1] == 0).all()  # the original prompt passes nothing
    assert curve.loc[3, "A"] == curve.loc[3, "B"] == 0.5 and curve.loc[3, "C"] == 1.0
    assert curve.loc[3, "stack"] == 0.0 and curve.loc[10, "stack"] == 0.5
    assert analysis.stack["median_queries_to_master_key"] in (4.0, 5.0)


def test_counts_for_risk_carry_the_adaptive_rates(analysis) -> None:
    from ddrisk.risk.evidence import parse_stress_counts

    counts = parse_stress_counts(analysis.counts_for_risk())
    assert counts.layers["A"].failures == 10 and counts.layers["C"].n == 20
    assert counts.joint is not None and (counts.joint.failures, counts.joint.n) == (10, 20)


def test_independent_blind_spots_give_no_penalty(tmp_path: Path) -> None:
    """Control: with one weak behavior the stack falls exactly as often as independence predicts."""
    layers = [OuterBase64Weak("A"), RotAnywhere("C")]
    items = behaviors(20, weak_every=1000)  # only b00 is weak
    attack_dir, _, _ = run_attack(tmp_path, layers, items)
    record = AttackRecord(attack_dir)
    analysis = analyze_attack(attack_data(record), n_bootstrap=100)
    record.close()
    stack = analysis.stack
    assert stack["adaptive"]["k"] == 1 and stack["adaptive"]["upper_bound"] is None
    # independence predicts 1/20 * 20/20 = 0.05: one expected master key in 20, so estimable
    assert stack["independence_prediction"]["estimate"] == pytest.approx(0.05)
    assert stack["penalty"]["estimate"] == pytest.approx(1.0)


def test_a_layer_never_bypassed_makes_the_penalty_not_estimable(tmp_path: Path) -> None:
    from .fakes import BlockAll

    attack_dir, _, _ = run_attack(tmp_path, [BlockAll("wall"), RotAnywhere("C")], behaviors(6))
    record = AttackRecord(attack_dir)
    analysis = analyze_attack(attack_data(record), n_bootstrap=50)
    record.close()
    stack = analysis.stack
    assert stack["adaptive"]["k"] == 0 and stack["adaptive"]["upper_bound"] == pytest.approx(
        1 - 0.05 ** (1 / 6)
    )
    assert stack["penalty"]["estimable"] is False and stack["penalty"]["estimate"] is None
