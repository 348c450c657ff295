"""MEF expressions (reliability models, arithmetic, mission time) read from XML agree with SCRAM.

Each fixture in ``mef_fixtures/`` is a one-event tree whose probability is one expression.
The reference numbers are SCRAM 0.16.2's printed output of

    scram --bdd --probability true -l 1 --mission-time T tests/io/mef_fixtures/NAME.xml

and, where SCRAM is installed (always in CI), the test also runs that command itself.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.mef_fault_tree import read_mef_fault_tree
from ddrisk.risk.faulttree import quantify_fault_tree

FIXTURES = Path(__file__).parent / "mef_fixtures"

# (fixture, mission time, SCRAM's printed probability)
SCRAM_PRINTED = [
    ("periodic_test_4", 50, "0.0487706"),  # before the first test: 1 - exp(-lambda t)
    ("periodic_test_4", 100, "0.0951626"),  # at the first test: not yet tested
    ("periodic_test_4", 500, "0.32968"),
    ("periodic_test_4", 820, "0.513248"),  # a test exactly at t has not happened yet
    ("periodic_test_4", 8760, "0.0198013"),
    ("periodic_test_5", 50, "0.0487706"),
    ("periodic_test_5", 500, "0.324529"),
    ("periodic_test_5", 800, "0.49826"),
    ("periodic_test_5", 820, "0.50818"),
    ("periodic_test_5", 1000, "0.210902"),
    ("periodic_test_5", 8760, "0.410024"),
    ("weibull", 100, "0"),  # before t0
    ("weibull", 500, "0.151527"),
    ("weibull", 8760, "1"),
    ("glm", 0, "0.01"),
    ("glm", 10, "0.00684582"),
    ("glm", 8760, "0.00199601"),
    ("exponential", 1000, "0.0198013"),
    ("exponential", 8760, "0.160711"),
    ("arithmetic", 8760, "0.2"),
    ("functions", 8760, "0.0497871"),
]


def _printed(value: float) -> str:
    """A probability as SCRAM prints it (C++ ostream default: 6 significant digits)."""
    return f"{value:.6g}"


def _ddrisk(name: str, mission_time: float) -> float:
    tree = read_mef_fault_tree([FIXTURES / f"{name}.xml"], mission_time=mission_time)
    return quantify_fault_tree(tree).probability


@pytest.mark.parametrize(("name", "mission_time", "printed"), SCRAM_PRINTED)
def test_expression_agrees_with_scram_printed_digits(
    name: str, mission_time: float, printed: str
) -> None:
    assert _printed(_ddrisk(name, mission_time)) == printed


def test_expressions_equal_their_closed_forms() -> None:
    """The same fixtures against the formulas written out by hand."""
    assert _ddrisk("exponential", 1000) == pytest.approx(1 - math.exp(-2e-5 * 1000), rel=1e-12)
    # Weibull(alpha=1000, beta=1.5, t0=200) at t = 500
    assert _ddrisk("weibull", 500) == pytest.approx(1 - math.exp(-(0.3**1.5)), rel=1e-12)
    # GLM(gamma=0.01, lambda=1e-4, mu=0.05) at t = 10
    lam, mu, gamma = 1e-4, 0.05, 0.01
    glm = (lam - (lam - gamma * (lam + mu)) * math.exp(-(lam + mu) * 10)) / (lam + mu)
    assert _ddrisk("glm", 10) == pytest.approx(glm, rel=1e-12)
    # periodic-test(lambda=1e-3, tau=720, theta=100): 8660 h after the first test,
    # the last test was 8660 mod 720 = 20 h ago
    assert _ddrisk("periodic_test_4", 8760) == pytest.approx(1 - math.exp(-1e-3 * 20), rel=1e-12)
    assert _ddrisk("arithmetic", 1) == pytest.approx(0.5 - 0.1 * 2 - 0.3 / 3, rel=1e-12)
    assert _ddrisk("functions", 1) == pytest.approx(math.exp(-3), rel=1e-12)


def test_mission_time_changes_the_answer() -> None:
    assert _ddrisk("exponential", 1000) != _ddrisk("exponential", 8760)


def test_eleven_argument_periodic_test_is_a_clear_error() -> None:
    with pytest.raises(InputError) as caught:
        read_mef_fault_tree([FIXTURES / "periodic_test_11.xml"])
    message = str(caught.value)
    assert "periodic_test_11.xml" in message
    assert "line 13" in message
    assert "11 arguments" in message


def _scram_available() -> bool:
    return shutil.which("scram") is not None


@pytest.mark.skipif(
    not _scram_available() and not os.environ.get("CI"),
    reason="SCRAM (Debian package scram) is not installed",
)
@pytest.mark.parametrize(
    ("name", "mission_time"),
    [("periodic_test_5", 8760), ("periodic_test_4", 500), ("weibull", 500), ("glm", 10)],
)
def test_expression_agrees_with_scram_run_now(
    name: str, mission_time: float, tmp_path: Path
) -> None:
    out = tmp_path / "report.xml"
    subprocess.run(
        [
            "scram",
            "--bdd",
            "--probability",
            "true",
            "-l",
            "1",
            "--mission-time",
            str(mission_time),
            str(FIXTURES / f"{name}.xml"),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    match = re.search(r'<sum-of-products[^>]*probability="([^"]+)"', out.read_text())
    assert match is not None
    assert _printed(_ddrisk(name, mission_time)) == match.group(1)
