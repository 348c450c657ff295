"""Tables, figures and HTML/Markdown/JSON reports: every rendering of ddrisk results.

Public face (names load their module on first use, so importing :mod:`ddrisk.report` does
not pull in jinja2, matplotlib or rich):

* :func:`build_report` assembles a :class:`Report` (HTML, Markdown and JSON forms) from
  results the analysis, risk and stress APIs return; it computes no statistic itself.
* Escaping at the rendering boundary, one function per output format: :func:`html_text`,
  :func:`markdown_text`, :func:`terminal_text`, :func:`plain_terminal_text`,
  :func:`mpl_text`, :func:`latex_text`, :func:`csv_cell`.
* Number display shared by every renderer: :func:`rate_text` (observed rates, with one-sided
  bounds at zero counts), :func:`fixed` and :func:`significant`.
* Terminal renderers: :func:`print_analysis` (structure), :func:`render_analysis`,
  :func:`render_run` and :func:`render_run_summary` (stress), :func:`render_attack_terminal`
  (adaptive attacks), :func:`render_stack_risk`, :func:`render_paper_example`,
  :func:`render_optimization` and :func:`render_fault_tree` (risk); the raters' printers
  live in :mod:`ddrisk.report.raters_terminal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddrisk._lazy import lazy_exports

_EXPORTS = {
    "Report": "ddrisk.report.build",
    "build_report": "ddrisk.report.build",
    "csv_cell": "ddrisk.report.escape",
    "html_text": "ddrisk.report.escape",
    "latex_text": "ddrisk.report.escape",
    "markdown_text": "ddrisk.report.escape",
    "mpl_text": "ddrisk.report.escape",
    "plain_terminal_text": "ddrisk.report.escape",
    "terminal_text": "ddrisk.report.escape",
    "fixed": "ddrisk.report.number_format",
    "rate_text": "ddrisk.report.number_format",
    "significant": "ddrisk.report.number_format",
    "print_analysis": "ddrisk.report.analysis_terminal",
    "render_analysis": "ddrisk.report.stress_terminal",
    "render_run": "ddrisk.report.stress_terminal",
    "render_run_summary": "ddrisk.report.stress_terminal",
    "render_attack_terminal": "ddrisk.report.attack_sections",
    "render_fault_tree": "ddrisk.report.risk_terminal",
    "render_optimization": "ddrisk.report.risk_terminal",
    "render_paper_example": "ddrisk.report.risk_terminal",
    "render_stack_risk": "ddrisk.report.risk_terminal",
}

__all__ = [
    "Report",
    "build_report",
    "csv_cell",
    "fixed",
    "html_text",
    "latex_text",
    "markdown_text",
    "mpl_text",
    "plain_terminal_text",
    "print_analysis",
    "rate_text",
    "render_analysis",
    "render_attack_terminal",
    "render_fault_tree",
    "render_optimization",
    "render_paper_example",
    "render_run",
    "render_run_summary",
    "render_stack_risk",
    "significant",
    "terminal_text",
]

if TYPE_CHECKING:
    from ddrisk.report.analysis_terminal import print_analysis
    from ddrisk.report.attack_sections import render_attack_terminal
    from ddrisk.report.build import Report, build_report
    from ddrisk.report.escape import (
        csv_cell,
        html_text,
        latex_text,
        markdown_text,
        mpl_text,
        plain_terminal_text,
        terminal_text,
    )
    from ddrisk.report.number_format import fixed, rate_text, significant
    from ddrisk.report.risk_terminal import (
        render_fault_tree,
        render_optimization,
        render_paper_example,
        render_stack_risk,
    )
    from ddrisk.report.stress_terminal import render_analysis, render_run, render_run_summary


__getattr__, __dir__ = lazy_exports("ddrisk.report", _EXPORTS, globals())
