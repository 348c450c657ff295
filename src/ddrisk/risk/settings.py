"""Settings of a risk assessment that option parsers need before any engine loads.

``ddrisk risk --help`` and ``ddrisk risk --mef`` must not pay for numpy, the catalog model or
the engines just to show a default or check a ``--parts`` name, so these live here, free of
imports, and :mod:`ddrisk.risk.assessment` and :mod:`ddrisk.risk.dependence` re-export them.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_BETA = 0.1
"""Beta-factor model: the share of each layer's failure probability that is common cause."""
DEFAULT_RHO = 0.5
"""Gaussian copula: correlation between the layers' latent stress variables."""

PARTS = ("probability", "importance", "marginal-values", "dependence", "curve")
"""What :func:`~ddrisk.risk.assessment.assess_stack` can compute. ``probability`` (P(stack
fails) with the layer marginals, the independence prediction and the effective number of
layers) is always computed; ``importance`` are the Birnbaum, Fussell-Vesely, RAW and RRW
measures, ``marginal-values`` each layer's P(stack fails) without it, ``dependence`` the four
other dependence models on the same marginals, ``curve`` P(first n layers fail) for every n."""


def check_parts(parts: Iterable[str]) -> tuple[str, ...]:
    """The requested parts in :data:`PARTS` order, ``probability`` always included.

    >>> check_parts(["curve", "importance"])
    ('probability', 'importance', 'curve')
    """
    wanted = set(parts)
    unknown = sorted(wanted - set(PARTS) - {"all"})
    if unknown:
        raise ValueError(f"unknown part(s) {', '.join(unknown)}; parts are {', '.join(PARTS)}")
    if "all" in wanted:
        return PARTS
    return tuple(part for part in PARTS if part in wanted or part == "probability")
