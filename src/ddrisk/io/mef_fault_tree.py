"""Read general Open-PSA MEF fault trees (files from other tools) into a :class:`FaultTree`.

Supported: ``define-fault-tree`` (with nested ``define-component``), ``define-gate`` with
formulas ``and``, ``or``, ``atleast``, ``not``, ``xor``, ``nand``, ``nor``, ``iff``, ``imply``
nested to any depth, references ``gate``, ``basic-event``, ``house-event`` and untyped
``event``, ``define-basic-event`` (inside trees or in ``model-data``, in any of the files
given), ``define-house-event`` with a ``constant``, and ``define-parameter``. A basic event's
probability is an expression of ``float``, ``int``, ``bool``, ``pi``, ``parameter``,
``system-mission-time``, the reliability models ``exponential`` (lambda, t), ``GLM`` (gamma,
lambda, mu, t), ``Weibull`` (alpha, beta, t0, t) and ``periodic-test`` (lambda, tau, theta, t and
lambda, mu, tau, theta, t; see :mod:`ddrisk.risk.faulttree_expressions`), and the arithmetic
``mul``, ``add``, ``sub``, ``div``, ``neg``, ``abs``, ``exp``, ``log``, ``log10``, ``sqrt``,
``pow``, ``min``, ``max``, ``mean``; uncertainty deviates (``lognormal-deviate``, ``normal-deviate``,
``uniform-deviate``) stand for their mean, as in the point estimate of PRA tools.
Anything else (CCF groups, substitutions, event trees, ``cardinality``, other expressions)
(and the 11-argument ``periodic-test``) raise :class:`~ddrisk.errors.InputError` naming the
file, line and construct, rather than being guessed at.

XML is parsed with entity expansion and network access off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddrisk._hashing import files_sha256
from ddrisk.errors import InputError
from ddrisk.risk import faulttree_expressions as models
from ddrisk.risk.faulttree import FaultTree, Gate

DEFAULT_MISSION_TIME = 8760.0
"""Hours; the MEF's default ``system-mission-time`` (one year)."""

_CONNECTIVES = {"and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "imply"}
_REFERENCES = {"gate", "basic-event", "house-event", "event"}
_IGNORED = {"label", "attributes"}
_UNSUPPORTED_TOP = {
    "define-CCF-group": "common-cause failure groups",
    "define-substitution": "substitutions",
    "define-event-tree": "event trees",
    "define-initiating-event": "event trees",
    "define-alignment": "alignments",
    "define-rule": "event-tree rules",
    "define-extern-function": "extern functions",
    "define-extern-library": "extern libraries",
}


_MODELS: dict[tuple[str, int], Callable[..., float]] = {
    ("exponential", 2): models.exponential,
    ("GLM", 4): models.glm,
    ("Weibull", 4): models.weibull,
    ("periodic-test", 4): models.periodic_test_instant,
    ("periodic-test", 5): models.periodic_test_repair,
}
"""Reliability models by (element, number of arguments): MEF 2.0d built-in expressions."""


def _div(values: list[float]) -> float:
    out = values[0]
    for value in values[1:]:
        out /= value
    return out


_FUNCTIONS: dict[str, Callable[[list[float]], float]] = {
    "mul": math.prod,
    "add": math.fsum,
    "sub": lambda v: v[0] - math.fsum(v[1:]),
    "div": _div,
    "neg": lambda v: -v[0] if len(v) == 1 else _arity("neg", 1),
    "abs": lambda v: abs(v[0]) if len(v) == 1 else _arity("abs", 1),
    "exp": lambda v: math.exp(v[0]) if len(v) == 1 else _arity("exp", 1),
    "log": lambda v: math.log(v[0]) if len(v) == 1 else _arity("log", 1),
    "log10": lambda v: math.log10(v[0]) if len(v) == 1 else _arity("log10", 1),
    "sqrt": lambda v: math.sqrt(v[0]) if len(v) == 1 else _arity("sqrt", 1),
    "pow": lambda v: math.pow(v[0], v[1]) if len(v) == 2 else _arity("pow", 2),
    "min": min,
    "max": max,
    "mean": lambda v: math.fsum(v) / len(v),
}
"""Arithmetic of the MEF (n-ary where the standard allows it), on already evaluated arguments."""


def _arity(tag: str, count: int) -> float:
    raise ValueError(f"<{tag}> takes {count} argument{'s' if count > 1 else ''}")


class _Reader:
    def __init__(self, mission_time: float) -> None:
        self.gates: dict[str, Gate] = {}
        self.basic_expressions: dict[str, tuple[Any, str]] = {}
        self.house: dict[str, bool] = {}
        self.parameters: dict[str, tuple[Any, str]] = {}
        self.tree_names: list[str] = []
        self.declared_gates: list[str] = []
        self.mission_time = mission_time
        self.anonymous = 0
        self.source = ""
        self.scope: tuple[str, ...] = ()
        self.gate_scope: dict[str, tuple[str, ...]] = {}

    def error(self, element: Any, problem: str, fix: str) -> InputError:
        return InputError(self.source, f"line {element.sourceline}", problem, fix)

    # ----------------------------------------------------------------------- containers

    def read_root(self, root: Any, source: str) -> None:
        self.source = source
        if root.tag != "opsa-mef":
            raise self.error(root, f"root element is <{root.tag}>", "give an Open-PSA MEF file")
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "define-fault-tree":
                self.tree_names.append(child.get("name", ""))
                self.read_container(child)
            elif child.tag == "model-data":
                self.read_container(child)
            elif child.tag in _IGNORED:
                continue
            else:
                self.read_definition(child)

    def read_container(self, element: Any) -> None:
        outer = self.scope
        if element.get("role") == "private":
            # names defined in a private component are its own: "t.E1" is not the public "E1"
            self.scope = (*outer, element.get("name", ""))
        try:
            for child in element:
                if not isinstance(child.tag, str) or child.tag in _IGNORED:
                    continue
                if child.tag == "define-component":
                    self.read_container(child)
                else:
                    self.read_definition(child)
        finally:
            self.scope = outer

    def qualified(self, name: str) -> str:
        return ".".join((*self.scope, name))

    def read_definition(self, element: Any) -> None:
        tag = element.tag
        name = self.qualified(element.get("name", ""))
        if tag == "define-gate":
            formula = [c for c in element if isinstance(c.tag, str) and c.tag not in _IGNORED]
            if len(formula) != 1:
                raise self.error(element, f"gate {name!r} has no single formula", "give one")
            self.gates[name] = self.formula_gate(formula[0], name)
            self.gate_scope[name] = self.scope
            self.declared_gates.append(name)
        elif tag == "define-basic-event":
            expression = [c for c in element if isinstance(c.tag, str) and c.tag not in _IGNORED]
            if expression:
                self.basic_expressions[name] = (expression[0], self.source)
            else:
                self.basic_expressions.setdefault(name, (None, self.source))
        elif tag == "define-house-event":
            constant = element.find("constant")
            value = constant is not None and constant.get("value", "false") == "true"
            self.house[name] = value
        elif tag == "define-parameter":
            expression = [c for c in element if isinstance(c.tag, str) and c.tag not in _IGNORED]
            self.parameters[name] = (expression[0] if expression else None, self.source)
        elif tag in _UNSUPPORTED_TOP:
            raise self.error(
                element,
                f"<{tag}> ({_UNSUPPORTED_TOP[tag]}) is not supported yet",
                "expand it into gates and basic events",
            )
        else:
            raise self.error(element, f"<{tag}> is not supported yet", "remove it")

    # ----------------------------------------------------------------------- formulas

    def formula_gate(self, element: Any, name: str) -> Gate:
        tag = element.tag
        if tag in _REFERENCES:
            return Gate("null", (self.reference(element),))
        if tag in ("constant",):
            house = f"__constant_{element.get('value', 'false')}"
            self.house[house] = element.get("value") == "true"
            return Gate("null", (house,))
        if tag not in _CONNECTIVES:
            raise self.error(
                element,
                f"formula <{tag}> in gate {name!r} is not supported yet",
                f"use one of {', '.join(sorted(_CONNECTIVES))}",
            )
        inputs = []
        for child in element:
            if not isinstance(child.tag, str) or child.tag in _IGNORED:
                continue
            if child.tag in _REFERENCES:
                inputs.append(self.reference(child))
            else:
                self.anonymous += 1
                nested = f"{name}~{self.anonymous}"
                self.gates[nested] = self.formula_gate(child, nested)
                self.gate_scope[nested] = self.scope
                inputs.append(nested)
        k = None
        if tag == "atleast":
            try:
                k = int(element.get("min", ""))
            except ValueError:
                raise self.error(element, "atleast without an integer min", "add min=") from None
        try:
            return Gate(tag, tuple(inputs), k)
        except ValueError as error:
            raise self.error(element, f"gate {name!r}: {error}", "fix the formula") from None

    def reference(self, element: Any) -> str:
        name = element.get("name", "")
        if not name:
            raise self.error(element, f"<{element.tag}> without a name", "add name=")
        return name

    # ----------------------------------------------------------------------- expressions

    def value(self, element: Any, seen: frozenset[str] = frozenset()) -> float:
        tag = element.tag
        args = [c for c in element if isinstance(c.tag, str) and c.tag not in _IGNORED]
        if tag in ("float", "int"):
            return float(element.get("value", "nan"))
        if tag == "bool":
            return 1.0 if element.get("value") == "true" else 0.0
        if tag == "system-mission-time":
            return self.mission_time
        if tag == "pi":
            return math.pi
        if tag == "parameter":
            name = element.get("name", "")
            if name in seen or name not in self.parameters:
                raise self.error(element, f"parameter {name!r} undefined or cyclic", "define it")
            expression, _ = self.parameters[name]
            if expression is None:
                raise self.error(element, f"parameter {name!r} has no value", "give it one")
            return self.value(expression, seen | {name})
        values = [self.value(a, seen) for a in args]
        model = _MODELS.get((tag, len(values)))
        if model is not None:
            return model(*values)
        function = _FUNCTIONS.get(tag)
        if function is not None and values:
            try:
                return function(values)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise self.error(
                    element, f"expression <{tag}> cannot be evaluated: {exc}", "fix its arguments"
                ) from None
        if tag in ("lognormal-deviate", "normal-deviate") and values:
            return values[0]
        if tag == "uniform-deviate" and len(values) == 2:
            return (values[0] + values[1]) / 2.0
        if tag == "periodic-test" and len(values) == 11:
            raise self.error(
                element,
                "expression <periodic-test> with 11 arguments (test duration, test-caused "
                "failures, imperfect detection) is not supported yet",
                "use its 4- or 5-argument form or give the probability as <float value=...>",
            )
        raise self.error(
            element,
            f"expression <{tag}> ({len(values)} arguments) is not supported yet",
            "give the probability as <float value=...>",
        )

    # ----------------------------------------------------------------------- result

    def tree(self, top: str | None) -> FaultTree:
        defined = set(self.gates) | set(self.basic_expressions) | set(self.house)
        for gate_name, gate in list(self.gates.items()):
            scope = self.gate_scope.get(gate_name, ())
            fixed = tuple(_resolve(a, defined, scope) for a in gate.inputs)
            if fixed != gate.inputs:
                self.gates[gate_name] = Gate(gate.kind, fixed, gate.k)
            for argument in fixed:
                if argument not in defined:
                    raise InputError(
                        self.source,
                        f"gate {gate_name}",
                        f"{argument!r} is not defined in the files given",
                        "add the file that defines it (e.g. the basic-event file)",
                    )
        if top is None:
            used = {a for g in self.gates.values() for a in g.inputs}
            tops = [g for g in self.declared_gates if g not in used]
            if not tops:
                raise InputError(self.source, None, "no top gate found", "name one with top=")
            top = tops[0]
        elif top not in self.gates:
            raise InputError(self.source, None, f"no gate named {top!r}", "name a defined gate")
        basic: dict[str, float] = {}
        for event, (expression, origin) in self.basic_expressions.items():
            if expression is None:
                raise InputError(
                    origin,
                    f"basic event {event}",
                    "has no probability",
                    "give it <float value=...>",
                )
            value = self.value(expression)
            if not 0.0 <= value <= 1.0:
                raise InputError(
                    origin,
                    f"line {expression.sourceline}",
                    f"basic event {event!r} has probability {value!r} outside [0, 1]",
                    "give a probability",
                )
            basic[event] = value
        name = self.tree_names[0] if self.tree_names else top
        return FaultTree(
            name=name,
            top=top,
            basic_events=basic,
            gates=dict(self.gates),
            house_events=dict(self.house),
            source=self.source,
        )


def _resolve(name: str, defined: set[str], scope: tuple[str, ...] = ()) -> str:
    """A reference resolves in the innermost private scope that defines it, then publicly.

    A reference by path (``Component.Event``) resolves to its last part when only that exists.
    """
    for depth in range(len(scope), 0, -1):
        local = ".".join((*scope[:depth], name))
        if local in defined:
            return local
    if name in defined or "." not in name:
        return name
    tail = name.rsplit(".", 1)[1]
    return tail if tail in defined else name


def parse_mef_fault_tree(
    texts: Sequence[tuple[str, bytes | str]],
    *,
    top: str | None = None,
    mission_time: float = DEFAULT_MISSION_TIME,
) -> FaultTree:
    """A :class:`FaultTree` from MEF documents given as ``(label, text)`` pairs."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    reader = _Reader(mission_time)
    for label, text in texts:
        data = text.encode("utf-8") if isinstance(text, str) else text
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise InputError(
                label, f"line {exc.lineno}", f"not well-formed XML: {exc.msg}", "fix the XML"
            ) from None
        reader.read_root(root, label)
    return reader.tree(top)


def read_mef_fault_tree(
    paths: Sequence[str | Path],
    *,
    top: str | None = None,
    mission_time: float = DEFAULT_MISSION_TIME,
) -> FaultTree:
    """Read one fault tree spread over MEF files (tree, basic-event files, ...)."""
    from ddrisk.io.documents import read_text_file

    texts = [(str(path), read_text_file(path)) for path in paths]
    return parse_mef_fault_tree(texts, top=top, mission_time=mission_time)


@dataclass(frozen=True)
class FaultTreeInput:
    """A fault tree read from MEF files, with the files and their one input hash.

    The hash travels with the tree so that every record and report of this tree cites the
    same ``input_sha256`` (:func:`ddrisk._hashing.files_sha256` of the files, in order)
    without hashing them again.
    """

    tree: FaultTree
    paths: tuple[Path, ...]
    input_sha256: str
    mission_time: float = DEFAULT_MISSION_TIME

    def to_dict(self) -> dict[str, Any]:
        """The inputs' provenance: files, their sha256, the top gate and mission time."""
        return {
            "inputs": [str(p) for p in self.paths],
            "input_sha256": self.input_sha256,
            "tree": self.tree.name,
            "top": self.tree.top,
            "mission_time": self.mission_time,
        }


def read_fault_tree(
    paths: Sequence[str | Path],
    *,
    top: str | None = None,
    mission_time: float = DEFAULT_MISSION_TIME,
) -> FaultTreeInput:
    """Read one fault tree spread over MEF files and hash the files once.

    The entry point that ``ddrisk risk --mef`` and API users share: quantify the
    returned ``.tree`` with :func:`ddrisk.risk.faulttree.quantify_fault_tree` and cite
    ``.input_sha256``. A path the OS cannot use, a missing file or bad XML is an
    :class:`~ddrisk.errors.InputError`.
    """
    from ddrisk.io.documents import check_usable_path

    if not paths:
        raise InputError("paths", None, "no MEF file given", "give at least one file")
    usable = tuple(check_usable_path(path) for path in paths)
    tree = read_mef_fault_tree(usable, top=top, mission_time=mission_time)
    return FaultTreeInput(
        tree=tree,
        paths=usable,
        input_sha256=files_sha256(usable),
        mission_time=mission_time,
    )
