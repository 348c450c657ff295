"""Hostile text is only ever text: every payload through every escaping rule and every output."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from matplotlib.figure import Figure
from rich.console import Console
from rich.text import Text

from ddrisk.analysis import analyze
from ddrisk.cli import main
from ddrisk.report.build import build_report
from ddrisk.report.escape import (
    csv_cell,
    html_text,
    latex_text,
    markdown_text,
    mpl_text,
    terminal_text,
)
from tests.report.payloads import (
    HOSTILE_FAMILIES,
    HOSTILE_LAYERS,
    PAYLOADS,
    hostile_catalog,
    hostile_outcome_matrix,
)

FIXED = "2026-01-01T00:00:00+00:00"
ALL = list(PAYLOADS.values())
IDS = list(PAYLOADS)


class _Elements(HTMLParser):
    """Every start tag with its attributes, to find anything a payload could have created."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


def assert_inert_html(html: str, *, svg_documents: int = 0) -> None:
    """No script, frame or event handler, and no ``javascript:`` URL anywhere in the markup."""
    found = elements(html)
    assert sum(tag == "svg" for tag, _ in found) == svg_documents
    for tag, attrs in found:
        assert tag not in {"script", "iframe", "object", "embed", "foreignobject"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, name)


def render_markdown_worst_case(text: str) -> str:
    """CommonMark with raw HTML allowed and links on: the most a Markdown renderer does."""
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").render(text)


# ------------------------------------------------------------------------- the escaping rules
@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_html_text(payload):
    out = html_text(payload)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert_inert_html(f'<p title="{out}">{out}</p>')


@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_markdown_text_renders_as_plain_text(payload):
    for rendered in (
        render_markdown_worst_case(markdown_text(payload)),
        render_markdown_worst_case("| a |\n|---|\n| " + markdown_text(payload) + " |"),
    ):
        assert {tag for tag, _ in elements(rendered)} <= {
            "p",
            "br",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        }
        assert_inert_html(rendered)


@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_terminal_text_is_literal(payload):
    text = Text.from_markup("[bold]" + terminal_text(payload) + "[/bold]")
    assert "\x1b" not in text.plain and "\x07" not in text.plain
    # Only our own [bold] span: no link, no colour from the payload.
    assert [str(span.style) for span in text.spans] == ["bold"]
    console = Console(file=io.StringIO(), force_terminal=True, width=400)
    console.print("[bold]" + terminal_text(payload) + "[/bold]")


@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_mpl_text_draws_without_mathtext(payload):
    figure = Figure()
    axes = figure.add_subplot()
    label = axes.set_title(mpl_text(payload))
    axes.set_xticks([0], [mpl_text(payload)])
    figure.canvas.draw()  # raw "$\frac{" would raise here
    shown, is_math = label._preprocess_math(label.get_text())
    assert is_math is False
    assert "$" not in payload or "$" in shown


_LATEX_ESCAPES = re.compile(
    r"\\textbackslash\{\}|\\textasciicircum\{\}|\\textasciitilde\{\}|\\textless\{\}"
    r"|\\textgreater\{\}|\\textbar\{\}|\\[{}$&#_%]"
)


@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_latex_text_leaves_no_active_character(payload):
    stripped = _LATEX_ESCAPES.sub("", latex_text(payload))
    assert not set(stripped) & set("\\{}$&#^_~%"), stripped


@pytest.mark.parametrize("payload", ALL, ids=IDS)
def test_csv_cell_is_never_a_formula(payload):
    cell = csv_cell(payload)
    assert not str(cell).lstrip(" ").startswith(("=", "+", "-", "@")) or str(cell)[0] == "'"


# ------------------------------------------------------------------------------- every output
@pytest.fixture(scope="module")
def hostile():
    catalog = hostile_catalog()
    data = catalog.model_dump(mode="json")
    data["version"] = "1 " + PAYLOADS["rich_close"] + PAYLOADS["script"]
    return type(catalog).model_validate(data)


@pytest.fixture(scope="module")
def hostile_file(hostile, tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.json"
    path.write_text(hostile.model_dump_json(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def hostile_stress():
    from ddrisk.stress.statistics import analyze_outcomes

    return analyze_outcomes(hostile_outcome_matrix(), seed=1, n_bootstrap=30)


@pytest.fixture(scope="module")
def hostile_report(hostile, hostile_stress):
    analysis = analyze(hostile, stack=["AL_GEN", "x.y-z"])
    return build_report(catalog=hostile, analysis=analysis, stress=hostile_stress, created=FIXED)


def _ok(args):
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "Traceback" not in out.output
    return out.output


def test_show_table(hostile_file, hostile):
    out = _ok(["show", "--catalog", hostile_file])
    assert "\x1b" not in out
    assert "[/bold] [/]" in out  # the title's markup, shown as written
    assert "\\x1b[31mred" in out  # the title's ANSI escape, made visible


def test_show_markdown(hostile_file):
    out = _ok(["show", "--catalog", hostile_file, "--format", "markdown"])
    rendered = render_markdown_worst_case(out)
    assert_inert_html(rendered)
    assert "AL_GEN" in rendered  # the escaped underscore shows as itself


def test_show_csv(hostile_file):
    out = _ok(["show", "--catalog", hostile_file, "--format", "csv"])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][2:] == ["M_a", "M.b", "M-c"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_show_latex(hostile_file):
    out = _ok(["show", "--catalog", hostile_file, "--format", "latex"])
    assert "AL\\_GEN" in out and "T\\_1\\_" in out and "M\\_a" in out
    assert "AL_GEN" not in out


def test_show_json_keeps_the_text_exactly(hostile_file, hostile):
    data = json.loads(_ok(["show", "--catalog", hostile_file, "--format", "json"]))
    assert [t["name"] for t in data["techniques"]] == [t.name for t in hostile.techniques]


def test_analyze_terminal_and_json(hostile_file, hostile):
    out = _ok(["analyze", "--catalog", hostile_file, "--stack", "AL_GEN,x.y-z"])
    assert "\x1b" not in out and "[/bold]" in out  # the version, shown literally
    data = json.loads(_ok(["analyze", "--catalog", hostile_file, "--json"]))
    assert data["catalog"]["version"] == hostile.version


def test_stress_analyze_terminal(hostile_stress):
    from ddrisk.report.stress_terminal import render_analysis

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=400, highlight=False)
    render_analysis(hostile_stress.to_dict(), console=console)
    out = buffer.getvalue()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich's own colours
    assert "\x1b]8;" not in out  # no hyperlink escape: [link=...] stayed text
    assert "\x1b[31mred" not in out and "\\x1b[31mred" in plain  # ANSI shown, not obeyed
    assert "[/bold]" in plain and "<script>" in plain and "[link=https://evil.example]" in plain
    # The family every layer always misses, and the one they always block: bounds, not zeros.
    assert "20/20 (> " in plain and "0/20 (< " in plain


def test_report_html(hostile_report):
    html = hostile_report.html()
    assert_inert_html(html)
    assert "&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html  # shown, never evaluated as a template


def test_report_markdown(hostile_report):
    text = hostile_report.markdown()
    assert_inert_html(render_markdown_worst_case(text))
    # Zero and full counts in the per-family table print as bounds, not as zero-width intervals.
    assert "0.000 [0.000, 0.000]" not in text and "1.000 [1.000, 1.000]" not in text
    # 0 of 20 prints as a one-sided bound (its value depends on the family's clusters).
    assert re.search(r"0/20 \| &lt; 0\.\d+ at 95 %", text), text


def test_report_json_keeps_the_text_exactly(hostile_report, hostile):
    data = json.loads(hostile_report.json())
    assert data["matrix"]["techniques"][0]["name"] == hostile.techniques[0].name
    assert set(HOSTILE_LAYERS) == set(data["stress"]["input"]["layers"])


def test_every_figure_draws(hostile_report):
    svgs = hostile_report.figure_svgs()
    assert len(svgs) == len(hostile_report.figure_blocks())
    for svg in svgs.values():
        assert_inert_html(svg.split("?>", 1)[-1], svg_documents=1)


def test_stress_figures_draw(hostile_stress, tmp_path):
    from ddrisk.report.stress_figures import save_stress_figures

    assert len(save_stress_figures(hostile_stress, tmp_path)) == 3
    families = {r["family"] for r in hostile_stress.to_dict()["stack_by_family"]}
    assert families == set(HOSTILE_FAMILIES)


def test_crosswalk_tsv_has_no_formula_and_no_injected_header(hostile):
    from ddrisk.io.sssom import crosswalk_tsv

    data = hostile.model_dump(mode="json")
    data["version"] = "1\n#license: https://evil.example"
    data["failure_modes"][0]["name"] = PAYLOADS["formula_eq"]
    data["failure_modes"][0]["crosswalks"] = [
        {
            "object_id": "mit-airr:7.1",
            "predicate": "skos:relatedMatch",
            "comment": PAYLOADS["formula_at"],
            "author": PAYLOADS["formula_plus"],
        }
    ]
    text = crosswalk_tsv(type(hostile).model_validate(data))
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert sum(line.startswith("#license:") for line in header) == 1
    rows = list(
        csv.reader(
            io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#"))),
            delimiter="\t",
        )
    )
    assert len(rows) == 2
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert "'=HYPERLINK" in rows[1][rows[0].index("subject_label")]


def test_validate_shows_control_characters(hostile, tmp_path):
    data = hostile.model_dump(mode="json")
    data["version"] = "1\x1b[2J\x1b]8;;https://evil.example\x07"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = _ok(["validate", str(path)])
    assert "\x1b" not in out and "\\x1b[2J" in out


_MARKDOWN_ALPHABET = [*" \t\n-+*_#>1.)=`[]()<>!|~&\\:ajs$x", "javascript:", "<script>"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_MARKDOWN_ALPHABET), max_size=20).map("".join))
def test_markdown_text_never_makes_markup(text):
    """Whatever the text, it renders as one paragraph of text (or one table cell)."""
    assert {tag for tag, _ in elements(render_markdown_worst_case(markdown_text(text)))} <= {
        "p",
        "br",
    }
    table = "| a |\n|---|\n| " + markdown_text(text) + " |"
    assert {tag for tag, _ in elements(render_markdown_worst_case(table))} <= {
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "br",
    }
