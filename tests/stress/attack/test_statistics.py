"""The attack statistics against a direct count on random data, and their edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.stress.attack.statistics import AttackData, analyze_attack


def _random_data(seed: int, n: int, n_layers: int) -> AttackData:
    rng = np.random.default_rng(seed)

    def with_nans(shape: tuple[int, ...], p_nan: float) -> np.ndarray:
        values = (rng.random(shape) < rng.random()).astype(float)
        values[rng.random(shape) < p_nan] = np.nan
        return values

    found = with_nans((n, n_layers), 0.1)
    chains = tuple(
        tuple(
            ("base64",)
            if found[i, j] == 1 and rng.random() < 0.6
            else (() if found[i, j] == 1 else None)
            for i in range(n)
        )
        for j in range(n_layers)
    )
    transfer = with_nans((n, n_layers, n_layers), 0.1)
    transfer[found != 1] = np.nan  # no attack, no replay
    stack_found = with_nans((n,), 0.05)
    first = np.where(found == 1, rng.integers(1, 11, (n, n_layers)), np.nan)
    stack_first = np.where(stack_found == 1, rng.integers(1, 11, n), np.nan)
    return AttackData(
        attack_id="random",
        behaviors=pd.DataFrame(
            {
                "item_id": [f"i{i}" for i in range(n)],
                "behavior_id": [f"b{i // 2}" for i in range(n)],
                "family": "f",
            }
        ),
        layers=tuple(f"L{j}" for j in range(n_layers)),
        static=with_nans((n, n_layers), 0.1),
        found=found,
        first=first,
        chains=chains,
        transfer=transfer,
        stack_found=stack_found,
        stack_first=stack_first,
        stack_chains=tuple(("rot13",) if s == 1 else None for s in stack_found),
        budget=10,
        seed=seed,
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 40), n_layers=st.integers(2, 4))
def test_rates_transfer_and_penalty_match_a_direct_count(seed: int, n: int, n_layers: int) -> None:
    data = _random_data(seed, n, n_layers)
    result = analyze_attack(data, n_bootstrap=30)
    adaptive = []
    for j, row in enumerate(result.layers.itertuples()):
        decided = ~np.isnan(data.static[:, j])
        assert (row.static_k, row.static_n) == (
            int(np.nansum(data.static[:, j])),
            int(decided.sum()),
        )
        searched = ~np.isnan(data.found[:, j])
        assert (row.adaptive_k, row.adaptive_n) == (
            int(np.nansum(data.found[:, j])),
            int(searched.sum()),
        )
        adaptive.append(row.adaptive_k / row.adaptive_n if row.adaptive_n else math.nan)
    for row in result.transfer.itertuples():
        a, b = data.layers.index(row.source), data.layers.index(row.target)
        column = data.transfer[:, a, b]
        assert (row.k, row.n) == (int(np.nansum(column)), int((~np.isnan(column)).sum()))
        rewritten = np.array([bool(data.chains[a][i]) for i in range(n)])
        assert row.rewritten_n == int((~np.isnan(column) & rewritten).sum())
    stack = result.stack["adaptive"]
    assert stack["k"] == int(np.nansum(data.stack_found)) and stack["n"] == int(
        (~np.isnan(data.stack_found)).sum()
    )
    prediction = float(np.prod(adaptive))
    estimate = result.stack["independence_prediction"]["estimate"]
    if np.isnan(prediction):  # JSON-ready records carry an undefined value as None
        assert estimate is None
    else:
        assert estimate == pytest.approx(prediction)
    if result.stack["penalty"]["estimable"]:
        assert result.stack["penalty"]["estimate"] == pytest.approx(
            stack["k"] / stack["n"] / prediction
        )
    else:
        assert prediction * stack["n"] < 1 or not math.isfinite(prediction)
    decided_all = (~np.isnan(data.static)).all(axis=1)
    all_pass = decided_all & (np.nan_to_num(data.static) == 1).all(axis=1)
    assert (result.stack["static_joint"]["k"], result.stack["static_joint"]["n"]) == (
        int(all_pass.sum()),
        int(decided_all.sum()),
    )
    assert len(result.master_keys) == stack["k"]
    assert result.curve["stack"].iloc[-1] == pytest.approx(stack["k"] / stack["n"])


def test_intervals_come_from_the_cluster_bootstrap_and_contain_the_estimate() -> None:
    result = analyze_attack(_random_data(7, 40, 3), n_bootstrap=400)
    for row in result.layers.itertuples():
        if 0 < row.adaptive_k < row.adaptive_n:
            assert row.adaptive_lo <= row.adaptive <= row.adaptive_hi
            assert row.adaptive_hi - row.adaptive_lo > 0
    again = analyze_attack(_random_data(7, 40, 3), n_bootstrap=400)
    assert again.to_dict() == result.to_dict()  # seeded: same data, same intervals


def test_bad_settings_are_value_errors() -> None:
    with pytest.raises(ValueError, match="confidence"):
        analyze_attack(_random_data(1, 5, 2), confidence=1.5)
    with pytest.raises(ValueError, match="n_bootstrap"):
        analyze_attack(_random_data(1, 5, 2), n_bootstrap=-1)
