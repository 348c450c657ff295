"""Shared fixtures and hypothesis strategies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import strategies as st

from ddrisk.catalog import Catalog
from ddrisk.io.catalog import load_catalog

# The Open-PSA MEF schema is GPL-licensed SCRAM material, so ddrisk does not ship it. CI and
# developers have the project's shared reference copy beside the checkout; use it when present.
_SHARED_SCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "open-psa-mef-input.rng"
)
if _SHARED_SCHEMA.is_file():
    os.environ.setdefault("DDRISK_MEF_SCHEMA", str(_SHARED_SCHEMA))

LEVELS = ("prone", "not_prone", "unclear")
TAXES = ("low", "medium", "high", "unclear")


def make_catalog(
    levels: list[list[str]], taxes: list[str] | None = None, *, catalog_id: str = "random"
) -> Catalog:
    """A valid catalog from a level matrix (techniques T0.., failure modes M0..)."""
    n_t, n_m = len(levels), len(levels[0])
    taxes = taxes or ["low"] * n_t
    return Catalog(
        id=catalog_id,
        version="1",
        title="generated",
        raters=[{"id": "r", "name": "test rater"}],
        techniques=[
            {"id": f"T{i}", "name": f"technique {i}", "category": "c", "safety_tax": taxes[i]}
            for i in range(n_t)
        ],
        failure_modes=[{"id": f"M{j}", "name": f"mode {j}"} for j in range(n_m)],
        ratings=[
            {"technique": f"T{i}", "failure_mode": f"M{j}", "level": levels[i][j], "rater": "r"}
            for i in range(n_t)
            for j in range(n_m)
        ],
    )


@st.composite
def catalogs(draw, max_techniques: int = 7, max_modes: int = 7) -> Catalog:
    n_t = draw(st.integers(2, max_techniques))
    n_m = draw(st.integers(1, max_modes))
    levels = draw(
        st.lists(
            st.lists(st.sampled_from(LEVELS), min_size=n_m, max_size=n_m),
            min_size=n_t,
            max_size=n_t,
        )
    )
    taxes = draw(st.lists(st.sampled_from(TAXES), min_size=n_t, max_size=n_t))
    return make_catalog(levels, taxes)


@pytest.fixture(scope="session")
def builtin() -> Catalog:
    return load_catalog()
