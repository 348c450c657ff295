"""One escaping rule per output format, applied at the rendering boundary.

Catalog names, dataset prompts, layer outputs, rater rationales and stack files are untrusted
text: attack prompts are adversarial by design. Every renderer passes each such string through
the function for its output format, and nothing else in ddrisk escapes or un-escapes text:

- :func:`html_text` for HTML (element content and quoted attribute values);
- :func:`markdown_text` for Markdown, so a renderer shows the characters and runs nothing;
- :func:`terminal_text` for rich console markup (``[bold]``, ``[link=...]``) and raw control
  characters such as ANSI escapes; :func:`plain_terminal_text` where the terminal gets plain
  text (``click.echo``);
- :func:`mpl_text` for matplotlib labels, titles and tick labels (``$...$`` mathtext);
- :func:`latex_text` for LaTeX source;
- :func:`csv_cell` for CSV/TSV cells a spreadsheet might evaluate as formulas.
"""

from __future__ import annotations

import re

import markupsafe

# C0 and C1 control characters except tab and newline, plus DEL: ANSI escapes start with ESC.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Unicode characters that reorder or hide text (bidi overrides, zero-width joiners are kept out
# of terminals and tables so "Trojan source" tricks show up as visible code points).
_INVISIBLE = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029\ufeff]")


def _visible(text: str) -> str:
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def html_text(value: object) -> str:
    """Escape for HTML content or a quoted attribute; hidden and reordering characters shown.

    >>> html_text('<script>alert("x")</script>')
    '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;'
    >>> html_text("abc" + chr(0x202E) + "def")
    'abc\\\\u202edef'
    """
    return str(markupsafe.escape(_visible(str(value))))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")
_LEADING_BLANKS = re.compile(r"^[ \t]+")
_LEADING_MARKER = re.compile(r"^(\d*)([-.])")


def markdown_text(value: object, *, in_table: bool = True, starts_block: bool = True) -> str:
    """Escape for Markdown (GitHub-flavoured and CommonMark): shown as written, never run.

    HTML-significant characters become entities (a raw ``<script>`` would be passed through
    by most renderers), Markdown punctuation is backslash-escaped so it neither formats nor
    links, and newlines become ``<br>`` inside table cells.

    >>> markdown_text("<img src=x onerror=alert(1)> [a](javascript:x) | *b*")
    '&lt;img src=x onerror=alert\\\\(1\\\\)&gt; \\\\[a\\\\]\\\\(javascript:x\\\\) \\\\| \\\\*b\\\\*'
    """
    text = _visible(str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # At the start of a block, indentation would make a code block and "-" or "1." a list.
    if starts_block:  # text placed after other inline text cannot start a block
        text = _LEADING_BLANKS.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)
        text = _LEADING_MARKER.sub(r"\1\\\2", text)
    if in_table:
        text = text.replace("\r\n", "\n").replace("\n", "<br>")
    return text


def terminal_text(value: object) -> str:
    """Escape for rich console markup and make control characters visible.

    >>> terminal_text("[/bold] [link=https://x]y[/link] \\x1b[31m")
    '\\\\[/bold] \\\\[link=https://x]y\\\\[/link] \\\\x1b[31m'
    """
    from rich.markup import escape

    return escape(_visible(str(value)))


def plain_terminal_text(value: object) -> str:
    """For terminal output that is not rich markup (``click.echo``): control characters shown.

    >>> plain_terminal_text("v1\\x1b[2J")
    'v1\\\\x1b[2J'
    """
    return _visible(str(value))


def mpl_text(value: object) -> str:
    """Escape for matplotlib text: ``$`` would start mathtext (and can crash the figure).

    >>> mpl_text("cost $5$ \\\\alpha")
    'cost \\\\$5\\\\$ \\\\alpha'
    """
    return _visible(str(value)).replace("$", r"\$")


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "%": r"\%",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_text(value: object) -> str:
    r"""Escape for LaTeX source.

    >>> latex_text("AL_GEN & 50% \\input{x}")
    'AL\\_GEN \\& 50\\% \\textbackslash{}input\\{x\\}'
    """
    text = _CONTROL.sub("", str(value))
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


# In a CSV cell, tab and line breaks are legitimate (a quoted cell may span lines), and
# joiners (ZWJ, ZWNJ, LRM/RLM) belong to emoji and right-to-left words; control characters and
# bidi embeddings/overrides/isolates are what hides or reorders text in a viewer.
_CSV_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _csv_visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(value: object) -> object:
    """Neutralise spreadsheet formula injection in a CSV/TSV cell (OWASP's rule).

    Numbers pass through untouched; a string that a spreadsheet would read as a formula gets a
    leading apostrophe. Control characters (ANSI escapes) and bidi overrides are shown as
    ``\\x1b`` / ``\\u202e`` like the other rules, but tab, line breaks and joiners stay, so
    legitimate multi-line text reads back unchanged.

    >>> csv_cell("=1+2"), csv_cell("-0.5"), csv_cell(-0.5), csv_cell("RLHF"), csv_cell(" @x")
    ("'=1+2", "'-0.5", -0.5, 'RLHF', "' @x")
    """
    if not isinstance(value, str):
        return value
    value = _CSV_HIDDEN.sub(_csv_visible, value)
    # Spreadsheets skip leading spaces before reading a formula.
    if value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value
