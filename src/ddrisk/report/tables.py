"""The technique x failure-mode matrix as terminal, Markdown, CSV, LaTeX and JSON tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ddrisk.catalog.model import Catalog, Level
from ddrisk.report.escape import csv_cell, latex_text, markdown_text, terminal_text

LEGEND = "✓ not prone · ✗ prone · ? unclear · * single-source cell"
_LATEX_SYMBOL = {Level.NOT_PRONE: r"\cmark", Level.PRONE: r"\xmark", Level.UNCLEAR: "?"}


def _cell(catalog: Catalog, technique: str, mode: str, *, mark_single: bool = True) -> str:
    rating = catalog.rating(technique, mode)
    text = rating.effective_level.symbol
    if rating.probability is not None:
        text += f" {rating.probability:.2g}"
    if mark_single and rating.provenance.corroboration == "single-source":
        text += "*"
    return text


def matrix_dict(catalog: Catalog) -> dict[str, Any]:
    """JSON form of the matrix: ids, names, and per-cell level, probability and provenance."""
    return {
        "catalog": {"id": catalog.id, "version": catalog.version, "sha256": catalog.content_hash},
        "techniques": [
            {"id": t.id, "name": t.name, "category": t.category, "safety_tax": t.safety_tax.value}
            for t in catalog.techniques
        ],
        "failure_modes": [{"id": f.id, "name": f.name} for f in catalog.failure_modes],
        "cells": {
            t: {
                f: {
                    "level": catalog.rating(t, f).effective_level.value,
                    "symbol": catalog.rating(t, f).effective_level.symbol,
                    "probability": catalog.rating(t, f).probability,
                    "confidence": catalog.rating(t, f).confidence.value,
                    "corroboration": catalog.rating(t, f).provenance.corroboration,
                }
                for f in catalog.failure_mode_ids
            }
            for t in catalog.technique_ids
        },
    }


def matrix_table(catalog: Catalog) -> Table:
    table = Table(
        title=f"{terminal_text(catalog.title)}\n{terminal_text(catalog.label)}",
        caption=LEGEND,
        box=box.SIMPLE_HEAVY,
        padding=(0, 1),
    )
    table.add_column("technique", style="bold", no_wrap=True)
    table.add_column("tax", no_wrap=True)
    for mode in catalog.failure_mode_ids:
        table.add_column(terminal_text(mode), justify="center", no_wrap=True, min_width=len(mode))
    styles = {"✗": "red", "✓": "green", "?": "yellow"}
    for technique in catalog.techniques:
        cells = []
        for mode in catalog.failure_mode_ids:
            text = _cell(catalog, technique.id, mode)
            cells.append(f"[{styles[text[0]]}]{terminal_text(text)}[/]")
        table.add_row(terminal_text(technique.id), technique.safety_tax.value, *cells)
    return table


def print_matrix(catalog: Catalog, console: Console | None = None) -> None:
    """Print the matrix, widening a narrow (or non-terminal) console rather than eliding ids."""
    console = console or Console()
    table = matrix_table(catalog)
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    if needed > console.width:
        console = Console(width=needed, file=console.file, force_terminal=console.is_terminal)
    console.print(table)


def render_matrix(catalog: Catalog, fmt: str) -> str:
    """Render the matrix as ``markdown``, ``csv`` or ``latex`` text."""
    modes = catalog.failure_mode_ids
    if fmt == "markdown":
        lines = [
            "| technique | safety tax | " + " | ".join(markdown_text(m) for m in modes) + " |",
            "|---|---|" + "---|" * len(modes),
        ]
        for t in catalog.techniques:
            cells = [markdown_text(_cell(catalog, t.id, m)) for m in modes]
            lines.append(
                f"| {markdown_text(t.id)} | {t.safety_tax.value} | " + " | ".join(cells) + " |"
            )
        lines.append("")
        lines.append(f"{markdown_text(LEGEND)}. Catalog {markdown_text(catalog.label)}.")
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["technique", "safety_tax", *(csv_cell(m) for m in modes)])
        for t in catalog.techniques:
            writer.writerow(
                [
                    csv_cell(t.id),
                    t.safety_tax.value,
                    *(catalog.rating(t.id, m).effective_level.value for m in modes),
                ]
            )
        return buffer.getvalue()
    if fmt == "latex":
        lines = [
            "% needs \\usepackage{pifont}; \\newcommand{\\cmark}{\\ding{51}} \\newcommand{\\xmark}{\\ding{55}}",
            "\\begin{tabular}{ll" + "c" * len(modes) + "}",
            "\\hline",
            "Technique & Tax & "
            + " & ".join(latex_text(m).replace("-", "\\mbox{-}") for m in modes)
            + " \\\\",
            "\\hline",
        ]
        for t in catalog.techniques:
            cells = []
            for m in modes:
                rating = catalog.rating(t.id, m)
                mark = _LATEX_SYMBOL[rating.effective_level]
                if rating.provenance.corroboration == "single-source":
                    mark += "$^{*}$"
                cells.append(mark)
            lines.append(
                f"{latex_text(t.id)} & {t.safety_tax.value} & " + " & ".join(cells) + " \\\\"
            )
        lines += ["\\hline", "\\end{tabular}", ""]
        return "\n".join(lines)
    raise ValueError(f"unknown format {fmt!r}")
