"""Audit a deployed safety stack: stack files, lineage-derived shared modes, additions, priorities.

:func:`ddrisk.io.stackfile.read_stack` reads and compiles a stack file; :func:`run_audit` runs
the existing analysis and risk engines on it and returns an :class:`AuditResult`.
"""

from ddrisk.audit.additions import AdditionsResult, best_additions
from ddrisk.audit.compile import CompiledStack, compile_stack, stack_problems
from ddrisk.audit.engine import AUDIT_FORMAT, AuditResult, run_audit
from ddrisk.audit.lineage import SharedMode, shared_lineage_modes
from ddrisk.audit.priorities import DEFAULT_WEIGHTS, research_priorities
from ddrisk.audit.stack import StackFile, stack_json_schema

__all__ = [
    "AUDIT_FORMAT",
    "DEFAULT_WEIGHTS",
    "AdditionsResult",
    "AuditResult",
    "CompiledStack",
    "SharedMode",
    "StackFile",
    "best_additions",
    "compile_stack",
    "research_priorities",
    "run_audit",
    "shared_lineage_modes",
    "stack_json_schema",
    "stack_problems",
]
