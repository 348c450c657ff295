"""Adaptive-attack results for people: the terminal summary and the report section.

Both render an :class:`~ddrisk.stress.attack.statistics.AttackAnalysis` (the same
object ``ddrisk stress attack --json`` prints) and compute nothing: rates come
through :func:`ddrisk.report.rates.rate_text` (zero counts as one-sided bounds),
figures from :mod:`ddrisk.report.attack_figures`, and every untrusted string
(layer and operator names, item ids) is escaped for its output format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddrisk.report.blocks import Details, FigureBlock, FindingItem, Paragraph, Section, Table, cells
from ddrisk.report.escape import terminal_text
from ddrisk.report.number_format import fixed, interval_text
from ddrisk.report.rates import observed_text, rate_text

if TYPE_CHECKING:
    from ddrisk.stress.attack.statistics import AttackAnalysis

MAX_KEYS_SHOWN = 15
CURVE_POINTS = (1, 2, 5, 10, 20, 30, 50, 100)

MEANING = (
    "What these numbers mean: a black-box search (verdicts and scores only, no weights or "
    "gradients) with the listed operators and budget found these bypasses; a stronger or "
    "longer search can only find more, so adaptive rates are lower bounds on what an "
    "adaptive attacker achieves. Without a target model they are input-side: a prompt that "
    "passes every input layer has not been shown to make any model answer harmfully. "
    "Operators preserve the request by construction (framing, encoding, splitting, "
    "suffixes), but no model judged whether each rewrite is still understood."
)


def attack_analysis_for(
    attack: str | Path, *, runs_dir: str | Path = "ddrisk-runs", seed: int | None = None
) -> tuple[AttackAnalysis, dict[str, Any]]:
    """Load a stored attack and analyse it (``ddrisk stress attack --show`` defaults)."""
    from ddrisk.stress.attack.api import show_attack

    return show_attack(attack, runs_dir=runs_dir, seed=seed)


def _interval(value: dict[str, Any] | None, digits: int = 3) -> str:
    if not value:
        return "-"
    return interval_text(value.get("estimate"), value.get("lo"), value.get("hi"), digits)


def target_label(name: str) -> str:
    return "whole stack" if name == "__stack__" else name


def provenance(analysis: AttackAnalysis) -> str:
    """Model, settings, seed and input hash behind every number of the attack section."""
    s = analysis.settings
    return (
        f"model: {analysis.to_dict()['model']} · strategy {s.get('strategy')} · budget "
        f"{s.get('budget')} queries per behavior and target · beam {s.get('beam_width')} · depth "
        f"{s.get('max_depth')} · attack seed {s.get('seed')} · bootstrap seed {analysis.seed}, "
        f"{analysis.n_bootstrap} replicates over behavior_id · {analysis.confidence:.0%} intervals · "
        f"attack {analysis.attack_id} · input sha256:{analysis.input_sha256[:12]}"
    )


def penalty_text(stack: dict[str, Any], confidence: float) -> str:
    """The adaptive correlation penalty, or why it cannot be estimated."""
    penalty = stack.get("penalty") or {}
    if not penalty.get("estimable"):
        expected = stack.get("expected_under_independence")
        return f"not estimable (independence expects {fixed(expected, 2)} master keys)"
    if penalty.get("upper_bound") is not None:
        return f"< {penalty['upper_bound']:.2f}x at {confidence * 100:g} % (no master key found)"
    text = fixed(penalty.get("estimate"), 2) + "x"
    if fixed(penalty.get("lo")) != "-" and fixed(penalty.get("hi")) != "-":
        text += f" [{penalty['lo']:.2f}, {penalty['hi']:.2f}]"
    return text


def _rate(row: dict[str, Any], prefix: str, confidence: float) -> str:
    return rate_text(
        row[f"{prefix}_k"],
        row[f"{prefix}_n"],
        estimate=row.get(prefix),
        lo=row.get(f"{prefix}_lo"),
        hi=row.get(f"{prefix}_hi"),
        confidence=confidence,
    )


def _curve_points(analysis: AttackAnalysis) -> list[tuple[int, float]]:
    curve = analysis.curve
    if "stack" not in curve.columns:
        return []
    budget = int(curve["budget"].max())
    points = sorted({b for b in CURVE_POINTS if b <= budget} | {budget})
    values = dict(zip(curve["budget"], curve["stack"], strict=True))
    return [(b, float(values[b])) for b in points]


def headline(analysis: AttackAnalysis) -> str:
    """One paragraph: the stack's adaptive bypass against independence and the static joint miss."""
    data = analysis.to_dict()
    stack = data["stack"]
    confidence = analysis.confidence
    if stack.get("adaptive") is None:
        return "No whole-stack search was run."
    return (
        f"Adaptive bypass of the whole stack: {observed_text(stack['adaptive'], confidence=confidence)} "
        f"of behaviors within {analysis.settings.get('budget')} queries; the product of the per-layer "
        f"adaptive rates predicts {_interval(stack['independence_prediction'])} (adaptive correlation "
        f"penalty {penalty_text(stack, confidence)}); the original prompts passed every layer for "
        f"{observed_text(stack['static_joint'], confidence=confidence)}."
    )


# ---------------------------------------------------------------------------- terminal
def render_attack_terminal(
    analysis: AttackAnalysis, manifest: dict[str, Any], *, run: dict[str, Any] | None = None
) -> None:
    """Print the attack summary with rich tables."""
    import sys

    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
    data = analysis.to_dict()
    confidence = analysis.confidence
    settings = analysis.settings
    head = f"attack {terminal_text(analysis.attack_id)}: {analysis.n_behaviors} behaviors, "
    head += f"{len(data['layers'])} layers, budget {settings.get('budget')} queries per behavior and target"
    if run is not None:
        head += (
            f", {run['wall_s']:.1f} s ({run['verdicts_computed']} verdicts computed, "
            f"{run['verdicts_cached']} from cache, {run['verdicts_replayed_from_store']} from the store)"
        )
    console.print(head)
    console.print(
        f"strategy {settings.get('strategy')} (beam {settings.get('beam_width')}, depth "
        f"{settings.get('max_depth')}), seed {settings.get('seed')}, operators: "
        + terminal_text(", ".join(settings.get("operators", [])))
    )
    for name, reason in ((run or {}).get("unavailable_layers") or {}).items():
        console.print(f"[bold]unavailable[/bold] {terminal_text(name)}: {terminal_text(reason)}")
    table = RichTable(show_edge=False, pad_edge=False, title="per layer, same behaviors")
    for column in ("layer", "static miss (original prompt)", "adaptive bypass", "median queries"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in data["layers"]:
        table.add_row(
            terminal_text(row["layer"]),
            _rate(row, "static", confidence),
            _rate(row, "adaptive", confidence),
            fixed(row["median_queries_to_bypass"], 1),
        )
    console.print(table)
    if data["transfer"]:
        layers = [row["layer"] for row in data["layers"]]
        matrix = RichTable(
            show_edge=False,
            pad_edge=False,
            title="transfer: P(column passes | attack found against row), k/n",
        )
        matrix.add_column("found against")
        for name in layers:
            matrix.add_column(terminal_text(name), justify="right")
        cell = {(r["source"], r["target"]): r for r in data["transfer"]}
        for source in layers:
            values = []
            for target in layers:
                r = cell.get((source, target))
                values.append(
                    "-" if r is None or not r["n"] else f"{fixed(r['rate'], 2)} {r['k']}/{r['n']}"
                )
            matrix.add_row(terminal_text(source), *values)
        rows = {r["layer"]: r for r in data["layers"]}
        matrix.add_row("[dim]own adaptive[/dim]", *[fixed(rows[n]["adaptive"], 2) for n in layers])
        matrix.add_row("[dim]own static[/dim]", *[fixed(rows[n]["static"], 2) for n in layers])
        console.print(matrix)
    console.print(headline(analysis))
    stack = data["stack"]
    if stack.get("adaptive") is not None:
        points = _curve_points(analysis)
        console.print(
            "queries to the first master key: median "
            f"{fixed(stack.get('median_queries_to_master_key'), 1)}; share found within b queries: "
            + ", ".join(f"{b}: {v:.2f}" for b, v in points)
        )
        keys = data["master_keys"]
        rewritten = [k for k in keys if k["chain"]]
        ops = [r for r in data["operators"] if r["in_master_keys"]]
        console.print(
            f"master keys found: {len(keys)} ({len(keys) - len(rewritten)} original prompts, "
            f"{len(rewritten)} rewritten); operators in them: "
            + (
                ", ".join(f"{terminal_text(r['operator'])} {r['in_master_keys']}" for r in ops)
                or "none"
            )
            + "; behaviors where an attack found against one layer passed every other: "
            f"{stack['behaviors_with_transferred_master_key']}"
        )
        for key in rewritten[:5]:
            chain = " > ".join(key["chain"])
            console.print(
                f"  {terminal_text(key['item_id'])}: {terminal_text(chain)} (query {key['queries']})"
            )
    for warning in data["warnings"]:
        console.print(f"warning: {terminal_text(warning)}")
    console.print(f"[dim]{MEANING}[/dim]")


# ---------------------------------------------------------------------------- report
def render_operators(rows: list[dict[str, Any]], *, console: Any) -> None:
    """Print the attack operators (``ddrisk stress attack --list-operators``) as one table."""
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, title="attack operators")
    for column in ("name", "category", "reversible", "source", "what it does"):
        table.add_column(column)
    for row in rows:
        reversible = "yes" if row["reversible"] else "no"
        if row.get("unavailable"):
            reversible = "unavailable"
        table.add_row(
            terminal_text(row["name"]),
            terminal_text(row["category"]),
            reversible,
            terminal_text(row["source"]),
            terminal_text(row.get("unavailable") or row["description"]),
        )
    console.print(table)


def attack_headline(analysis: AttackAnalysis) -> FindingItem:
    """The attack's stack result as one line of the summary of findings."""
    return FindingItem(
        "Adaptive attack: is a master key easier to find than independence promises?",
        "info",
        "measured",
        headline(analysis),
        provenance=provenance(analysis),
    )


def attack_provenance(analysis: AttackAnalysis) -> dict[str, Any]:
    return {
        "model": analysis.to_dict()["model"],
        "attack_id": analysis.attack_id,
        "input_sha256": analysis.input_sha256,
        "seed": analysis.seed,
        "settings": analysis.settings,
        "n_bootstrap": analysis.n_bootstrap,
        "confidence": analysis.confidence,
    }


def attack_sections(analysis: AttackAnalysis) -> list[Section]:
    """The adaptive-attack section: rates, transfer, stack penalty, curve, master keys."""
    from ddrisk.report import attack_figures

    data = analysis.to_dict()
    prov = provenance(analysis)
    confidence = analysis.confidence
    level = f"{confidence:.0%}"
    layer_rows = [
        cells(
            row["layer"],
            _rate(row, "static", confidence),
            _rate(row, "adaptive", confidence),
            fixed(row["median_queries_to_bypass"], 1),
        )
        for row in data["layers"]
    ]
    transfer_rows = [
        cells(
            r["source"],
            r["target"],
            rate_text(
                r["k"], r["n"], estimate=r["rate"], lo=r["lo"], hi=r["hi"], confidence=confidence
            ),
            rate_text(
                r["rewritten_k"],
                r["rewritten_n"],
                estimate=r["rewritten_rate"],
                lo=r["rewritten_lo"],
                hi=r["rewritten_hi"],
                confidence=confidence,
            ),
            fixed(r["target_adaptive"]),
            fixed(r["target_static"]),
        )
        for r in data["transfer"]
    ]
    stack = data["stack"]
    stack_rows = []
    if stack.get("adaptive") is not None:
        stack_rows = [
            cells(
                "adaptive bypass of the whole stack",
                observed_text(stack["adaptive"], confidence=confidence),
            ),
            cells(
                "independence prediction (product of per-layer adaptive rates)",
                _interval(stack["independence_prediction"]),
            ),
            cells(
                "adaptive correlation penalty (observed / prediction)",
                penalty_text(stack, confidence),
            ),
            cells(
                "static joint miss (original prompt passes every layer)",
                observed_text(stack["static_joint"], confidence=confidence),
            ),
            cells(
                "median queries to the first master key",
                fixed(stack.get("median_queries_to_master_key"), 1),
            ),
            cells(
                "behaviors whose single-layer attack passed every other layer",
                str(stack["behaviors_with_transferred_master_key"]),
            ),
        ]
    keys = data["master_keys"]
    key_rows = [
        cells(
            k["item_id"],
            k["behavior_id"],
            " > ".join(k["chain"]) or "(original prompt)",
            k["queries"],
        )
        for k in keys[:MAX_KEYS_SHOWN]
    ]
    operator_rows = [
        cells(r["operator"], r["category"], r["in_master_keys"], r["in_single_layer_bypasses"])
        for r in data["operators"]
    ]
    blocks: list[Any] = [
        Paragraph(headline(analysis)),
        Table(
            f"Per layer on {analysis.n_behaviors} behaviors: static miss of the original prompt next to "
            f"adaptive bypass within the budget (k/n = rate [{level} cluster bootstrap])",
            ["layer", "static miss", "adaptive bypass", "median queries to bypass"],
            layer_rows,
            prov,
        ),
        FigureBlock(
            "attack_rates",
            "Static miss vs adaptive bypass per layer.",
            prov,
            lambda: attack_figures.rates_figure(analysis),
        ),
        Table(
            "Transfer: P(B passes | attack found against A), over all found attacks and over "
            "rewritten ones only, against B's own adaptive and static rates",
            [
                "found against A",
                "replayed on B",
                "transfer",
                "transfer (rewritten only)",
                "B adaptive",
                "B static",
            ],
            transfer_rows,
            prov,
        ),
        FigureBlock(
            "attack_transfer",
            "Transfer matrix (diagonal: each layer's adaptive rate).",
            prov,
            lambda: attack_figures.transfer_figure(analysis),
        ),
        Table(
            "The whole stack under adaptive attack",
            ["quantity", f"estimate [{level} interval]"],
            stack_rows,
            prov,
        ),
        FigureBlock(
            "attack_curve",
            "Share of behaviors bypassed within b queries.",
            prov,
            lambda: attack_figures.curve_figure(analysis),
        ),
        Table(
            "Operators in master keys and in single-layer bypasses",
            ["operator", "category", "master keys", "single-layer bypasses"],
            operator_rows,
            prov,
        ),
        Details(
            f"Master keys: {len(keys)} behavior(s) with a prompt every layer passed",
            [
                Table(
                    f"Master keys (first {min(len(keys), MAX_KEYS_SHOWN)} of {len(keys)})",
                    ["item", "behavior", "operators", "queries"],
                    key_rows,
                    prov,
                )
            ]
            if keys
            else [Paragraph("No master key was found within the budget.")],
        ),
        Paragraph(MEANING),
    ]
    for warning in data["warnings"]:
        blocks.append(Paragraph(f"Warning: {warning}"))
    return [
        Section(
            "attack",
            "Adaptive attacks on the stack",
            "A black-box search per harmful behavior for a prompt that gets past each layer, "
            "then every layer at once; attacks found against one layer are replayed on the others.",
            blocks,
        )
    ]
