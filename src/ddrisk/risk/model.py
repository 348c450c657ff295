"""The failure-mode (common-cause) model of a stack of safety layers.

Failure mode ``j`` occurs with probability ``q[j]``, independently of the other
modes. When it occurs, layer ``i`` fails because of it with probability
``p[i, j]`` (independently per cell). Layer ``i`` also fails on its own with
residual probability ``r[i]``. The stack fails when every layer fails. This is a
monotone fault tree, top = AND_i (R_i OR OR_j (Q_j AND C_ij)), also known as a
Marshall-Olkin shock model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
        """The model restricted to some layers (same modes)."""
        index = [self.layers.index(layer) for layer in layers]
        return FailureModeModel(
            layers=tuple(layers),
            modes=self.modes,
            q=self.q,
            p=self.p[index],
            r=self.r[index],
            name=self.name,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.name,
            "layers": list(self.layers),
            "modes": list(self.modes),
            "q": self.q.tolist(),
            "p": self.p.tolist(),
            "r": self.r.tolist(),
        }
