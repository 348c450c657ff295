"""Agreement statistics: hand-computed values on small fixtures, reference packages on random ones."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from ddrisk.raters import rater_agreement
from ddrisk.raters.agreement import _pair_disagreement, krippendorff_alpha, pair_share
from tests.raters.helpers import base_catalog, panel

P, N, U = "prone", "not_prone", "unclear"


def test_ordinal_alpha_equals_hand_computation():
    # Units (0,1), (2,2), (0,0) on not_prone=0 < unclear=1 < prone=2. n0=3, n1=1, n2=2, n=6.
    # delta(0,1) = (4 - 2)^2 = 4; delta(0,2) = (6 - 2.5)^2 = 12.25; delta(1,2) = (3 - 1.5)^2 = 2.25.
    # Observed: o01 = o10 = 1 -> sum o*delta = 8. Expected: 2 * (3*1*4 + 3*2*12.25 + 1*2*2.25) = 180.
    # alpha = 1 - (n - 1) * 8 / 180 = 7/9.
    catalog = base_catalog(1, 3)
    result = rater_agreement(panel(catalog, {"a": [N, P, N], "b": [U, P, N]}), n_boot=0)
    assert result.alpha_ordinal.value == pytest.approx(7 / 9)


def test_interval_alpha_equals_hand_computation():
    # Units (0.1,0.1), (0.9,0.9), (0.1,0.9): D_o = (2 * 0.64) / 6, D_e = 18 * 0.64 / 30 -> 4/9.
    catalog = base_catalog(1, 3)
    result = rater_agreement(
        panel(catalog, probabilities={"a": [0.1, 0.9, 0.1], "b": [0.1, 0.9, 0.9]}), n_boot=0
    )
    assert result.alpha_interval.value == pytest.approx(4 / 9)


def test_fleiss_kappa_equals_hand_computation():
    # Three raters, three cells with category counts (3,0,0), (2,1,0), (0,0,3):
    # P_i = 1, 1/3, 1 -> mean 7/9; p_j = (5/9, 1/9, 3/9) -> P_e = 35/81; kappa = 28/46 = 14/23.
    catalog = base_catalog(1, 3)
    result = rater_agreement(
        panel(catalog, {"a": [N, N, P], "b": [N, N, P], "c": [N, U, P]}), n_boot=0
    )
    assert result.fleiss_kappa.value == pytest.approx(14 / 23)
    assert result.fleiss_kappa.n_units == 3


def test_pairwise_share_and_cell_disagreement_by_hand():
    catalog = base_catalog(1, 4)
    result = rater_agreement(
        panel(catalog, {"a": [P, P, N, None], "b": [P, N, N, U], "c": [P, N, U, U]}), n_boot=0
    )
    frame = result.pairs_frame()
    assert frame.loc["a", "b"] == pytest.approx(2 / 3)  # co-rated cells 1-3, same on 1 and 3
    assert frame.loc["b", "c"] == pytest.approx(3 / 4)
    cells = {c.failure_mode: c for c in result.cells}
    assert cells["M0"].disagreement.value == 0.0 and not cells["M0"].split
    assert cells["M1"].disagreement.value == pytest.approx(2 / 3)  # P, N, N: 2 of 3 pairs differ
    assert cells["M1"].how == "2 not_prone / 1 prone"
    assert cells["M3"].n_rated == 2 and cells["M3"].levels["a"] is None
    # M1 (P, N, N) and M2 (N, N, U) both split 2 of 3 pairs; M3 (U, U) does not split.
    assert [c.failure_mode for c in result.split_cells()] == ["M1", "M2"]


def test_no_variation_is_not_estimable_not_perfect():
    catalog = base_catalog(1, 3)
    result = rater_agreement(panel(catalog, {"a": [P, P, P], "b": [P, P, P]}), n_boot=0)
    assert result.alpha_ordinal.value is None
    assert "not estimable" in result.alpha_ordinal.text()
    assert result.alpha_interval.value is None  # nobody stated a probability


def _random_panel(rng: np.random.Generator, n_raters: int, n_t: int, n_m: int, missing: float):
    catalog = base_catalog(n_t, n_m)
    n = n_t * n_m
    names = [N, U, P]
    truth = rng.integers(0, 3, n)
    levels, probs = {}, {}
    for r in range(n_raters):
        noisy = np.where(rng.random(n) < 0.3, rng.integers(0, 3, n), truth)
        blank = rng.random(n) < missing
        levels[f"r{r}"] = [None if b else names[v] for v, b in zip(noisy, blank, strict=True)]
        p = np.round(np.clip(truth / 2 + rng.normal(0, 0.2, n), 0, 1), 2)
        probs[f"r{r}"] = [None if b else float(v) for v, b in zip(p, blank, strict=True)]
    return catalog, levels, probs


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_matches_reference_packages_on_random_panels_with_missing_cells(seed):
    rng = np.random.default_rng(seed)
    n_raters = int(rng.integers(3, 6))
    catalog, levels, probs = _random_panel(rng, n_raters, 4, 5, missing=0.15)
    # Level-only files for the ordinal statistics, probability-only for the interval one.
    lv = rater_agreement(panel(catalog, levels), n_boot=0)
    pr = rater_agreement(panel(catalog, probabilities=probs), n_boot=0)
    code = {N: 0.0, U: 1.0, P: 2.0}
    level_matrix = np.array(
        [[np.nan if v is None else code[v] for v in row] for row in levels.values()]
    )
    prob_matrix = np.array([[np.nan if v is None else v for v in row] for row in probs.values()])
    expected_ordinal = krippendorff.alpha(
        reliability_data=level_matrix, level_of_measurement="ordinal", value_domain=[0, 1, 2]
    )
    expected_interval = krippendorff.alpha(
        reliability_data=prob_matrix, level_of_measurement="interval"
    )
    assert lv.alpha_ordinal.value == pytest.approx(expected_ordinal, abs=1e-12)
    assert pr.alpha_interval.value == pytest.approx(expected_interval, abs=1e-12)
    complete = ~np.isnan(level_matrix).any(axis=0)
    table, _ = aggregate_raters(level_matrix[:, complete].T.astype(int), n_cat=3)
    assert lv.fleiss_kappa.value == pytest.approx(sm_fleiss(table), abs=1e-12)
    assert lv.fleiss_kappa.n_units == int(complete.sum())
    # Our own per-pair and per-cell statistics against brute force.
    ids = list(levels)
    for pair in lv.pairs:
        a, b = level_matrix[ids.index(pair.rater_a)], level_matrix[ids.index(pair.rater_b)]
        both = ~np.isnan(a) & ~np.isnan(b)
        assert pair.share_identical.value == pytest.approx(np.mean(a[both] == b[both]))
        assert pair.alpha_ordinal.value == pytest.approx(
            krippendorff.alpha(
                reliability_data=np.vstack([a, b]),
                level_of_measurement="ordinal",
                value_domain=[0, 1, 2],
            )
        )
    for index, cell in enumerate(lv.cells):
        values = level_matrix[:, index][~np.isnan(level_matrix[:, index])]
        pairs = [(i, j) for i in range(len(values)) for j in range(len(values)) if i != j]
        if pairs:
            brute = np.mean([values[i] != values[j] for i, j in pairs])
            assert cell.disagreement.value == pytest.approx(brute)


def test_bootstrap_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(7)
    catalog, levels, _ = _random_panel(rng, 4, 5, 6, missing=0.1)
    the_panel = panel(catalog, levels)
    first = rater_agreement(the_panel, n_boot=300, seed=11)
    again = rater_agreement(the_panel, n_boot=300, seed=11)
    other = rater_agreement(the_panel, n_boot=300, seed=12)
    assert first.to_dict() == again.to_dict()
    assert (first.alpha_ordinal.low, first.alpha_ordinal.high) != (
        other.alpha_ordinal.low,
        other.alpha_ordinal.high,
    )
    for estimate in (first.alpha_ordinal, first.fleiss_kappa, first.mean_cell_disagreement):
        assert estimate.low is not None and estimate.high is not None
        assert estimate.low <= estimate.value <= estimate.high
        assert estimate.low < estimate.high
    assert first.to_dict()["settings"] == {"n_boot": 300, "seed": 11, "confidence": 0.95}


def test_helpers_on_edge_cases():
    assert _pair_disagreement(np.array([np.nan, 1.0])) is None
    assert pair_share(np.array([np.nan, 1.0]), np.array([1.0, np.nan])) == (None, 0)
    assert krippendorff_alpha(np.array([[0.0, np.nan], [np.nan, 1.0]]), level="ordinal") is None
