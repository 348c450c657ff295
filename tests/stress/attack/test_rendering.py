"""Hostile layer names, item ids and operator chains are only ever text in every attack output."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from ddrisk.report.attack_figures import FIGURES
from ddrisk.report.attack_sections import render_attack_terminal
from ddrisk.stress.attack.results import attack_data
from ddrisk.stress.attack.statistics import analyze_attack
from ddrisk.stress.attack.store import AttackRecord
from ddrisk.stress.layer import Item

from .fakes import OuterBase64Weak, RotAnywhere, run_attack

HOSTILE = {
    "html": '<img src=x onerror="window.__pwned=1">',
    "rich": "[bold red]loud[/bold red]",
    "ansi": "\x1b[31mred\x1b[0m",
    "math": "$x_1$ cost",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    layers = [
        OuterBase64Weak(HOSTILE["html"]),
        OuterBase64Weak(HOSTILE["rich"]),
        RotAnywhere(HOSTILE["ansi"] + HOSTILE["math"]),
    ]
    items = [
        Item(f"{HOSTILE['rich']}-{i}", f"do forbidden thing {i} weak", "demo", f"b{i}")
        for i in range(4)
    ]
    attack_dir, _, _ = run_attack(tmp_path_factory.mktemp("hostile"), layers, items)
    record = AttackRecord(attack_dir)
    try:
        return analyze_attack(attack_data(record), n_bootstrap=50)
    finally:
        record.close()


def test_terminal_shows_hostile_names_literally(
    hostile, capsys: pytest.CaptureFixture[str]
) -> None:
    render_attack_terminal(hostile, {})
    out = capsys.readouterr().out
    assert "\x1b[31m" not in out and "\\x1b" in out  # control characters made visible
    assert "[bold red]loud[/bold red]" in out  # markup printed, not applied
    assert hostile.stack["adaptive"]["k"] == 4


def test_report_escapes_hostile_text_in_html_and_markdown(hostile) -> None:
    import ddrisk
    from ddrisk.report.build import build_report

    catalog = ddrisk.load_catalog()
    report = build_report(
        catalog=catalog,
        analysis=ddrisk.analyze(catalog, k_max=2),
        attack=hostile,
        created="2026-01-01T00:00:00Z",
    )
    assert "attack" in [section.id for section in report.sections]
    markdown = report.markdown()
    html = report.html()
    for text in (markdown, html):
        assert HOSTILE["html"] not in text
    assert "&lt;img src=x" in html and "Adaptive attacks on the stack" in html
    assert report.to_dict()["attack"]["attack_id"] == hostile.attack_id


@pytest.mark.parametrize(("name", "build"), FIGURES)
def test_figures_draw_with_hostile_labels(hostile, name: str, build, tmp_path: Path) -> None:
    figure = build(hostile)
    assert isinstance(figure, Figure)
    figure.savefig(tmp_path / f"{name}.svg")  # mathtext in a label would raise here
