"""How a catalog and a stack become a :class:`~ddrisk.risk.model.FailureModeModel`.

The catalog says *whether* a technique is prone to a failure mode; the model
needs *how likely*. The defaults below are deliberately simple, round and
printed with every result, so that nobody mistakes them for estimates:

``q = 0.1`` for every failure mode
    P(the mode occurs). The paper's own illustration uses 0.1 per layer; the
    failure modes are open research problems, each plausibly but not probably
    realised, and 0.1 keeps that reading without claiming precision.
``p = 0.9`` for prone, ``0.5`` for unclear, ``0.05`` for not prone
    P(layer fails | mode occurs). "Prone" means the mode defeats the technique
    in most but not all deployments; "unclear" is the paper declining to judge,
    for which 0.5 is the maximum-entropy choice; "not prone" is a qualitative
    judgment, not a proof, so it keeps a small chance of failure instead of 0.
    A cell's own ``probability`` in the catalog overrides its level.
``r = 0.05`` for every layer
    P(layer fails on its own): causes outside the catalog's seven modes (bugs,
    distribution shift, plain misses). Small so that the catalog's modes drive
    the result, and independent across layers by assumption.

Every value can be overridden, from most to least specific: a cell override
(``p.cells``), the catalog cell's probability, a level default; and a named
mode or layer before the ``default``. Later sources win over earlier ones:
built-in defaults, then a parameter file, then command-line options
(:func:`merge_parameters`; files are read by :mod:`ddrisk.io.parameters`, options
parsed by :mod:`ddrisk.cli._parse`: this module takes Python objects only). Any value
may be a distribution (see :mod:`ddrisk.risk.distributions`); the point model uses
each distribution's mean, which is the probability a single forecast would use.

Parameter file (YAML or JSON)::

    q: {default: 0.1, CAP-DEV: 0.3, DEC-AL: "beta(2, 8)"}
    p:
      prone: 0.9
      unclear: 0.5
      not_prone: 0.05
      cells: {RLHF: {DEC-AL: 0.7}}
    residual: {default: 0.05, RLHF: "interval(0.01, 0.2)"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from ddrisk._hashing import object_sha256
from ddrisk.catalog.model import Catalog, Level
from ddrisk.errors import InputError
from ddrisk.risk.distributions import (
    Distribution,
    FixedValue,
    parse_distribution,
)
from ddrisk.risk.model import MODEL_NAME, FailureModeModel

if TYPE_CHECKING:  # pandas loads only when a caller asks for a frame (start-up)
    import pandas as pd

DEFAULT_Q = 0.1
DEFAULT_P = {Level.PRONE: 0.9, Level.UNCLEAR: 0.5, Level.NOT_PRONE: 0.05}
DEFAULT_RESIDUAL = 0.05
BUILTIN = "built-in default"
_LEVEL_KEYS = {"prone": Level.PRONE, "unclear": Level.UNCLEAR, "not_prone": Level.NOT_PRONE}


@dataclass(frozen=True)
class Setting:
    """One configured value and where it came from (file + key path, or option)."""

    value: Distribution
    source: str
    where: str

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.value.spec, "source": self.source, "where": self.where}


def _builtin(value: float, where: str) -> Setting:
    return Setting(FixedValue(value), BUILTIN, where)


@dataclass(frozen=True)
class RiskParameters:
    """Defaults and overrides for q, p and r, before they meet a catalog.

    Examples
    --------
    >>> override = parameters_from_mapping({"q": {"CAP-DEV": 0.3}}, source="example")
    >>> params = RiskParameters().merged(override)
    >>> params.q_modes["CAP-DEV"].value.mean, params.q_default.value.mean
    (0.3, 0.1)
    """

    q_default: Setting = field(default_factory=lambda: _builtin(DEFAULT_Q, "q.default"))
    q_modes: Mapping[str, Setting] = field(default_factory=dict)
    p_levels: Mapping[Level, Setting] = field(
        default_factory=lambda: {
            level: _builtin(v, f"p.{level.value}") for level, v in DEFAULT_P.items()
        }
    )
    p_cells: Mapping[tuple[str, str], Setting] = field(default_factory=dict)
    r_default: Setting = field(
        default_factory=lambda: _builtin(DEFAULT_RESIDUAL, "residual.default")
    )
    r_layers: Mapping[str, Setting] = field(default_factory=dict)

    def merged(self, overrides: PartialParameters) -> RiskParameters:
        """A copy where every value ``overrides`` sets replaces this one's."""
        return RiskParameters(
            q_default=overrides.q_default or self.q_default,
            q_modes={**self.q_modes, **overrides.q_modes},
            p_levels={**self.p_levels, **overrides.p_levels},
            p_cells={**self.p_cells, **overrides.p_cells},
            r_default=overrides.r_default or self.r_default,
            r_layers={**self.r_layers, **overrides.r_layers},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "q": {
                "default": self.q_default.to_dict(),
                **{k: s.to_dict() for k, s in self.q_modes.items()},
            },
            "p": {
                **{level.value: s.to_dict() for level, s in self.p_levels.items()},
                "cells": {f"{t}:{f}": s.to_dict() for (t, f), s in self.p_cells.items()},
            },
            "residual": {
                "default": self.r_default.to_dict(),
                **{k: s.to_dict() for k, s in self.r_layers.items()},
            },
        }


@dataclass(frozen=True)
class PartialParameters:
    """Only the values one source (a file or the command line) sets."""

    q_default: Setting | None = None
    q_modes: Mapping[str, Setting] = field(default_factory=dict)
    p_levels: Mapping[Level, Setting] = field(default_factory=dict)
    p_cells: Mapping[tuple[str, str], Setting] = field(default_factory=dict)
    r_default: Setting | None = None
    r_layers: Mapping[str, Setting] = field(default_factory=dict)


# ---------------------------------------------------------------------------- parameter files
Spec = StrictFloat | StrictInt | StrictStr  # strict: YAML 'yes' must not become 1.0


class _PSection(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    prone: Spec | None = None
    unclear: Spec | None = None
    not_prone: Spec | None = Field(default=None, alias="not_prone")
    cells: dict[str, dict[str, Spec]] = Field(default_factory=dict)


class ParameterFile(BaseModel):
    """Schema of a parameter file: ``q``, ``p`` and ``residual`` sections, all optional."""

    model_config = ConfigDict(extra="forbid")
    q: dict[str, Spec] = Field(default_factory=dict)
    p: _PSection = Field(default_factory=_PSection)
    residual: dict[str, Spec] = Field(default_factory=dict)


def _key_path(loc: Sequence[Any]) -> tuple[str, ...]:
    noise = {"float", "int", "str"}
    return tuple(str(part) for part in loc if not (isinstance(part, str) and part in noise))


def _locator(lines: Mapping[tuple[str, ...], int] | None) -> Any:
    """``path -> "line N (a.b.c)"`` using the nearest enclosing key that has a known line."""

    def locate(path: tuple[str, ...]) -> str:
        text = ".".join(path) or "top level"
        probe = path
        while lines and probe and probe not in lines:
            probe = probe[:-1]
        if lines and probe in lines:
            return f"line {lines[probe]} ({text})"
        return text

    return locate


def parameters_from_mapping(
    data: Any, *, source: str, lines: Mapping[tuple[str, ...], int] | None = None
) -> PartialParameters:
    """Validate a parsed parameter file; every problem is a one-line :class:`InputError`.

    ``lines`` (key path -> line number) lets errors say where in the file they are.
    """
    locate = _locator(lines)
    if data is None:
        return PartialParameters()
    if not isinstance(data, Mapping):
        raise InputError(
            source, locate(()), "a parameter file must be a mapping", "use keys q, p and residual"
        )
    try:
        parsed = ParameterFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = locate(_key_path(error["loc"]))
        if error["type"] == "extra_forbidden":
            raise InputError(
                source,
                where,
                "unknown key",
                "use q, p (prone, unclear, not_prone, cells) and residual",
            ) from None
        raise InputError(
            source,
            where,
            f"{error['msg'].lower()} (got {error.get('input')!r})",
            "give a probability or a distribution spec such as beta(2, 8)",
        ) from None

    def setting(value: Spec, *path: str) -> Setting:
        where = locate(path)
        return Setting(parse_distribution(value, source=source, where=where), source, where)

    q_default = setting(parsed.q["default"], "q", "default") if "default" in parsed.q else None
    q_modes = {k: setting(v, "q", k) for k, v in parsed.q.items() if k != "default"}
    p_levels = {
        _LEVEL_KEYS[key]: setting(getattr(parsed.p, key), "p", key)
        for key in _LEVEL_KEYS
        if getattr(parsed.p, key) is not None
    }
    p_cells = {
        (technique, mode): setting(value, "p", "cells", technique, mode)
        for technique, row in parsed.p.cells.items()
        for mode, value in row.items()
    }
    r_default = (
        setting(parsed.residual["default"], "residual", "default")
        if "default" in parsed.residual
        else None
    )
    r_layers = {k: setting(v, "residual", k) for k, v in parsed.residual.items() if k != "default"}
    return PartialParameters(q_default, q_modes, p_levels, p_cells, r_default, r_layers)


def merge_parameters(*overrides: PartialParameters | None) -> RiskParameters:
    """Built-in defaults, then each override in turn (later ones win).

    :func:`ddrisk.io.parameters.build_parameters` reads a parameter file and applies it
    before the command line's values, with this.
    """
    params = RiskParameters()
    for override in overrides:
        if override is not None:
            params = params.merged(override)
    return params


# ---------------------------------------------------------------------------- resolution
@dataclass(frozen=True)
class ResolvedParameters:
    """Every number a stack's model uses, which named parameter it comes from, and why.

    ``parameter_names`` are the distinct named inputs (``q.default``,
    ``p.prone``, ``p.cells.RLHF.DEC-AL``, ``catalog:RLHF:DEC-AL``...); ``q_index``,
    ``p_index`` and ``r_index`` say which one each model entry uses, so a vector
    of parameter values maps to a model in one step (:meth:`model_for`).
    """

    catalog_label: str
    catalog_hash: str
    layers: tuple[str, ...]
    modes: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    parameter_names: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    settings: tuple[Setting, ...]
    q_index: np.ndarray = field(repr=False)
    p_index: np.ndarray = field(repr=False)
    r_index: np.ndarray = field(repr=False)
    model: FailureModeModel = field(repr=False)
    notes: tuple[str, ...] = ()

    def model_for(self, values: Sequence[float] | np.ndarray) -> FailureModeModel:
        """The model with named parameters set to ``values`` (in ``parameter_names`` order)."""
        theta = np.asarray(values, dtype=float)
        return FailureModeModel(
            layers=self.layers,
            modes=self.modes,
            q=theta[self.q_index],
            p=theta[self.p_index],
            r=theta[self.r_index],
            name=MODEL_NAME,
            structure=self.model.structure,
        )

    @property
    def uncertain_parameters(self) -> tuple[str, ...]:
        return tuple(
            n
            for n, d in zip(self.parameter_names, self.distributions, strict=True)
            if not d.is_degenerate
        )

    @property
    def parameters_hash(self) -> str:
        return object_sha256(self._core_dict())

    def _core_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": model.name,
            "catalog": self.catalog_label,
            "catalog_sha256": self.catalog_hash,
            "point_estimate": "mean of each parameter's distribution",
            "layers": list(self.layers),
            "modes": list(self.modes),
            "parameters": {
                name: {**dist.to_dict(), "source": s.source, "where": s.where}
                for name, dist, s in zip(
                    self.parameter_names, self.distributions, self.settings, strict=True
                )
            },
            "q": {
                mode: {
                    "value": float(model.q[j]),
                    "parameter": self.parameter_names[self.q_index[j]],
                }
                for j, mode in enumerate(self.modes)
            },
            "p": {
                layer: {
                    mode: {
                        "value": float(model.p[i, j]),
                        "level": self.levels[i][j],
                        "parameter": self.parameter_names[self.p_index[i, j]],
                    }
                    for j, mode in enumerate(self.modes)
                }
                for i, layer in enumerate(self.layers)
            },
            "residual": {
                layer: {
                    "value": float(model.r[i]),
                    "parameter": self.parameter_names[self.r_index[i]],
                }
                for i, layer in enumerate(self.layers)
            },
            "notes": list(self.notes),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self._core_dict(), "parameters_sha256": self.parameters_hash}

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per model entry (q, p cell or r) with value and parameter."""
        import pandas as pd

        rows = [
            {
                "kind": "q",
                "layer": None,
                "mode": mode,
                "level": None,
                "value": float(self.model.q[j]),
                "parameter": self.parameter_names[self.q_index[j]],
            }
            for j, mode in enumerate(self.modes)
        ]
        rows += [
            {
                "kind": "p",
                "layer": layer,
                "mode": mode,
                "level": self.levels[i][j],
                "value": float(self.model.p[i, j]),
                "parameter": self.parameter_names[self.p_index[i, j]],
            }
            for i, layer in enumerate(self.layers)
            for j, mode in enumerate(self.modes)
        ]
        rows += [
            {
                "kind": "r",
                "layer": layer,
                "mode": None,
                "level": None,
                "value": float(self.model.r[i]),
                "parameter": self.parameter_names[self.r_index[i]],
            }
            for i, layer in enumerate(self.layers)
        ]
        return pd.DataFrame(rows)


def _resolve_id(name: str, known: Sequence[str], setting: Setting, what: str) -> str:
    if name in known:
        return name
    by_upper = {k.upper(): k for k in known}
    if name.upper() in by_upper:
        return by_upper[name.upper()]
    raise InputError(
        setting.source, setting.where, f"unknown {what} '{name}'", f"use one of: {', '.join(known)}"
    )


def resolve_parameters(
    catalog: Catalog, stack: Sequence[str], params: RiskParameters | None = None
) -> ResolvedParameters:
    """Turn a catalog, a stack (technique ids, in order) and parameters into a model.

    Examples
    --------
    >>> from ddrisk.io.catalog import load_catalog
    >>> resolved = resolve_parameters(load_catalog(), ["RLHF", "RE"])
    >>> resolved.model.n_layers, resolved.model.n_modes, resolved.parameter_names[:3]
    (2, 7, ('q.default', 'p.not_prone', 'p.prone'))
    """
    params = params or RiskParameters()
    modes = catalog.failure_mode_ids
    techniques = catalog.technique_ids
    for technique in stack:
        if technique not in techniques:
            raise InputError(
                "stack",
                technique,
                "not a technique of the catalog",
                f"use: {', '.join(techniques)}",
            )
    q_modes = {_resolve_id(k, modes, s, "failure mode"): s for k, s in params.q_modes.items()}
    r_layers = {_resolve_id(k, techniques, s, "technique"): s for k, s in params.r_layers.items()}
    p_cells = {
        (_resolve_id(t, techniques, s, "technique"), _resolve_id(f, modes, s, "failure mode")): s
        for (t, f), s in params.p_cells.items()
    }
    names: list[str] = []
    distributions: list[Distribution] = []
    settings: list[Setting] = []
    index_of: dict[str, int] = {}

    def use(name: str, setting: Setting) -> int:
        if name not in index_of:
            index_of[name] = len(names)
            names.append(name)
            distributions.append(setting.value)
            settings.append(setting)
        return index_of[name]

    q_index = np.array(
        [
            use(f"q.{m}", q_modes[m]) if m in q_modes else use("q.default", params.q_default)
            for m in modes
        ],
        dtype=int,
    )
    p_index = np.zeros((len(stack), len(modes)), dtype=int)
    levels: list[tuple[str, ...]] = []
    notes: list[str] = []
    catalog_label = catalog.label  # once: a pydantic private-attribute read per cell adds up
    for i, technique in enumerate(stack):
        row_levels = []
        for j, mode in enumerate(modes):
            rating = catalog.rating(technique, mode)
            level = rating.effective_level
            row_levels.append(level.value)
            if (technique, mode) in p_cells:
                p_index[i, j] = use(f"p.cells.{technique}.{mode}", p_cells[(technique, mode)])
            elif rating.probability is not None:
                setting = Setting(
                    FixedValue(rating.probability), catalog_label, f"ratings {technique} x {mode}"
                )
                p_index[i, j] = use(f"catalog:{technique}:{mode}", setting)
            else:
                p_index[i, j] = use(f"p.{level.value}", params.p_levels[level])
        levels.append(tuple(row_levels))
    r_index = np.array(
        [
            use(f"residual.{t}", r_layers[t])
            if t in r_layers
            else use("residual.default", params.r_default)
            for t in stack
        ],
        dtype=int,
    )
    unused = [s.where for (t, _f), s in p_cells.items() if t not in stack]
    unused += [s.where for t, s in r_layers.items() if t not in stack]
    if unused:
        notes.append(
            "overrides for techniques outside the stack were not used: " + ", ".join(unused)
        )
    means = np.array([d.mean for d in distributions])
    model = FailureModeModel(
        layers=tuple(stack),
        modes=tuple(modes),
        q=means[q_index],
        p=means[p_index],
        r=means[r_index],
    )
    return ResolvedParameters(
        catalog_label=catalog.label,
        catalog_hash=catalog.content_hash,
        layers=tuple(stack),
        modes=tuple(modes),
        levels=tuple(levels),
        parameter_names=tuple(names),
        distributions=tuple(distributions),
        settings=tuple(settings),
        q_index=q_index,
        p_index=p_index,
        r_index=r_index,
        model=model,
        notes=tuple(notes),
    )
