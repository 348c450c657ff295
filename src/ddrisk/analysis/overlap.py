"""Pairwise overlap of technique failure profiles: shared count, Jaccard, phi."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog

if TYPE_CHECKING:
    import pandas as pd


def jaccard(a: int, b: int) -> float:
    """Jaccard similarity of two bit sets; two empty profiles count as identical (1.0).

    >>> jaccard(0b0111, 0b0110)
    0.6666666666666666
    """
    union = (a | b).bit_count()
    return 1.0 if union == 0 else (a & b).bit_count() / union


def phi(a: int, b: int, n_modes: int) -> float | None:
    """Phi (Pearson) correlation of two binary profiles over ``n_modes`` modes.

    ``None`` when a profile is constant (prone to all or none), where phi is undefined.

    >>> phi(0b0011, 0b0011, 4)
    1.0
    >>> phi(0b0011, 0b1100, 4)
    -1.0
    >>> phi(0b1111, 0b0011, 4) is None
    True
    """
    n11 = (a & b).bit_count()
    na, nb = a.bit_count(), b.bit_count()
    denominator = na * (n_modes - na) * nb * (n_modes - nb)
    if denominator == 0:
        return None
    return (n_modes * n11 - na * nb) / math.sqrt(denominator)


@dataclass(frozen=True)
class PairOverlap:
    technique_a: str
    technique_b: str
    policy: str
    shared_modes: tuple[str, ...]
    jaccard: float
    phi: float | None

    @property
    def shared_count(self) -> int:
        return len(self.shared_modes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique_a": self.technique_a,
            "technique_b": self.technique_b,
            "policy": self.policy,
            "shared_count": self.shared_count,
            "shared_modes": list(self.shared_modes),
            "jaccard": self.jaccard,
            "phi": self.phi,
        }


@dataclass(frozen=True)
class OverlapResult:
    """All technique pairs under each resolved policy."""

    policy: str
    pairs: tuple[PairOverlap, ...]
    techniques: tuple[str, ...] = ()

    def pair(self, a: str, b: str, policy: str) -> PairOverlap:
        for p in self.pairs:
            if p.policy == policy and {p.technique_a, p.technique_b} == {a, b}:
                return p
        raise KeyError((a, b, policy))

    def to_dict(self) -> dict[str, Any]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for p in self.pairs:
            grouped.setdefault(p.policy, []).append(p.to_dict())
        return {"policy": self.policy, "pairs": grouped}

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([p.to_dict() for p in self.pairs])

    def matrix(self, metric: str = "shared_count", policy: str = "pessimistic") -> pd.DataFrame:
        """Symmetric technique x technique table of one metric."""
        import pandas as pd

        names = list(self.techniques)
        table = pd.DataFrame(index=names, columns=names, dtype=float)
        for pair in self.pairs:
            if pair.policy == policy:
                value = pair.to_dict()[metric]
                table.loc[pair.technique_a, pair.technique_b] = value
                table.loc[pair.technique_b, pair.technique_a] = value
        return table


def overlap_from_profile(profile: Profile, policy: UnclearPolicy) -> OverlapResult:
    pairs = []
    n_modes = len(profile.modes)
    for resolved in policy.resolved():
        masks = profile.prone_masks(resolved)
        for i, j in combinations(range(len(profile.techniques)), 2):
            pairs.append(
                PairOverlap(
                    technique_a=profile.techniques[i],
                    technique_b=profile.techniques[j],
                    policy=resolved.value,
                    shared_modes=tuple(profile.mode_names(masks[i] & masks[j])),
                    jaccard=jaccard(masks[i], masks[j]),
                    phi=phi(masks[i], masks[j], n_modes),
                )
            )
    return OverlapResult(policy=policy.value, pairs=tuple(pairs), techniques=profile.techniques)


def pairwise_overlap(
    catalog: Catalog, *, policy: UnclearPolicy | str = UnclearPolicy.BOUNDS
) -> OverlapResult:
    """How much each pair of techniques fails together, structurally.

    >>> from ddrisk.io.catalog import load_catalog
    >>> result = pairwise_overlap(load_catalog(), policy="pessimistic")
    >>> result.pair("RLAIF", "W2S", "pessimistic").jaccard
    1.0
    """
    return overlap_from_profile(Profile.from_catalog(catalog), UnclearPolicy(policy))
