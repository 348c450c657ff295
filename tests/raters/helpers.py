"""Build small rater panels in memory for the raters tests."""

from __future__ import annotations

from typing import Any

from ddrisk.catalog import Catalog
from ddrisk.raters import CellRating, RaterFile, RaterPanel, make_panel
from ddrisk.raters.model import CatalogRef, RaterIdentity
from tests.conftest import make_catalog


def base_catalog(n_t: int = 2, n_m: int = 3) -> Catalog:
    return make_catalog([["prone"] * n_m for _ in range(n_t)], ["low"] * n_t)


def rater_file(
    catalog: Catalog,
    rater_id: str,
    levels: list[str | None] | None = None,
    probabilities: list[float | None] | None = None,
) -> RaterFile:
    """One rater over the catalog's cells in order (techniques, then modes); None is blank."""
    cells = [(t, m) for t in catalog.technique_ids for m in catalog.failure_mode_ids]
    levels = levels or [None] * len(cells)
    probabilities = probabilities or [None] * len(cells)
    ratings = []
    for (t, m), level, p in zip(cells, levels, probabilities, strict=True):
        entry: dict[str, Any] = {"technique": t, "failure_mode": m}
        if level is not None:
            entry["level"] = level
        if p is not None:
            entry["probability"] = p
        ratings.append(CellRating(**entry))
    return RaterFile(
        catalog=CatalogRef(id=catalog.id, version=catalog.version),
        rater=RaterIdentity(id=rater_id, name=rater_id),
        ratings=ratings,
    )


def panel(
    catalog: Catalog,
    levels: dict[str, list[str | None]] | None = None,
    probabilities: dict[str, list[float | None]] | None = None,
) -> RaterPanel:
    ids = list((levels or probabilities or {}).keys())
    files = [
        rater_file(
            catalog,
            rid,
            (levels or {}).get(rid),
            (probabilities or {}).get(rid),
        )
        for rid in ids
    ]
    return make_panel(catalog, files, sources=[f"{rid}.yaml" for rid in ids])
