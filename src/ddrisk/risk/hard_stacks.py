"""A family of stacks on which rare-event estimation is hard, with known exact answers.

Used by the sampler's statistical tests (``tests/risk/test_sampler_coverage.py``) and by
``benchmarks/bench_sampler.py``: dense stacks in the low regime whose failure runs through
several large shared ("hub") modes at once, with graded cells, so that no single product-form
proposal fits the failure region (the cross-entropy product tilt the sampler used before
covered the exact value in 66-93 of 100 seeds here). The exact DP still reaches them, which is
what makes the actual error and the coverage of the sampler's interval measurable.
"""

from __future__ import annotations

import math

import numpy as np

from ddrisk.risk.model import FailureModeModel


def hard_stack(
    seed: int,
    *,
    n_layers: int = 30,
    n_modes: int = 40,
    n_hubs: int = 8,
    hub_reach: tuple[float, float] = (0.25, 0.45),
) -> FailureModeModel:
    """One member of the hard family (deterministic in ``seed``).

    ``n_hubs`` modes each reach a random 25-45 % of the layers with q log-uniform on
    [2e-3, 2e-2]; every layer also draws 2-5 of the other modes (q log-uniform on
    [1e-3, 3e-2]); cells are graded, drawn from {0.5, 0.8, 0.95, 1}; residuals are
    log-uniform on [1e-4, 1e-3].
    """
    rng = np.random.default_rng(seed)
    p = np.zeros((n_layers, n_modes))
    values = np.array([0.5, 0.8, 0.95, 1.0])
    for h in range(n_hubs):
        share = rng.uniform(*hub_reach)
        members = rng.random(n_layers) < share
        p[members, h] = rng.choice(values, int(members.sum()))
    for i in range(n_layers):
        chosen = rng.choice(np.arange(n_hubs, n_modes), rng.integers(2, 6), replace=False)
        p[i, chosen] = rng.choice(values, chosen.size)
    q = np.empty(n_modes)
    q[:n_hubs] = np.exp(rng.uniform(math.log(2e-3), math.log(2e-2), n_hubs))
    q[n_hubs:] = np.exp(rng.uniform(math.log(3e-4), math.log(1e-2), n_modes - n_hubs))
    r = np.exp(rng.uniform(math.log(1e-4), math.log(1e-3), n_layers))
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"{'H' if j < n_hubs else 'm'}{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=r,
        name=f"hard stack {n_layers}x{n_modes}, {n_hubs} hubs, seed {seed}",
    )
