"""Render an audit: terminal summary (rich), Markdown and self-contained HTML.

Everything shown is read from :class:`ddrisk.audit.AuditResult`; untrusted text (layer
names, rationales, lineage names from the stack file) is escaped here, at the boundary.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import jinja2

from ddrisk.audit.engine import AuditResult
from ddrisk.report.escape import markdown_text, terminal_text


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    return f"{value:.4g}"


def summary_lines(result: AuditResult) -> list[tuple[str, str]]:
    """(heading, plain text) pairs shared by every renderer."""
    d = result.to_dict()
    risk = d["risk"]
    out = []
    st = result.straight_through
    if st:
        text = "; ".join(
            f"{m.mode} ({m.name})" + ("" if m.definite else " [only if '?' counts as prone]")
            for m in st
        )
    else:
        text = "none: every failure mode is blocked by at least one layer"
    out.append(("Straight-through failure modes", text))
    near = "; ".join(f"{m.mode} (only {m.blocked_by[0]} blocks it)" for m in result.near_misses)
    out.append(("Near-misses (all but one layer prone)", near or "none"))
    unc = risk["uncertainty"]
    spread = ""
    if unc is not None and unc.get("uncertain_parameters"):
        summary = unc.get("probability") or {}
        n_uncertain = len(unc["uncertain_parameters"])
        inputs = "uncertain input" if n_uncertain == 1 else "uncertain inputs"
        spread = (
            f"; Monte Carlo ({unc.get('n_draws')} draws over {n_uncertain} {inputs}) 90 % range "
            f"{_num(summary.get('p05'))} to {_num(summary.get('p95'))}"
        )
    else:
        spread = "; no uncertain inputs (give distributions such as beta(2, 18) under risk:)"
    bounds = risk["unclear_bounds"]
    out.append(
        (
            "P(all layers fail)",
            f"{_num(risk['probability'])} ({risk['engine']}, {risk['method']}){spread}; '?' read as "
            f"prone {_num(bounds['unclear_as_prone'])}, as not prone "
            f"{_num(bounds['unclear_as_not_prone'])}; independence would give "
            f"{_num(risk['independence_prediction'])} (penalty x{_num(risk['correlation_penalty'])})",
        )
    )
    out.append(
        (
            "Effective independent layers",
            f"{_num(risk['effective_layers'])} of {risk['n_layers']}",
        )
    )
    for mode in result.compiled.shared_modes:
        out.append(
            (
                f"Shared lineage {mode.id}",
                f"{mode.name}: layers {', '.join(mode.layers)} ("
                + "; ".join(f"{k}: {v}" for k, v in mode.via.items())
                + ")",
            )
        )
    for q in result.questions:
        out.append((q.question, q.verdict))
    add = result.additions
    if add.best:
        text = (
            f"add {' + '.join(add.best)} (cost {_num(add.cost_best)}"
            f"{'' if add.budget is None else f' of budget {_num(add.budget)}'}): P(all fail) "
            f"{_num(add.probability_fixed)} -> {_num(add.probability_best)}; "
            + "; ".join(
                f"{a.technique} closes {', '.join(a.closes) or 'no straight-through mode outright'}"
                for a in add.explained
            )
        )
    else:
        text = "no addition within the budget lowers P(all layers fail)"
    out.append(("Best additions (deployed layers fixed)", text))
    if result.priorities is not None:
        top = result.priorities.rows[:5]
        out.append(
            (
                "Research priorities (importance x impact)",
                ", ".join(f"{r.rank}. {r.mode}" for r in top)
                + "; top by weighting: "
                + ", ".join(f"{k} {v}" for k, v in result.priorities.top_by_scenario.items()),
            )
        )
    if result.priorities is not None:
        moves = []
        chosen = result.priorities.ranks_by_scenario["chosen"]
        for name, ranks in result.priorities.ranks_by_scenario.items():
            if name == "chosen":
                continue
            moved = [(m, chosen[m], r) for m, r in ranks.items() if r != chosen.get(m)]
            if not moved:
                moves.append(f"{name}: no change")
                continue
            moved_mode, before, after = max(moved, key=lambda t: (abs(t[1] - t[2]), t[0]))
            moves.append(
                f"{name}: {len(moved)} modes move (most: {moved_mode} {before} -> {after})"
            )
        out.append(("How the ranking changes with the weights", "; ".join(moves)))
    for m in result.straight_through:
        mapped = [f["object_id"] for f in m.frameworks if f["object_id"] != "sssom:NoTermFound"]
        out.append((f"Frameworks for {m.mode}", ", ".join(mapped) or "not yet mapped"))
    return out


def print_audit(result: AuditResult, console: Any = None) -> None:
    """The terminal summary."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    d = result.to_dict()
    console.rule(terminal_text(f"ddrisk audit · {d['stack']['id']}"))
    console.print(
        terminal_text(
            f"catalog {d['catalog']['base']} · seed {d['seed']} · stack sha256:"
            f"{d['input_sha256'][:12]} · {d['risk']['model']} · parameters sha256:"
            f"{d['risk']['parameters_sha256'][:12]}"
        )
    )
    for heading, text in summary_lines(result):
        console.print(f"[bold]{terminal_text(heading)}[/bold]: {terminal_text(text)}")
    table = Table(title="Audit questions per layer")
    table.add_column("layer")
    for q in result.questions:
        table.add_column(terminal_text(q.key))
    for i, layer in enumerate(result.layers):
        table.add_row(
            terminal_text(layer), *[terminal_text(q.answers[i].answer) for q in result.questions]
        )
    console.print(table)


def markdown_section(result: AuditResult, *, figure_path: str | None = None) -> str:
    d = result.to_dict()
    lines = [
        f"## Audit of {markdown_text(d['stack']['title'], in_table=False)}",
        "",
        f"Catalog {markdown_text(d['catalog']['base'], in_table=False)}; seed {d['seed']}; "
        f"input sha256 `{d['input_sha256']}`; ddrisk {d['ddrisk_version']}.",
        "",
    ]
    for heading, text in summary_lines(result):
        lines.append(
            f"- **{markdown_text(heading, in_table=False)}**: {markdown_text(text, in_table=False)}"
        )
    lines += ["", "### Audit questions per layer", ""]
    lines.append("| question | layer | answer | reason |")
    lines.append("|---|---|---|---|")
    for q in result.questions:
        for a in q.answers:
            lines.append(
                f"| {markdown_text(q.key)} | {markdown_text(a.layer)} | {a.answer} | {markdown_text(a.reason)} |"
            )
    if figure_path:
        lines += ["", f"![Swiss-cheese diagram of the stack]({figure_path})"]
    return "\n".join(lines) + "\n"


_HTML = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>ddrisk audit: {{ title }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{border:1px solid #ccc;padding:.2em .4em}table{border-collapse:collapse}</style>
</head><body><h1>Audit of {{ title }}</h1>
<p>Catalog {{ catalog }}; seed {{ seed }}; input sha256 <code>{{ sha }}</code>; ddrisk {{ version }}.</p>
<dl>{% for h, t in summary %}<dt><b>{{ h }}</b></dt><dd>{{ t }}</dd>{% endfor %}</dl>
{% if svg %}<h2>Swiss-cheese diagram</h2><img alt="Swiss-cheese diagram of the stack" src="data:image/svg+xml;base64,{{ svg }}">{% endif %}
<h2>Audit questions per layer</h2><table><tr><th>question</th><th>layer</th><th>answer</th><th>reason</th></tr>
{% for q in questions %}{% for a in q.answers %}<tr><td>{{ q.question }}</td><td>{{ a.layer }}</td><td>{{ a.answer }}</td><td>{{ a.reason }}</td></tr>{% endfor %}{% endfor %}
</table></body></html>
"""
)


def html_page(result: AuditResult, *, figure: Any = None) -> str:
    d = result.to_dict()
    svg = None
    if figure is not None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        svg = base64.b64encode(buffer.getvalue()).decode()
    return _HTML.render(
        title=d["stack"]["title"],
        catalog=d["catalog"]["base"],
        seed=d["seed"],
        sha=d["input_sha256"],
        version=d["ddrisk_version"],
        summary=summary_lines(result),
        questions=result.questions,
        svg=svg,
    )


def audit_report_sections(result: AuditResult) -> list[Any]:
    """The audit as report blocks, for ``ddrisk report --audit STACK`` (HTML and Markdown)."""
    from ddrisk.report.blocks import FigureBlock, Paragraph, Section, Table, cells
    from ddrisk.report.swiss_cheese import audit_figure

    d = result.to_dict()
    provenance = (
        f"{d['catalog']['derived']} from {d['catalog']['base']}; seed {d['seed']}; "
        f"stack sha256:{d['input_sha256'][:12]}; {d['risk']['model']}"
    )
    summary = Table(
        caption="Audit summary",
        columns=["finding", "result"],
        rows=[cells(h, t) for h, t in summary_lines(result)],
        provenance=provenance,
    )
    questions = Table(
        caption="Audit questions per layer (the reason is the rating behind the answer)",
        columns=["question", "layer", "answer", "reason"],
        rows=[
            cells(q.question, a.layer, a.answer, a.reason)
            for q in result.questions
            for a in q.answers
        ],
        provenance=provenance,
    )
    return [
        Section(
            id="audit",
            title=f"Audit of {d['stack']['title']}",
            intro="Straight-through modes, P(all layers fail), additions with the deployed layers "
            "fixed, audit questions and framework entries for the stack file.",
            blocks=[
                Paragraph(f"Layers: {', '.join(result.layers)}."),
                summary,
                questions,
                FigureBlock(
                    name="audit_swiss_cheese",
                    caption="Swiss-cheese diagram of the audited stack",
                    provenance=provenance,
                    draw=lambda: audit_figure(result),
                ),
            ],
        )
    ]
