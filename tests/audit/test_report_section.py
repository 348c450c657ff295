"""The audit section and the Swiss-cheese panels in the catalog report."""

from __future__ import annotations

from ddrisk.analysis import analyze
from ddrisk.audit import run_audit
from ddrisk.io.catalog import load_catalog
from ddrisk.io.stackfile import read_stack
from ddrisk.io.taxonomies import load_all_mappings
from ddrisk.report.build import build_report
from ddrisk.report.swiss_cheese import paper_panel_stacks


def test_paper_panels_come_from_real_stacks():
    catalog = load_catalog()
    panels = {panel: (stack, through) for panel, stack, through in paper_panel_stacks(catalog)}
    assert set(panels) == {"A", "B", "C"}
    assert len(panels["A"][1]) >= 2 and len(panels["B"][1]) == 1 and panels["C"][1] == []
    for stack, through in panels.values():
        for mode in through:
            assert all(catalog.rating(t, mode).effective_level.value != "not_prone" for t in stack)


def test_catalog_report_carries_audit_section_and_panels(small_stack):
    catalog = load_catalog()
    loaded = read_stack(small_stack)
    audit = run_audit(
        loaded.compiled,
        input_sha256=loaded.input_sha256,
        mappings=load_all_mappings(),
        impacts=loaded.impacts,
        n_draws=20,
    )
    report = build_report(
        catalog=catalog, analysis=analyze(catalog), audit=audit, created="2026-01-01T00:00:00Z"
    )
    ids = [s.id for s in report.sections]
    assert "swiss-cheese" in ids and "audit" in ids
    names = {b.name for b in report.figure_blocks()}
    assert {"swiss_cheese_panels", "audit_swiss_cheese"} <= names
    markdown = report.markdown()
    assert "Audit of Small &lt;b&gt;test&lt;/b&gt; stack" in markdown or "Small" in markdown
    assert "<b>test</b>" not in report.html()
