"""Markdown layout of a report's sections (GitHub-flavoured tables).

The sections are the same objects the HTML template lays out, so both formats
show identical numbers. Every text in a block is plain text, escaped here with
:func:`ddrisk.report.escape.markdown_text` (matched backticks become code spans), so a
catalog name, prompt or layer output is shown and never rendered or run. Figures appear as image links when a figure directory
is given (``Report.write`` saves the SVG files there) and are otherwise listed
by caption, so the Markdown stays a single self-sufficient text file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ddrisk.report.blocks import Details, FigureBlock, Findings, KeyValues, Paragraph, Table
from ddrisk.report.escape import html_text, markdown_text

if TYPE_CHECKING:
    from ddrisk.report.build import Report

_STATUS_MARK = {"holds": "✅", "partial": "⚠️", "fails": "❌", "info": "ℹ️"}


def _escape(text: object) -> str:
    """Every block text is plain text (much of it from catalogs, datasets and layers): escape it.

    >>> _escape("a|b* <script>")
    'a\\\\|b\\\\* &lt;script&gt;'
    """
    return markdown_text(text)


def _inline(text: object) -> str:
    """Plain text where matched `backticks` mark code, as in the HTML report.

    Text outside the backticks is escaped; inside a code span Markdown shows every character
    literally (no HTML, no links), so only spans that would break out of one line are escaped.

    >>> _inline("run `ddrisk report` <now>")
    'run `ddrisk report` &lt;now&gt;'
    """
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: no code spans at all
        return _escape(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2 and part.strip() and "\n" not in part and "\r" not in part:
            out.append(f"`{part}`")
        else:
            literal = f"`{part}`" if index % 2 else part
            out.append(markdown_text(literal, starts_block=index == 0))
    return "".join(out)


def _table(table: Table) -> list[str]:
    lines = [f"**{_escape(table.caption)}**", ""]
    lines.append("| " + " | ".join(_escape(c) for c in table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(_escape(cell.text) for cell in row) + " |")
    lines += ["", f"<sub>{_escape(table.provenance)}</sub>", ""]
    return lines


def _figure(block: FigureBlock, figure_dir: str | None) -> list[str]:
    if figure_dir is None:
        return [
            f"*Figure omitted in this Markdown: {_escape(block.caption)}* (see the HTML report)",
            "",
        ]
    return [
        f"![{_escape(block.caption)}]({quote(f'{figure_dir}/{block.name}.svg')})",
        "",
        f"*Figure: {_escape(block.caption)}*  ",
        f"<sub>{_escape(block.provenance)}</sub>",
        "",
    ]


def _blocks(blocks: list[Any], figure_dir: str | None, level: int) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines += [_inline(block.text), ""]
        elif isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, FigureBlock):
            lines += _figure(block, figure_dir)
        elif isinstance(block, Findings):
            for number, item in enumerate(block.items, start=1):
                mark = _STATUS_MARK.get(item.status, "")
                lines.append(
                    f"{number}. {mark} **{_escape(item.title)}** ({_escape(item.status_text)}): "
                    f"{_inline(item.statement)}"
                    + (f" <sub>{_escape(item.provenance)}</sub>" if item.provenance else "")
                )
            lines += ["", f"<sub>{_escape(block.provenance)}</sub>", ""]
        elif isinstance(block, KeyValues):
            lines += [f"**{_escape(block.caption)}**", "", "| | |", "|---|---|"]
            lines += [f"| {_escape(k)} | {_escape(v)} |" for k, v in block.pairs]
            lines.append("")
        elif isinstance(block, Details):
            lines += [f"{'#' * (level + 1)} {_escape(block.summary)}", ""]
            lines += _blocks(block.blocks, figure_dir, level + 1)
        else:  # pragma: no cover - every block type is handled above
            raise TypeError(f"unknown block {type(block).__name__}")
    return lines


def render_markdown(report: Report, *, figure_dir: str | None = None) -> str:
    """The whole report as Markdown text."""
    provenance = report.provenance
    catalog = provenance["catalog"]
    lines = [
        f"# {_escape(report.title)}",
        "",
        f"Catalog {_escape(catalog['id'])} version {_escape(catalog['version'])} "
        f"(sha256 {_escape(catalog['sha256'])}) · created {_escape(provenance['created'])} · "
        f"ddrisk {_escape(provenance['ddrisk_version'])}",
        "",
        "Contents: " + " · ".join(f"[{_escape(s.title)}](#{quote(s.id)})" for s in report.sections),
        "",
    ]
    for section in report.sections:
        lines += [f'<a id="{html_text(section.id)}"></a>', "", f"## {_escape(section.title)}", ""]
        if section.intro:
            lines += [_inline(section.intro), ""]
        lines += _blocks(section.blocks, figure_dir, level=2)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
