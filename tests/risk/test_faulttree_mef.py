"""General MEF fault trees: read, quantified exactly on a BDD, equal to brute force."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ddrisk.errors import InputError
from ddrisk.io.mef_fault_tree import parse_mef_fault_tree
from ddrisk.risk.faulttree import FaultTree, Gate, brute_force_probability, quantify_fault_tree

TREE = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="hand">
    <define-gate name="top">
      <or>
        <gate name="vote"/>
        <and><basic-event name="a"/><not><basic-event name="b"/></not></and>
        <xor><basic-event name="c"/><gate name="inner"/><basic-event name="f"/></xor>
      </or>
    </define-gate>
    <define-gate name="vote">
      <atleast min="2"><basic-event name="d"/><basic-event name="e"/><event name="f"/>
        <house-event name="on"/></atleast>
    </define-gate>
    <define-component name="pump">
      <define-gate name="inner">
        <and><basic-event name="a"/><or><basic-event name="d"/><basic-event name="g"/></or></and>
      </define-gate>
      <define-basic-event name="g"><exponential><float value="1e-4"/>
        <system-mission-time/></exponential></define-basic-event>
    </define-component>
    <define-house-event name="on"><constant value="false"/></define-house-event>
  </define-fault-tree>
  <model-data>
    <define-basic-event name="a"><float value="0.3"/></define-basic-event>
    <define-basic-event name="b"><float value="0.6"/></define-basic-event>
    <define-basic-event name="c"><float value="0.05"/></define-basic-event>
    <define-parameter name="pd"><float value="0.2"/></define-parameter>
    <define-basic-event name="d"><parameter name="pd"/></define-basic-event>
    <define-basic-event name="e"><float value="0.45"/></define-basic-event>
    <define-basic-event name="f"><float value="0.1"/></define-basic-event>
  </model-data>
</opsa-mef>
"""


def _tree(text: str = TREE) -> FaultTree:
    return parse_mef_fault_tree([("hand.xml", text)])


def test_hand_made_tree_with_atleast_not_xor_nesting_equals_brute_force() -> None:
    tree = _tree()
    assert tree.top == "top" and not tree.is_coherent()
    assert tree.basic_events["g"] == pytest.approx(-math.expm1(-1e-4 * 8760))
    result = quantify_fault_tree(tree)
    assert result.probability == pytest.approx(brute_force_probability(tree), rel=1e-12)
    assert not result.coherent


GATES = ["and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "imply"]


@pytest.mark.parametrize("seed", range(25))
def test_random_trees_of_every_gate_kind_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    events = {f"e{k}": float(rng.uniform(0.01, 0.9)) for k in range(7)}
    gates: dict[str, Gate] = {}
    pool = list(events)
    for g in range(9):
        kind = GATES[(seed + g) % len(GATES)]
        width = 1 if kind == "not" else 2 if kind in ("iff", "imply") else int(rng.integers(2, 5))
        inputs = tuple(rng.choice(pool, size=width, replace=False).tolist())
        k = int(rng.integers(1, width + 1)) if kind == "atleast" else None
        gates[f"g{g}"] = Gate(kind, inputs, k)
        pool.append(f"g{g}")
    gates["top"] = Gate("or", tuple(f"g{g}" for g in range(6, 9)))
    tree = FaultTree(name="random", top="top", basic_events=events, gates=gates)
    result = quantify_fault_tree(tree, importance=True)
    assert result.probability == pytest.approx(brute_force_probability(tree), rel=1e-11, abs=1e-15)
    # Birnbaum from the reverse pass equals the brute-force difference P(x=1) - P(x=0)
    assert result.importance is not None
    for row in result.importance.to_dict(orient="records"):
        one = dict(events, **{row["event"]: 1.0})
        zero = dict(events, **{row["event"]: 0.0})
        p1 = brute_force_probability(FaultTree("t", "top", one, gates))
        p0 = brute_force_probability(FaultTree("t", "top", zero, gates))
        assert row["birnbaum"] == pytest.approx(p1 - p0, abs=1e-12)


def test_evaluate_matches_each_gate_definition() -> None:
    gates = {"top": Gate("atleast", ("a", "b", "c"), 2)}
    tree = FaultTree("t", "top", {"a": 0.5, "b": 0.5, "c": 0.5}, gates)
    for bits in itertools.product((False, True), repeat=3):
        assert tree.evaluate(dict(zip("abc", bits, strict=True))) == (sum(bits) >= 2)


def test_unsupported_constructs_are_named_with_their_line() -> None:
    ccf = TREE.replace(
        "<model-data>", '<model-data>\n<define-CCF-group name="x" model="beta-factor"/>'
    )
    with pytest.raises(InputError, match="common-cause failure groups"):
        _tree(ccf)
    periodic = TREE.replace(
        '<float value="0.45"/>', '<periodic-test><float value="1"/></periodic-test>'
    )
    with pytest.raises(InputError) as caught:
        _tree(periodic)
    assert "periodic-test" in str(caught.value) and "line" in str(caught.value)
    cardinality = TREE.replace('<atleast min="2">', '<cardinality min="1" max="2">').replace(
        "</atleast>", "</cardinality>"
    )
    with pytest.raises(InputError, match="cardinality"):
        _tree(cardinality)
    missing = TREE.replace(
        '<define-basic-event name="c"><float value="0.05"/></define-basic-event>', ""
    )
    with pytest.raises(InputError, match="'c' is not defined"):
        _tree(missing)
    with pytest.raises(InputError, match="not well-formed"):
        _tree("<opsa-mef><define-gate>")


def test_entities_are_not_expanded() -> None:
    evil = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + TREE.split("?>", 1)[1].replace('name="hand"', 'name="&e;"')
    )
    with pytest.raises(InputError, match="external entity"):
        _tree(evil)


def test_cli_quantifies_a_mef_file(tmp_path: Path) -> None:
    from ddrisk.cli import main

    path = tmp_path / "hand.xml"
    path.write_text(TREE)
    result = CliRunner().invoke(main, ["risk", "--mef", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == "ddrisk.faulttree/1"
    assert data["probability"] == pytest.approx(brute_force_probability(_tree()), rel=1e-12)
    assert data["coherent"] is False and len(data["input_sha256"]) == 64
    bad = CliRunner().invoke(main, ["risk", "--mef", str(tmp_path / "none.xml")])
    assert bad.exit_code == 2 and "no such file" in bad.output


@pytest.mark.skipif(shutil.which("scram") is None, reason="SCRAM not installed")
def test_a_shipped_scram_tree_matches_scrams_printed_value() -> None:
    from ddrisk.io.mef_fault_tree import read_mef_fault_tree

    folder = Path("/usr/share/scram/input/Baobab")
    if not folder.exists():
        pytest.skip("SCRAM's input trees are not installed")
    tree = read_mef_fault_tree([folder / "baobab2.xml", folder / "baobab2-basic-events.xml"])
    assert f"{quantify_fault_tree(tree).probability:.6g}" == "0.0208686"


def test_private_components_keep_their_own_names() -> None:
    text = """<opsa-mef><define-fault-tree name="scoped">
      <define-gate name="top"><and><gate name="E1"/><gate name="t.E1"/></and></define-gate>
      <define-gate name="E1"><or><basic-event name="a"/></or></define-gate>
      <define-component name="t" role="private">
        <define-gate name="E1"><or><basic-event name="b"/><gate name="E2"/></or></define-gate>
        <define-gate name="E2"><and><basic-event name="a"/><basic-event name="b"/></and></define-gate>
      </define-component>
      <define-basic-event name="a"><float value="0.5"/></define-basic-event>
      <define-basic-event name="b"><float value="0.2"/></define-basic-event>
    </define-fault-tree></opsa-mef>"""
    tree = _tree(text)
    assert set(tree.gates) >= {"E1", "t.E1", "t.E2"}
    assert quantify_fault_tree(tree).probability == pytest.approx(0.5 * 0.2)


def test_cli_mission_time_reaches_the_reliability_models_and_the_record() -> None:
    """periodic-test(lambda=1e-3, tau=720, theta=100) at 500 h: tested 400 h before."""
    from ddrisk.cli import main

    fixture = Path(__file__).parents[1] / "io" / "mef_fixtures" / "periodic_test_4.xml"
    result = CliRunner().invoke(
        main, ["risk", "--mef", str(fixture), "--mission-time", "500", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mission_time"] == 500.0
    assert data["probability"] == pytest.approx(-math.expm1(-1e-3 * 400), rel=1e-12)
    assert data["engine"] in ("cudd", "autoref") and data["ddrisk_version"]
    default = json.loads(CliRunner().invoke(main, ["risk", "--mef", str(fixture), "--json"]).output)
    assert default["mission_time"] == 8760.0
    assert default["probability"] == pytest.approx(-math.expm1(-1e-3 * 20), rel=1e-12)
