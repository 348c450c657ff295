"""The report's content as plain data: sections made of paragraphs, tables and figures.

Report builders turn result objects into these blocks once; the HTML template
and the Markdown writer only lay them out. Both formats therefore show the
same numbers, formatted by the same code, and neither computes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, an optional CSS class and an optional hover note."""

    text: str
    css: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Table:
    """A captioned table; ``provenance`` says which model, settings, seed and input made it."""

    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    provenance: str
    kind: str = "table"
    row_header: bool = True


@dataclass(frozen=True)
class FigureBlock:
    """A captioned figure, drawn on demand by ``draw`` (a function returning a Figure)."""

    name: str
    caption: str
    provenance: str
    draw: Callable[[], Figure]
    kind: str = "figure"


@dataclass(frozen=True)
class FindingItem:
    title: str
    status: str  # "holds" | "partial" | "fails" | "info"
    status_text: str
    statement: str
    provenance: str | None = None  # set when the item comes from another result than the findings


@dataclass(frozen=True)
class Findings:
    items: list[FindingItem]
    provenance: str
    kind: str = "findings"


@dataclass(frozen=True)
class KeyValues:
    caption: str
    pairs: list[tuple[str, str]]
    kind: str = "keyvalues"


@dataclass(frozen=True)
class Details:
    """Blocks a reader can expand (HTML ``<details>``; a sub-heading in Markdown)."""

    summary: str
    blocks: list[Any]
    kind: str = "details"


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str = ""
    blocks: list[Any] = field(default_factory=list)


def cells(*values: object) -> list[Cell]:
    """A table row from plain values (``None`` shows as an em dash)."""
    return [v if isinstance(v, Cell) else Cell("—" if v is None else str(v)) for v in values]
