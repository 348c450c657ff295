"""The failure-mode (common-cause) model of a stack of safety layers.

Failure mode ``j`` occurs with probability ``q[j]``, independently of the other
modes. When it occurs, layer ``i`` fails because of it with probability
``p[i, j]`` (independently per cell). Layer ``i`` also fails on its own with
residual probability ``r[i]``. By default the stack fails when every layer fails: the
monotone fault tree top = AND_i (R_i OR OR_j (Q_j AND C_ij)), also known as a
Marshall-Olkin shock model. A ``structure`` (:mod:`ddrisk.risk.structure`) replaces the AND
with voting groups and attack routes over the same layer and mode events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ddrisk.risk import structure as _structure

MODEL_NAME = "failure-mode common-cause model (Marshall-Olkin shocks)"


@dataclass(frozen=True)
class FailureModeModel:
    """Parameters of the common-cause model; pure data, validated on construction.

    Examples
    --------
    >>> m = FailureModeModel(layers=("A", "B"), modes=("X",), q=[0.1], p=[[1.0], [1.0]], r=[0.0, 0.0])
    >>> round(float(m.layer_failure_probabilities()[0]), 6)
    0.1
    """

    layers: tuple[str, ...]
    modes: tuple[str, ...]
    q: np.ndarray
    p: np.ndarray
    r: np.ndarray
    name: str = field(default=MODEL_NAME)
    structure: _structure.Node | None = None

    def __post_init__(self) -> None:
        q = np.asarray(self.q, dtype=float).reshape(-1)
        p = np.asarray(self.p, dtype=float)
        r = np.asarray(self.r, dtype=float).reshape(-1)
        if p.ndim != 2 or p.shape != (len(self.layers), len(self.modes)):
            raise ValueError(
                f"p must have shape (layers, modes) = ({len(self.layers)}, {len(self.modes)}), got {p.shape}"
            )
        if q.shape != (len(self.modes),) or r.shape != (len(self.layers),):
            raise ValueError("q needs one value per mode and r one value per layer")
        for label, values in (("q", q), ("p", p), ("r", r)):
            if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
                raise ValueError(f"{label} values must be probabilities in [0, 1]")
        for label, values in (("q", q), ("p", p), ("r", r)):
            values.setflags(write=False)
            object.__setattr__(self, label, values)
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "modes", tuple(self.modes))
        if self.structure is not None:
            _structure.validate_structure(self.structure, self.layers)
            if _structure.is_all_miss(self.structure, self.layers):
                object.__setattr__(self, "structure", None)

    @property
    def structured(self) -> bool:
        """True when layers combine other than "the stack fails when every layer fails"."""
        return self.structure is not None

    @property
    def structure_name(self) -> str:
        """The structure in words (``all miss (A, B)`` for the default)."""
        node = self.structure or _structure.all_miss(self.layers)
        return _structure.describe(node)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_modes(self) -> int:
        return len(self.modes)

    def layer_failure_probabilities(self) -> np.ndarray:
        """Marginal P(layer i fails) = 1 - (1 - r_i) prod_j (1 - q_j p_ij), computed in log space."""
        with np.errstate(divide="ignore"):  # a certain failure gives log(0) = -inf, i.e. P = 1
            log_survive = np.log1p(-self.r) + np.log1p(-(self.p * self.q[None, :])).sum(axis=1)
        return -np.expm1(log_survive)

    def subset(self, layers: list[str] | tuple[str, ...]) -> FailureModeModel:
        """The model restricted to some layers (same modes); all-miss stacks only."""
        if self.structure is not None:
            raise ValueError("subset() is defined for all-miss stacks; set r_i = 1 instead")
        index = [self.layers.index(layer) for layer in layers]
        return FailureModeModel(
            layers=tuple(layers),
            modes=self.modes,
            q=self.q,
            p=self.p[index],
            r=self.r[index],
            name=self.name,
        )

    def with_parameters(
        self, *, q: np.ndarray | None = None, r: np.ndarray | None = None
    ) -> FailureModeModel:
        """The same stack and structure with some q or r replaced (for conditioning)."""
        return FailureModeModel(
            layers=self.layers,
            modes=self.modes,
            q=self.q if q is None else q,
            p=self.p,
            r=self.r if r is None else r,
            name=self.name,
            structure=self.structure,
        )

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "model": self.name,
            "layers": list(self.layers),
            "modes": list(self.modes),
            "q": self.q.tolist(),
            "p": self.p.tolist(),
            "r": self.r.tolist(),
        }
        if self.structure is not None:  # absent for all-miss stacks: their hashes stay as before
            data["structure"] = _structure.to_data(self.structure)
            data["structure_text"] = self.structure_name
        return data
