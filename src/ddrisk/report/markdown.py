"""Markdown layout of a report's sections (GitHub-flavoured tables).

The sections are the same objects the HTML template lays out, so both formats
show identical numbers. Figures appear as image links when a figure directory
is given (``Report.write`` saves the SVG files there) and are otherwise listed
by caption, so the Markdown stays a single self-sufficient text file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ddrisk.report.blocks import Details, FigureBlock, Findings, KeyValues, Paragraph, Table

if TYPE_CHECKING:
    from ddrisk.report.build import Report

_STATUS_MARK = {"holds": "✅", "partial": "⚠️", "fails": "❌", "info": "ℹ️"}


def _escape(text: str) -> str:
    """Make text safe inside a Markdown table cell.

    >>> _escape("a|b*")
    'a\\\\|b\\\\*'
    """
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def _table(table: Table) -> list[str]:
    lines = [f"**{table.caption}**", ""]
    lines.append("| " + " | ".join(_escape(c) for c in table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(_escape(cell.text) for cell in row) + " |")
    lines += ["", f"<sub>{_escape(table.provenance)}</sub>", ""]
    return lines


def _figure(block: FigureBlock, figure_dir: str | None) -> list[str]:
    if figure_dir is None:
        return [f"*Figure omitted in this Markdown: {block.caption}* (see the HTML report)", ""]
    return [
        f"![{block.caption}]({figure_dir}/{block.name}.svg)",
        "",
        f"*Figure: {block.caption}*  ",
        f"<sub>{_escape(block.provenance)}</sub>",
        "",
    ]


def _blocks(blocks: list[Any], figure_dir: str | None, level: int) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, FigureBlock):
            lines += _figure(block, figure_dir)
        elif isinstance(block, Findings):
            for number, item in enumerate(block.items, start=1):
                mark = _STATUS_MARK.get(item.status, "")
                lines.append(
                    f"{number}. {mark} **{item.title}** ({item.status_text}): {item.statement}"
                    + (f" <sub>{_escape(item.provenance)}</sub>" if item.provenance else "")
                )
            lines += ["", f"<sub>{_escape(block.provenance)}</sub>", ""]
        elif isinstance(block, KeyValues):
            lines += [f"**{block.caption}**", "", "| | |", "|---|---|"]
            lines += [f"| {_escape(k)} | {_escape(v)} |" for k, v in block.pairs]
            lines.append("")
        elif isinstance(block, Details):
            lines += [f"{'#' * (level + 1)} {block.summary}", ""]
            lines += _blocks(block.blocks, figure_dir, level + 1)
        else:  # pragma: no cover - every block type is handled above
            raise TypeError(f"unknown block {type(block).__name__}")
    return lines


def render_markdown(report: Report, *, figure_dir: str | None = None) -> str:
    """The whole report as Markdown text."""
    provenance = report.provenance
    catalog = provenance["catalog"]
    lines = [
        f"# {report.title}",
        "",
        f"Catalog `{catalog['id']}` version {catalog['version']} "
        f"(sha256 `{catalog['sha256']}`) · created {provenance['created']} · "
        f"ddrisk {provenance['ddrisk_version']}",
        "",
        "Contents: " + " · ".join(f"[{s.title}](#{s.id})" for s in report.sections),
        "",
    ]
    for section in report.sections:
        lines += [f'<a id="{section.id}"></a>', "", f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        lines += _blocks(section.blocks, figure_dir, level=2)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
