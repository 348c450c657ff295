"""Reading the committed framework extracts in ``tests/catalog/data/`` (TSV, '#' header lines)."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).parent / "data"


def read_extract(path: Path) -> list[dict[str, str]]:
    """The rows of an extract made by one of the ``scripts/extract_*.py`` scripts."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))
