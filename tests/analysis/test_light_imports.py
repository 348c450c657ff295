"""``ddrisk analyze`` stays light: no pandas, no SciPy, no risk package on its path.

Its start-up budget (benchmarks/bench_startup.py) depends on this, so the import set is checked
here without timing anything; the paper arithmetic it computes itself must equal the risk
package's independence and perfect-correlation bounds.
"""

from __future__ import annotations

import subprocess
import sys

from ddrisk.analysis import analyze
from ddrisk.io.catalog import load_catalog
from ddrisk.risk.dependence import comonotone_all_fail, independent_all_fail


def test_analyze_imports_neither_pandas_scipy_nor_the_risk_package():
    code = (
        "import sys\n"
        "from ddrisk.analysis import analyze\n"
        "from ddrisk.io.catalog import load_catalog\n"
        "assert analyze(load_catalog()).findings\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'scipy')\n"
        "               or m.startswith('ddrisk.risk'))\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_importing_the_risk_package_loads_no_submodule_until_a_name_is_used():
    code = (
        "import sys, ddrisk.risk as risk\n"
        "before = 'ddrisk.risk.assessment' in sys.modules or 'scipy' in sys.modules\n"
        "risk.assess_stack\n"
        "print(before, 'ddrisk.risk.assessment' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_paper_arithmetic_equals_the_risk_bounds_exactly():
    numbers = next(f for f in analyze(load_catalog()).findings if f.key == "paper_arithmetic")
    marginals = [numbers.numbers["layer_failure"]] * numbers.numbers["n_layers"]
    assert numbers.numbers["independent"] == independent_all_fail(marginals)
    assert numbers.numbers["perfectly_correlated"] == comonotone_all_fail(marginals)
