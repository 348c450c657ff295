"""A catalog reduced to what structural analysis needs, and the policies for "?".

Structural analysis works on bit sets: technique ``i`` is prone to the failure
modes in ``prone_masks(policy)[i]``. Sensitivity analysis edits the code matrix
directly, so it never has to rebuild or revalidate a catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from ddrisk.catalog.model import Catalog


class UnclearPolicy(StrEnum):
    """How an unclear ("?") cell counts.

    ``pessimistic`` counts it as prone, ``optimistic`` as not prone, and
    ``bounds`` computes both, side by side, so a reader sees how much a result
    leans on unresolved judgments.
    """

    PESSIMISTIC = "pessimistic"
    OPTIMISTIC = "optimistic"
    BOUNDS = "bounds"

    def resolved(self) -> tuple[UnclearPolicy, ...]:
        """The concrete policies this one stands for."""
        if self is UnclearPolicy.BOUNDS:
            return (UnclearPolicy.PESSIMISTIC, UnclearPolicy.OPTIMISTIC)
        return (self,)


PRONE, NOT_PRONE, UNCLEAR = 1, 0, -1


@dataclass(frozen=True)
class Profile:
    """Technique failure profiles as a code matrix (1 prone, 0 not prone, -1 unclear)."""

    techniques: tuple[str, ...]
    modes: tuple[str, ...]
    codes: np.ndarray
    tax: tuple[str, ...]
    tax_rank: tuple[float, ...]

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> Profile:
        techniques = catalog.techniques
        return cls(
            techniques=tuple(t.id for t in techniques),
            modes=tuple(catalog.failure_mode_ids),
            codes=catalog.level_codes(),
            tax=tuple(t.safety_tax.value for t in techniques),
            tax_rank=tuple(t.safety_tax.rank for t in techniques),
        )

    def prone(self, policy: UnclearPolicy) -> np.ndarray:
        """Boolean techniques x modes matrix under a concrete policy."""
        if policy is UnclearPolicy.BOUNDS:
            raise ValueError("resolve 'bounds' into pessimistic and optimistic first")
        unclear_as = policy is UnclearPolicy.PESSIMISTIC
        return np.where(self.codes == UNCLEAR, unclear_as, self.codes == PRONE)

    def prone_masks(self, policy: UnclearPolicy) -> list[int]:
        """Each technique's prone modes as an integer bit set (bit j = mode j)."""
        weights = 1 << np.arange(len(self.modes), dtype=object)
        return [int(np.dot(row.astype(object), weights)) for row in self.prone(policy)]

    def mode_names(self, mask: int) -> list[str]:
        return [mode for j, mode in enumerate(self.modes) if mask >> j & 1]

    def with_code(self, technique: int, mode: int, code: int) -> Profile:
        codes = self.codes.copy()
        codes[technique, mode] = code
        return replace(self, codes=codes)

    def unclear_cells(self) -> list[tuple[int, int]]:
        return [(int(i), int(j)) for i, j in zip(*np.nonzero(self.codes == UNCLEAR), strict=True)]
