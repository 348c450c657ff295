"""Open-PSA Model Exchange Format (MEF) export of a stack, so PRA tools can check ddrisk.

The failure-mode model is written as the fault tree it is::

    stack_fails = AND over layers i of  layer_i
    layer_i     = OR( residual_i, via_i_j for every mode j )
    via_i_j     = AND( mode_j, cell_i_j )

with three kinds of basic events: ``mode_<j>`` (mode j occurs, probability
``q[j]``), ``cell_<i>_<j>`` (layer i fails given mode j, probability ``p[i, j]``)
and ``residual_<i>`` (layer i fails on its own, probability ``r[i]``). Events of
probability 0 cannot contribute to a monotone tree and are left out; a layer with
no possible failure becomes the constant ``false``. Every element carries the
original ddrisk id in an ``ddrisk-id`` attribute because MEF names may not
contain ``.`` or repeated/trailing ``-`` (see :func:`mef_identifier`).

Validation uses the RelaxNG schema from the SCRAM project (``input.rng``). That
file is GPL-3.0-or-later, so ddrisk (MIT) does not ship it: :func:`validate_mef`
reads it from an explicit path, ``$DDRISK_MEF_SCHEMA``, an optional
``ddrisk/io/schemas/open-psa-mef-input.rng`` or the Debian package ``scram``
(``/usr/share/scram/input.rng``).
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from ddrisk.errors import InputError
from ddrisk.risk.model import FailureModeModel

SCHEMA_ENV_VAR = "DDRISK_MEF_SCHEMA"
_SCHEMA_CANDIDATES = (Path("/usr/share/scram/input.rng"),)
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def mef_identifier(text: str) -> str:
    """Turn an id into a MEF ``Identifier`` (an NCName without ``.``, ``--`` or end hyphens).

    >>> mef_identifier("CAP-DEV"), mef_identifier("v1.2"), mef_identifier("a--b-")
    ('CAP-DEV', 'v1_2', 'a__b_')
    """
    name = _INVALID_CHARS.sub("_", text)
    name = re.sub(r"-{2,}", lambda match: "_" * len(match.group()), name)
    name = re.sub(r"^-|-$", "_", name)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "_" + name
    return name


def _probability_text(value: float) -> str:
    """Shortest decimal that round-trips to the same double (what SCRAM reads back)."""
    return repr(float(value))


class _Names:
    """Hands out unique MEF names, suffixing ``_2``, ``_3``... only on a clash."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, *parts: str) -> str:
        base = "_".join(mef_identifier(part) for part in parts)
        name, counter = base, 1
        while name in self.used:
            counter += 1
            name = f"{base}_{counter}"
        self.used.add(name)
        return name


def model_to_mef(model: FailureModeModel, *, name: str = "stack") -> str:
    """Write ``model`` as an Open-PSA MEF fault tree whose top gate is ``stack_fails``.

    Parameters
    ----------
    model
        The failure-mode model of one stack.
    name
        Name of the fault tree (made MEF-safe with :func:`mef_identifier`).

    Returns
    -------
    str
        The XML document (UTF-8 declaration included).

    Examples
    --------
    >>> m = FailureModeModel(layers=("A", "B"), modes=("X",), q=[0.1], p=[[1.0], [0.5]], r=[0.0, 0.2])
    >>> xml = model_to_mef(m)
    >>> xml.count("<define-basic-event"), xml.count("<define-gate")
    (3, 4)
    """
    names = _Names()
    top = names("stack_fails")
    mode_names = {j: names("mode", mode) for j, mode in enumerate(model.modes) if model.q[j] > 0}
    gates: list[str] = []
    events: list[str] = []
    layer_gates: list[str] = []

    def attributes(**values: str) -> str:
        items = "".join(
            f"<attribute name={quoteattr(key.replace('_', '-'))} value={quoteattr(value)}/>"
            for key, value in values.items()
        )
        return f"<attributes>{items}</attributes>"

    def basic_event(event_name: str, probability: float, label: str, **attrs: str) -> None:
        events.append(
            f"    <define-basic-event name={quoteattr(event_name)}>"
            f"<label>{_escape(label)}</label>{attributes(**attrs)}"
            f'<float value="{_probability_text(probability)}"/></define-basic-event>'
        )

    for j, event_name in mode_names.items():
        basic_event(
            event_name,
            model.q[j],
            f"failure mode {model.modes[j]} occurs",
            ddrisk_id=model.modes[j],
        )

    for i, layer in enumerate(model.layers):
        children: list[str] = []
        if model.r[i] > 0:
            residual = names("residual", layer)
            basic_event(residual, model.r[i], f"layer {layer} fails on its own", ddrisk_id=layer)
            children.append(f'<basic-event name="{residual}"/>')
        for j, mode in enumerate(model.modes):
            if j not in mode_names or model.p[i, j] <= 0:
                continue
            if model.p[i, j] >= 1:  # a certain cell event adds nothing: the mode fails the layer
                children.append(f'<basic-event name="{mode_names[j]}"/>')
                continue
            cell = names("cell", layer, mode)
            basic_event(
                cell,
                model.p[i, j],
                f"layer {layer} fails when {mode} occurs",
                ddrisk_layer=layer,
                ddrisk_mode=mode,
            )
            via = names("via", layer, mode)
            gates.append(
                f"    <define-gate name={quoteattr(via)}>"
                f"<label>{_escape(f'{layer} fails through {mode}')}</label>"
                f'<and><basic-event name="{mode_names[j]}"/><basic-event name="{cell}"/></and>'
                "</define-gate>"
            )
            children.append(f'<gate name="{via}"/>')
        layer_gate = names("layer", layer)
        formula = _combine("or", children, empty='<constant value="false"/>')
        gates.append(
            f"    <define-gate name={quoteattr(layer_gate)}>"
            f"<label>{_escape(f'layer {layer} fails')}</label>{attributes(ddrisk_id=layer)}"
            f"{formula}</define-gate>"
        )
        layer_gates.append(f'<gate name="{layer_gate}"/>')

    top_formula = _combine("and", layer_gates, empty='<constant value="true"/>')
    top_gate = (
        f"    <define-gate name={quoteattr(top)}>"
        f"<label>every layer of the stack fails</label>{top_formula}</define-gate>"
    )
    tree_name = mef_identifier(name)
    label = f"{model.name}; layers: {', '.join(model.layers)}"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<opsa-mef>",
        f"  <define-fault-tree name={quoteattr(tree_name)}>",
        f"    <label>{_escape(label)}</label>",
        top_gate,
        *gates,
        "  </define-fault-tree>",
        "  <model-data>",
        *events,
        "  </model-data>",
        "</opsa-mef>",
        "",
    ]
    return "\n".join(lines)


def _combine(operator: str, arguments: list[str], *, empty: str) -> str:
    """A gate formula; SCRAM rejects one-argument and/or, so one argument stands alone."""
    if not arguments:
        return empty
    if len(arguments) == 1:
        return arguments[0]
    return f"<{operator}>{''.join(arguments)}</{operator}>"


def _escape(text: str) -> str:
    """Escape XML text and fold whitespace (MEF labels are normalised strings)."""
    folded = " ".join(str(text).split()) or "-"
    return folded.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mef_to_model(xml_text: str, *, source: str = "<MEF>") -> FailureModeModel:
    """Read back a fault tree written by :func:`model_to_mef` (events omitted there are zeros).

    Only ddrisk's own encoding is understood (it relies on the ``ddrisk-id``,
    ``ddrisk-layer`` and ``ddrisk-mode`` attributes); this exists so a round trip
    can prove the export loses nothing.
    """
    from lxml import etree

    try:
        root = etree.fromstring(xml_text.encode())
    except etree.XMLSyntaxError as exc:
        raise InputError(
            source, f"line {exc.lineno}", f"not well-formed XML: {exc.msg}", "fix the XML"
        ) from None

    def attrs(element: etree._Element) -> dict[str, str]:
        return {a.get("name"): a.get("value") for a in element.iterfind("attributes/attribute")}

    layer_gates = [g for g in root.iter("define-gate") if g.get("name", "").startswith("layer")]
    layers = [attrs(g)["ddrisk-id"] for g in layer_gates]
    q_by_mode: dict[str, float] = {}
    residual: dict[str, float] = {}
    cells: dict[tuple[str, str], float] = {}
    modes: list[str] = []
    for event in root.iter("define-basic-event"):
        meta = attrs(event)
        value = float(event.find("float").get("value"))
        kind = event.get("name", "")
        if kind.startswith("mode"):
            q_by_mode[meta["ddrisk-id"]] = value
            modes.append(meta["ddrisk-id"])
        elif kind.startswith("residual"):
            residual[meta["ddrisk-id"]] = value
        elif kind.startswith("cell"):
            cells[(meta["ddrisk-layer"], meta["ddrisk-mode"])] = value
    # A mode event placed directly under a layer's gate is a cell with p = 1.
    mode_of_event = {
        event.get("name"): attrs(event)["ddrisk-id"]
        for event in root.iter("define-basic-event")
        if event.get("name", "").startswith("mode")
    }
    for gate, layer in zip(layer_gates, layers, strict=True):
        for child in gate.iter("basic-event"):
            if child.get("name") in mode_of_event:
                cells[(layer, mode_of_event[child.get("name")])] = 1.0
    for _layer, mode in cells:
        if mode not in q_by_mode:
            modes.append(mode)
            q_by_mode[mode] = 0.0
    p = np.array([[cells.get((layer, mode), 0.0) for mode in modes] for layer in layers]).reshape(
        len(layers), len(modes)
    )
    return FailureModeModel(
        layers=tuple(layers),
        modes=tuple(modes),
        q=np.array([q_by_mode[mode] for mode in modes], dtype=float),
        p=p,
        r=np.array([residual.get(layer, 0.0) for layer in layers], dtype=float),
    )


def find_mef_schema(schema_path: str | Path | None = None) -> Path:
    """Locate the MEF RelaxNG schema (argument, ``$DDRISK_MEF_SCHEMA``, package, Debian scram)."""
    from ddrisk.io.documents import check_usable_path, display_path

    if schema_path is not None:
        path = check_usable_path(schema_path)
        if not path.is_file():
            raise InputError(
                str(path), None, "no such schema file", "pass the path of an Open-PSA MEF .rng file"
            )
        return path
    env = os.environ.get(SCHEMA_ENV_VAR)
    if env:
        path = check_usable_path(env, label=f"{display_path(env)} (${SCHEMA_ENV_VAR})")
        if not path.is_file():
            raise InputError(
                f"${SCHEMA_ENV_VAR}", None, f"'{env}' is not a file", "point it at input.rng"
            )
        return path
    bundled = resources.files("ddrisk.io").joinpath("schemas/open-psa-mef-input.rng")
    if bundled.is_file():
        return Path(str(bundled))
    for candidate in _SCHEMA_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise InputError(
        "MEF schema",
        None,
        "no Open-PSA MEF RelaxNG schema found (ddrisk does not ship the GPL-licensed file)",
        f"set {SCHEMA_ENV_VAR} to SCRAM's input.rng, or install the Debian package scram",
    )


MAX_SCHEMA_BYTES = 16 * 1024 * 1024
"""Largest schema file read (SCRAM's input.rng is about 60 kB)."""


def _load_relaxng(schema_file: Path) -> Any:
    """The RelaxNG schema in ``schema_file``; a file that is not one is a one-line InputError."""
    from lxml import etree

    from ddrisk.io.documents import display_path, read_bytes_file

    label = display_path(schema_file)
    raw = read_bytes_file(schema_file, label=label, max_bytes=MAX_SCHEMA_BYTES, what="schema file")
    fix = f"point {SCHEMA_ENV_VAR} at SCRAM's input.rng (an Open-PSA MEF RelaxNG schema)"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        tree = etree.fromstring(raw, parser=parser, base_url=str(schema_file)).getroottree()
    except etree.XMLSyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else None
        raise InputError(label, where, f"not an XML schema: {exc.msg}", fix) from None
    try:
        return etree.RelaxNG(tree)
    except etree.RelaxNGParseError as exc:
        message = " ".join(str(exc).split())[:200]
        raise InputError(label, None, f"not a RelaxNG schema: {message}", fix) from None


def validate_mef(xml_text: str, *, schema_path: str | Path | None = None) -> list[str]:
    """Validate MEF XML against the RelaxNG schema; return the problems (empty when valid)."""
    from lxml import etree

    relaxng = _load_relaxng(find_mef_schema(schema_path))
    try:
        document = etree.fromstring(xml_text.encode())
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    if relaxng.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in relaxng.error_log]
