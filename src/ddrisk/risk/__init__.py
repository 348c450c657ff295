"""Quantitative risk: joint-failure probability of a stack under named dependence models.

The entry points: build a :class:`FailureModeModel` from a catalog and a stack with
:func:`resolve_parameters`, compute P(stack fails) with :func:`compute_stack_failure`
(the one source of that number everywhere), rank failure modes with
:func:`importance_measures`, compare dependence models with
:func:`compare_dependence_models`, propagate uncertain inputs with
:func:`propagate_uncertainty`, and search stacks with :func:`optimize_stack`.
:func:`quantify_fault_tree` gives the exact top-event probability of a general
:class:`FaultTree` (read MEF files with :func:`ddrisk.io.read_fault_tree`).
:func:`assess_stack` runs all of them for one stack, exactly as ``ddrisk risk`` and
``ddrisk report`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddrisk._lazy import lazy_exports

# Names load their module on first use: ``import ddrisk.risk.effective`` (or the analysis
# package) must not pay for pandas and scipy.stats through this package's ``__init__``.
_EXPORTS = {
    "StackRisk": "ddrisk.risk.assessment",
    "assess_stack": "ddrisk.risk.assessment",
    "compare_dependence_models": "ddrisk.risk.dependence",
    "StackFailure": "ddrisk.risk.engine",
    "compute_stack_failure": "ddrisk.risk.engine",
    "BudgetExceeded": "ddrisk.risk.exact",
    "FaultTree": "ddrisk.risk.faulttree",
    "FaultTreeResult": "ddrisk.risk.faulttree",
    "Gate": "ddrisk.risk.faulttree",
    "quantify_fault_tree": "ddrisk.risk.faulttree",
    "ImportanceMeasures": "ddrisk.risk.importance",
    "importance_measures": "ddrisk.risk.importance",
    "FailureModeModel": "ddrisk.risk.model",
    "optimize_stack": "ddrisk.risk.optimize",
    "RiskParameters": "ddrisk.risk.parameters",
    "resolve_parameters": "ddrisk.risk.parameters",
    "propagate_uncertainty": "ddrisk.risk.propagation",
}

__all__ = [
    "BudgetExceeded",
    "FailureModeModel",
    "FaultTree",
    "FaultTreeResult",
    "Gate",
    "ImportanceMeasures",
    "RiskParameters",
    "StackFailure",
    "StackRisk",
    "assess_stack",
    "compare_dependence_models",
    "compute_stack_failure",
    "importance_measures",
    "optimize_stack",
    "propagate_uncertainty",
    "quantify_fault_tree",
    "resolve_parameters",
]

if TYPE_CHECKING:
    from ddrisk.risk.assessment import StackRisk, assess_stack
    from ddrisk.risk.dependence import compare_dependence_models
    from ddrisk.risk.engine import StackFailure, compute_stack_failure
    from ddrisk.risk.exact import BudgetExceeded
    from ddrisk.risk.faulttree import FaultTree, FaultTreeResult, Gate, quantify_fault_tree
    from ddrisk.risk.importance import ImportanceMeasures, importance_measures
    from ddrisk.risk.model import FailureModeModel
    from ddrisk.risk.optimize import optimize_stack
    from ddrisk.risk.parameters import RiskParameters, resolve_parameters
    from ddrisk.risk.propagation import propagate_uncertainty


__getattr__, __dir__ = lazy_exports("ddrisk.risk", _EXPORTS, globals())
