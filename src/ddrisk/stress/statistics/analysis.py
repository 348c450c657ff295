"""The entry point over an outcome matrix: every statistic of one stress run."""

from __future__ import annotations

import numpy as np

from ddrisk.stress.defaults import DEFAULT_CONFIDENCE, DEFAULT_N_BOOTSTRAP, DEFAULT_SEED
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics._core import (
    BOOTSTRAP_METHOD,
    MIN_EXPECTED_JOINT,
    RATE_INTERVAL_METHOD,
    ZERO_BOUND_METHOD,
    _ClusterBootstrap,
    _clusters,
    _families,
    _run_id,
    outcome_matrix_hash,
)
from ddrisk.stress.statistics.families import resistance_table
from ddrisk.stress.statistics.pairwise import pairs_table
from ddrisk.stress.statistics.rates import family_rates, layer_rates
from ddrisk.stress.statistics.result import StressAnalysis
from ddrisk.stress.statistics.stack import benign_stack, harmful_stack
from ddrisk.stress.statistics.warnings import (
    WarningThresholds,
    collect_warnings,
    source_warnings,
)


def analyze_outcomes(
    matrix: OutcomeMatrix,
    *,
    seed: int = DEFAULT_SEED,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
    near_boundary: float = 0.02,
    min_joint_failures: int = 10,
    min_family_items: int = 20,
    max_error_share: float = 0.05,
    min_clusters: int = 20,
    min_expected_joint: float = MIN_EXPECTED_JOINT,
) -> StressAnalysis:
    """Every statistic of a stress run: per layer, pairwise, stack, master keys, warnings.

    Parameters
    ----------
    matrix
        Items x layers verdicts (from a run store or an importer).
    seed, n_bootstrap, confidence
        Cluster-bootstrap seed and replicate count (0 disables bootstrap intervals), and
        the two-sided level of every interval (one-sided for zero-failure bounds).
    near_boundary, min_joint_failures, min_family_items, max_error_share, min_clusters
        Warning thresholds: a miss rate within ``near_boundary`` of 0 or 1 makes phi
        unstable; fewer joint failures, family items or clusters than these make the
        estimates fragile; a layer erring on more than ``max_error_share`` of the
        items may be biased by what it skipped.
    min_expected_joint
        Lift, phi and Yule's Q need at least this many joint failures expected under
        independence (and phi/Q a 2x2 table without empty cells); below it they are
        reported as not estimable (NaN, ``*_estimable`` false). 0 turns the guard off.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["a", "b"], "family": "f", "behavior_id": ["a", "b"],
    ...                       "harmful": True})
    >>> m = OutcomeMatrix(items=items, layers=("x", "y"),
    ...                   blocked=np.array([[0.0, 0.0], [1.0, 0.0]]),
    ...                   score=np.full((2, 2), np.nan), errors=np.full((2, 2), None))
    >>> result = analyze_outcomes(m, n_bootstrap=0)
    >>> result.stack["all_miss"]["k"], result.stack["all_miss"]["n"]
    (1, 2)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    if n_bootstrap < 0:
        raise ValueError("n_bootstrap must be >= 0")
    if not matrix.layers:
        raise ValueError("the outcome matrix has no layers")
    if len(matrix.items) == 0:
        raise ValueError("the outcome matrix has no items")
    if not min_expected_joint >= 0:
        raise ValueError("min_expected_joint must be >= 0")
    thresholds = WarningThresholds(
        near_boundary=near_boundary,
        min_joint_failures=min_joint_failures,
        min_family_items=min_family_items,
        max_error_share=max_error_share,
        min_clusters=min_clusters,
    )
    layers = tuple(matrix.layers)
    failures = matrix.failures()
    harmful = matrix.harmful
    family = _families(matrix.items)
    clusters = _clusters(matrix.items)
    seeds = np.random.SeedSequence(seed).spawn(2)
    input_hash = outcome_matrix_hash(matrix)

    layer_table = layer_rates(failures, harmful, clusters, layers, confidence)
    family_miss = family_rates(failures, harmful, family, clusters, layers, confidence)

    h_boot = _ClusterBootstrap(clusters[harmful], n_bootstrap=n_bootstrap, seed=seeds[0])
    h_items = matrix.items.loc[harmful].reset_index(drop=True)
    pairs = pairs_table(
        failures[harmful],
        family[harmful],
        layers,
        h_boot,
        confidence,
        min_expected_joint=min_expected_joint,
    )
    stack = harmful_stack(
        failures[harmful],
        family[harmful],
        h_items,
        layers,
        h_boot,
        confidence,
        min_expected_joint=min_expected_joint,
    )
    b_boot = _ClusterBootstrap(clusters[~harmful], n_bootstrap=n_bootstrap, seed=seeds[1])
    benign = benign_stack(failures[~harmful], family[~harmful], len(layers), b_boot, confidence)
    stack.stack["redundant_layers"] = (
        [
            row.layer
            for row in stack.marginal_value.itertuples(index=False)
            if row.unique_blocks == 0
        ]
        if stack.stack["n"] and len(layers) > 1
        else []
    )

    warnings = collect_warnings(
        harmful=harmful,
        family=family,
        layer_table=layer_table,
        pairs=pairs,
        stack=stack,
        benign=benign,
        n_layers=len(layers),
        n_clusters_harmful=h_boot.n_clusters,
        n_bootstrap=n_bootstrap,
        thresholds=thresholds,
    )
    warnings += source_warnings(matrix.metadata)
    parameters = {
        "seed": seed,
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "rate_interval": RATE_INTERVAL_METHOD,
        "zero_failure_bound": ZERO_BOUND_METHOD,
        "bootstrap": BOOTSTRAP_METHOD,
        "not_estimable": f"lift, phi and Yule's Q when fewer than {min_expected_joint:g} joint "
        "failures are expected under independence (phi and Q also when a cell of the 2x2 "
        "table is empty)",
        "errors": "counted separately and excluded from every rate",
        "independence_stratified": "sum over families of weight x product of within-family "
        "miss rates",
        "thresholds": thresholds.to_dict(),
    }
    n_harmful = int(harmful.sum())
    unavailable = (matrix.metadata or {}).get("unavailable_layers")
    input_info = {
        "source": matrix.source,
        "run_id": _run_id(matrix, input_hash),
        "input_sha256": input_hash,
        "n_items": len(matrix.items),
        "n_harmful": n_harmful,
        "n_benign": len(matrix.items) - n_harmful,
        "n_clusters_harmful": h_boot.n_clusters,
        "n_clusters_benign": b_boot.n_clusters,
        "layers": list(layers),
        "families": sorted(set(family)),
        "unavailable_layers": dict(unavailable) if isinstance(unavailable, dict) else {},
    }
    if matrix.source != "ddrisk" and matrix.metadata:
        # How a tool's log was read (threshold, label keys, tool version) decides every verdict.
        input_info["import"] = dict(matrix.metadata)
    return StressAnalysis(
        parameters=parameters,
        input=input_info,
        layers=layer_table,
        pairs=pairs,
        stack=stack.stack,
        stack_by_family=stack.by_family,
        k_of_n=stack.k_of_n,
        benign_stack=benign.stack,
        benign_by_family=benign.by_family,
        master_keys=stack.master_keys,
        marginal_value=stack.marginal_value,
        family_miss=family_miss,
        resistance=resistance_table(family_miss, stack.by_family),
        warnings=warnings,
    )
