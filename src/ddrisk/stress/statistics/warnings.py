"""Warnings a reader needs before trusting a stress analysis.

Each warning has a stable ``code``, the ``subject`` it concerns (a layer, a pair,
a family, the stack) and a one-sentence ``message``. The thresholds are
parameters of :func:`ddrisk.stress.statistics.analyze_outcomes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ddrisk.stress.statistics._core import _warn
from ddrisk.stress.statistics.stack import BenignStack, HarmfulStack


@dataclass(frozen=True)
class WarningThresholds:
    """When a statistic is fragile enough to say so."""

    near_boundary: float = 0.02
    min_joint_failures: int = 10
    min_family_items: int = 20
    max_error_share: float = 0.05
    min_clusters: int = 20

    def to_dict(self) -> dict[str, float | int]:
        return {
            "near_boundary": self.near_boundary,
            "min_joint_failures": self.min_joint_failures,
            "min_family_items": self.min_family_items,
            "max_error_share": self.max_error_share,
            "min_clusters": self.min_clusters,
        }


def collect_warnings(
    *,
    harmful: np.ndarray,
    family: np.ndarray,
    layer_table: pd.DataFrame,
    pairs: pd.DataFrame,
    stack: HarmfulStack,
    benign: BenignStack,
    n_layers: int,
    n_clusters_harmful: int,
    n_bootstrap: int,
    thresholds: WarningThresholds,
) -> list[dict[str, str]]:
    """Every warning, in a fixed order (items, layers, pairs, families, clusters, stack)."""
    warnings: list[dict[str, str]] = []
    n_items = len(harmful)
    near_boundary = thresholds.near_boundary
    min_joint_failures = thresholds.min_joint_failures
    min_family_items = thresholds.min_family_items
    max_error_share = thresholds.max_error_share
    min_clusters = thresholds.min_clusters
    n_harmful, n_benign = int(harmful.sum()), int((~harmful).sum())
    if n_harmful == 0:
        _warn(
            warnings,
            "no_harmful_items",
            "items",
            "no harmful items: miss rates, pairs and stack statistics are undefined",
        )
    if n_benign == 0:
        _warn(
            warnings,
            "no_benign_items",
            "items",
            "no benign items: false-block (false "
            "refusal) rates are undefined; add benign controls to measure over-blocking",
        )
    for row in layer_table.itertuples(index=False):
        rate = row.miss_rate
        if row.miss_n and (rate <= near_boundary or rate >= 1.0 - near_boundary):
            state = "undefined" if rate in (0.0, 1.0) else "unstable"
            _warn(
                warnings,
                "rate_near_boundary",
                row.layer,
                f"miss rate {row.miss_k}/{row.miss_n} is near {0 if rate < 0.5 else 1}: phi and "
                f"Yule's Q with this layer are {state}; read its pairs with care",
            )
        total = n_items
        errors = int(row.miss_errors + row.false_block_errors)
        if total and errors / total > max_error_share:
            _warn(
                warnings,
                "many_errors",
                row.layer,
                f"{errors} of {total} items have no verdict from this layer (error or not "
                f"run, {errors / total:.1%}); rates exclude them and may be biased by what "
                "the layer skipped",
            )
    for row in pairs.itertuples(index=False):
        if row.n == 0:
            _warn(
                warnings,
                "no_overlap",
                f"{row.layer_a} x {row.layer_b}",
                "the two layers never both judged a harmful item: no pairwise statistics",
            )
            continue
        if row.both_miss < min_joint_failures:
            _warn(
                warnings,
                "few_joint_failures",
                f"{row.layer_a} x {row.layer_b}",
                f"only {row.both_miss} joint misses (< {min_joint_failures}): lift, conditional "
                "rates and phi rest on few events",
            )
        if n_bootstrap and math.isfinite(row.phi) and row.phi_undefined_share > 0.1:
            _warn(
                warnings,
                "bootstrap_undefined",
                f"{row.layer_a} x {row.layer_b}",
                f"phi undefined in {row.phi_undefined_share:.0%} of bootstrap replicates "
                "(a margin was 0 or 1); its interval covers the rest only",
            )
    for fam in sorted(set(family)):
        count = int((family == fam).sum())
        if count < min_family_items:
            _warn(
                warnings,
                "few_family_items",
                fam,
                f"family has {count} items (< {min_family_items}): its rates and lifts are "
                "imprecise",
            )
    if n_harmful and n_clusters_harmful < min_clusters:
        _warn(
            warnings,
            "few_clusters",
            "clusters",
            f"only {n_clusters_harmful} clusters (shared behavior or template) among harmful items (< {min_clusters}): "
            "cluster-bootstrap intervals are unreliable",
        )
    multi_blocked = benign.multi_blocked
    if benign.stack["n"] and n_layers > 1 and multi_blocked < min_joint_failures:
        _warn(
            warnings,
            "few_joint_blocks",
            "benign stack",
            f"only {multi_blocked} benign items were blocked by two or more layers "
            f"(< {min_joint_failures}): the any-block vs independence ratio and its interval "
            "rest on few overlaps",
        )
    if n_harmful and stack.stack["n"] == 0:
        _warn(
            warnings,
            "no_complete_items",
            "stack",
            "no harmful item has a verdict from every layer (layers judged different items), so "
            "the stack statistics are undefined; analyse a subset of layers that share items",
        )
    elif stack.stack["excluded_for_errors"]:
        _warn(
            warnings,
            "items_excluded",
            "stack",
            f"{stack.stack['excluded_for_errors']} harmful items lack a verdict from some layer and are "
            "left out of the stack statistics",
        )
    not_estimable = [
        f"{row.layer_a} x {row.layer_b}"
        for row in pairs.itertuples(index=False)
        if row.n and not row.lift_estimable
    ]
    if not_estimable:
        _warn(
            warnings,
            "not_estimable",
            ", ".join(not_estimable[:6]) + (" ..." if len(not_estimable) > 6 else ""),
            f"{len(not_estimable)} pair(s) expect too few joint misses under independence: "
            "their lift, phi and Yule's Q are not estimable",
        )
    return warnings


def source_warnings(metadata: dict[str, object] | None) -> list[dict[str, str]]:
    """Warnings an importer left in the matrix metadata (the input disagrees with itself).

    A garak report carries its own pass/fail counts per probe and detector; when the
    verdicts recounted from its attempts differ, the file was edited, truncated or read
    at another score threshold than garak used, and every rate here rests on the recount.
    """
    warnings: list[dict[str, str]] = []
    mismatches = (metadata or {}).get("eval_mismatches")
    if not isinstance(mismatches, list):
        return warnings
    for entry in mismatches:
        if not isinstance(entry, dict):
            continue
        _warn(
            warnings,
            "source_counts_differ",
            f"{entry.get('probe')} x {entry.get('detector')}",
            f"passed/fails/nones recounted from the attempts {entry.get('recounted_passed_fails_nones')} "
            f"differ from garak's eval entry {entry.get('report_passed_fails_nones')} "
            f"(line {entry.get('line')}): the file was edited or truncated, or read at another "
            "score threshold than garak used; rates here use the recount",
        )
    return warnings
