"""Every fault tree SCRAM ships, quantified by ddrisk, agrees with SCRAM to its printed digits.

The trees and their basic-event files come with Debian's ``scram`` package
(``/usr/share/scram/input``). The reference is SCRAM itself, run here as
``scram --bdd --probability true -l 1 FILES`` (it prints 6 significant digits). Skipped
when SCRAM is absent, except in CI (``CI`` set), which installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ddrisk.io.mef_fault_tree import read_mef_fault_tree
from ddrisk.risk.faulttree import quantify_fault_tree

INPUT = Path("/usr/share/scram/input")
SMALL_TREES = {
    "Baobab1": ["Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"],
    "Baobab2": ["Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"],
    "Chinese": ["Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"],
    "HIPPS": ["HIPPS/HIPPS.xml"],  # periodic-test and GLM at the default mission time
    "Lift": ["Lift/lift.xml"],
    "Theatre": ["Theatre/theatre.xml"],
    "ThreeMotor": ["ThreeMotor/three_motor.xml"],
    "TwoTrain": ["TwoTrain/two_train.xml"],
    "ne574": ["ne574/ne574.xml"],
    "BSCU": ["BSCU/BSCU.xml"],
    "SmallTree": ["SmallTree/SmallTree.xml"],
}
CEA9601 = ["CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"]
CEA9601_SCRAM_PRINTED = "2.38155e-06"
"""``scram --bdd --probability true -l 1 CEA9601.xml CEA9601-basic-events.xml`` (SCRAM 0.16.2)."""

needs_scram = pytest.mark.skipif(
    (shutil.which("scram") is None or not INPUT.is_dir()) and not os.environ.get("CI"),
    reason="SCRAM and its shipped trees (Debian package scram) are not installed",
)


def _scram_printed(files: list[Path]) -> str:
    done = subprocess.run(
        ["scram", "--bdd", "--probability", "true", "-l", "1", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    match = re.search(r'<sum-of-products[^>]*probability="([^"]+)"', done.stdout)
    assert match is not None, done.stdout[-500:]
    return match.group(1)


def _agrees(printed: str, value: float) -> bool:
    """Equal to every digit SCRAM printed (it drops trailing zeros, so compare as printed)."""
    return f"{value:.6g}" == f"{float(printed):.6g}"


@needs_scram
@pytest.mark.parametrize("name", sorted(SMALL_TREES))
def test_shipped_tree_agrees_with_scram(name: str) -> None:
    files = [INPUT / f for f in SMALL_TREES[name]]
    result = quantify_fault_tree(read_mef_fault_tree(files), importance=True)
    printed = _scram_printed(files)
    assert _agrees(printed, result.probability), (name, printed, result.probability)


def test_agreement_check_can_fail() -> None:
    assert _agrees("0.00162091", 0.0016209100001)
    assert not _agrees("0.00162091", 0.00162092)


@needs_scram
@pytest.mark.slow
def test_cea9601_with_not_gates_agrees_with_scram() -> None:
    """186 events, 30 ``not`` gates: a BDD of about 1.2 million nodes, read vectorised."""
    files = [INPUT / f for f in CEA9601]
    tree = read_mef_fault_tree(files)
    assert not tree.is_coherent()
    result = quantify_fault_tree(tree)
    assert result.bdd_nodes > 100_000
    assert _agrees(CEA9601_SCRAM_PRINTED, result.probability), result.probability
