"""Report sections for the structural analysis, built from an :class:`AnalysisResult`.

Every number comes from the result object (or the catalog for the matrix
itself); this module only chooses what to show and formats it.
"""

from __future__ import annotations

from ddrisk.__version__ import __version__
from ddrisk.analysis.analyze import AnalysisResult
from ddrisk.analysis.robustness import CONCLUSIONS
from ddrisk.catalog.model import Catalog
from ddrisk.report import figures
from ddrisk.report.blocks import (
    Cell,
    Details,
    FigureBlock,
    FindingItem,
    Findings,
    Section,
    Table,
    cells,
)

_POLICY_WORDS = {
    "pessimistic": "pessimistic: '?' counts as prone",
    "optimistic": "optimistic: only definite ✗ cells count",
}
_CONCLUSION_LABELS = {
    "groups": "technique groups",
    "best_pair": "best pair of layers",
    "best_affordable_pair": "best pair without high-tax layers",
    "top_priority": "top research priority",
}
_LEVEL_CSS = {"prone": "prone", "not_prone": "not-prone", "unclear": "unclear"}


def analysis_provenance(analysis: AnalysisResult, *, method: str | None = None) -> str:
    """The caption line naming the model, its settings, the seed and the input hash."""
    s = analysis.settings
    catalog = analysis.catalog
    parts = [
        "model: structural analysis of prone sets (no probabilities)",
        f"policy {s['policy']}",
        f"group threshold {s['group_threshold']:g}",
        f"k_max {s['k_max']}",
        f"top {s['top']}",
        f"seed {s['seed']}",
    ]
    if s.get("stack"):
        parts.append(f"stack {'+'.join(s['stack'])}")
    if method:
        parts.append(method)
    parts.append(f"catalog {catalog['id']}@{catalog['version']} sha256:{catalog['sha256']}")
    parts.append(f"ddrisk {__version__}")
    return " · ".join(parts)


def _policies(analysis: AnalysisResult) -> list[str]:
    return list(analysis.groups.groups)


def _by_policy(values: dict[str, str], policies: list[str]) -> str:
    """One value when the policies agree, else ``pessimistic / optimistic``."""
    shown = [values[p] for p in policies]
    return shown[0] if len(set(shown)) == 1 else " / ".join(shown)


def _policy_note(policies: list[str]) -> str:
    if len(policies) == 1:
        return f"Unclear cells are read {_POLICY_WORDS[policies[0]]}."
    return (
        "Where the two readings of '?' differ, values are shown as pessimistic / optimistic "
        f"({_POLICY_WORDS['pessimistic']}; {_POLICY_WORDS['optimistic']})."
    )


# --------------------------------------------------------------------------- summary
def summary_section(analysis: AnalysisResult, extra: list[FindingItem] | None = None) -> Section:
    """The findings first; ``extra`` adds headline results of the risk and stress sections."""
    items = []
    for finding in analysis.findings:
        kept = [p for p, ok in finding.holds_by_policy.items() if ok]
        if finding.holds:
            status, text = "holds", "holds"
        elif kept:
            status, text = "partial", f"holds only {', '.join(kept)}"
        else:
            status, text = "fails", "does not hold"
        items.append(FindingItem(finding.title, status, text, finding.statement))
    items += extra or []
    return Section(
        "summary",
        "Summary of findings",
        "Each finding of Dung & Mai (2025) restated with the numbers computed from this catalog; "
        "a finding that does not hold here is reported as such.",
        [Findings(items, analysis_provenance(analysis))],
    )


# --------------------------------------------------------------------------- matrix
def matrix_section(catalog: Catalog, analysis: AnalysisResult) -> Section:
    modes = catalog.failure_mode_ids
    rows = []
    for technique in catalog.techniques:
        row = [Cell(technique.id, note=technique.name), Cell(technique.safety_tax.value)]
        for mode in modes:
            rating = catalog.rating(technique.id, mode)
            level = rating.effective_level
            text = level.symbol
            if rating.probability is not None:
                text += f" {rating.probability:.2g}"
            single = rating.provenance.corroboration == "single-source"
            if single:
                text += "*"
            note = (
                f"{technique.id} × {mode}: {level.value}, confidence {rating.confidence.value}, "
                f"{rating.provenance.corroboration}. {rating.rationale}"
            )
            css = _LEVEL_CSS[level.value] + (" single" if single else "")
            row.append(Cell(text, css=css, note=note.strip()))
        rows.append(row)
    provenance = f"catalog {catalog.id}@{catalog.version} sha256:{catalog.content_hash} · ddrisk {__version__}"
    matrix = Table(
        "Technique × failure-mode matrix: ✓ not prone · ✗ prone · ? unclear · * single-source cell "
        "(rests on one secondary source)",
        ["technique", "safety tax", *modes],
        rows,
        provenance,
    )
    technique_rows = [
        cells(t.id, t.name, t.category, f"{t.safety_tax.value} ({t.safety_tax_basis})")
        for t in catalog.techniques
    ]
    mode_rows = [cells(f.id, f.name, f.definition or None) for f in catalog.failure_modes]
    return Section(
        "matrix",
        "The matrix",
        catalog.description,
        [
            matrix,
            Details(
                "Techniques, failure modes, and the matrix as a figure",
                [
                    FigureBlock(
                        "matrix",
                        "The matrix as a figure (for slides and papers).",
                        provenance,
                        lambda: figures.matrix_figure(catalog),
                    ),
                    Table(
                        "Techniques",
                        ["id", "name", "category", "safety tax (basis)"],
                        technique_rows,
                        provenance,
                    ),
                    Table("Failure modes", ["id", "name", "definition"], mode_rows, provenance),
                ],
            ),
        ],
    )


# --------------------------------------------------------------------------- overlap
def overlap_section(analysis: AnalysisResult) -> Section:
    policies = _policies(analysis)
    overlap = analysis.overlap
    rows = []
    first = [p for p in overlap.pairs if p.policy == policies[0]]
    for pair in sorted(first, key=lambda p: (-p.jaccard, -p.shared_count)):
        per = {p: overlap.pair(pair.technique_a, pair.technique_b, p) for p in policies}
        rows.append(
            cells(
                f"{pair.technique_a} + {pair.technique_b}",
                _by_policy({p: str(v.shared_count) for p, v in per.items()}, policies),
                _by_policy({p: f"{v.jaccard:.2f}" for p, v in per.items()}, policies),
                _by_policy(
                    {p: "n/a" if v.phi is None else f"{v.phi:.2f}" for p, v in per.items()},
                    policies,
                ),
                _by_policy(
                    {p: ", ".join(v.shared_modes) or "none" for p, v in per.items()}, policies
                ),
            )
        )
    provenance = analysis_provenance(analysis)
    return Section(
        "overlap",
        "Overlap between techniques",
        "How many failure modes each pair of techniques is prone to together. A high overlap "
        "means stacking the pair adds little depth. " + _policy_note(policies),
        [
            FigureBlock(
                "overlap_shared",
                "Shared failure modes for each pair of techniques, one panel per reading of '?'.",
                provenance,
                lambda: figures.overlap_figure(analysis, metric="shared_count"),
            ),
            FigureBlock(
                "overlap_jaccard",
                "Jaccard similarity of the techniques' prone sets (shared / either).",
                provenance,
                lambda: figures.overlap_figure(analysis, metric="jaccard"),
            ),
            Details(
                "All pairs (sorted by Jaccard)",
                [
                    Table(
                        "Pairwise overlap; phi is n/a when a profile is constant",
                        ["pair", "shared", "Jaccard", "phi", "shared failure modes"],
                        rows,
                        provenance,
                    )
                ],
            ),
        ],
    )


# --------------------------------------------------------------------------- groups
def groups_section(analysis: AnalysisResult) -> Section:
    groups = analysis.groups
    rows = []
    for policy, found in groups.groups.items():
        for group in found:
            rows.append(
                cells(
                    policy,
                    Cell(group.kind.replace("_", "-"), css=f"kind-{group.kind}"),
                    " + ".join(group.members),
                    " / ".join(group.safety_tax[m] for m in group.members),
                    " / ".join(str(group.failure_counts[m]) for m in group.members),
                    ", ".join(group.shared_modes) or "none",
                    None if group.mean_jaccard is None else f"{group.mean_jaccard:.2f}",
                )
            )
    provenance = analysis_provenance(analysis, method=f"method: {groups.method}")
    return Section(
        "groups",
        "Groups of techniques",
        f"Method: {groups.method}.",
        [
            FigureBlock(
                "dendrogram",
                "Clustering of failure profiles; leaves coloured by the group the analysis assigns.",
                provenance,
                lambda: figures.dendrogram_figure(analysis),
            ),
            Table(
                "Groups read together with safety tax",
                [
                    "policy",
                    "kind",
                    "members",
                    "safety tax",
                    "failure modes each",
                    "shared modes",
                    "mean Jaccard",
                ],
                rows,
                provenance,
            ),
        ],
    )


# --------------------------------------------------------------------------- coverage
def coverage_section(analysis: AnalysisResult) -> Section:
    coverage = analysis.coverage
    if coverage is None:
        return Section(
            "coverage",
            "Stack coverage",
            "No stack was given. Name one (for example `ddrisk report --stack DEBATE,RE`) to see "
            "which failure modes pass straight through every layer.",
        )
    policies = list(coverage.straight_through)
    rows = []
    for mode in coverage.blocked_by[policies[0]]:
        through = {p: "yes" if mode in coverage.straight_through[p] else "no" for p in policies}
        blocked = {p: ", ".join(coverage.blocked_by[p][mode]) or "—" for p in policies}
        css = "through" if all(v == "yes" for v in through.values()) else None
        if css is None and any(v == "yes" for v in through.values()):
            css = "maybe-through"
        rows.append(
            cells(
                mode,
                Cell(_by_policy(through, policies), css=css),
                _by_policy(blocked, policies),
            )
        )
    summary = "; ".join(
        f"{p}: {', '.join(coverage.straight_through[p]) or 'none'} "
        f"({len(coverage.straight_through[p])})"
        for p in policies
    )
    return Section(
        "coverage",
        f"Stack coverage: {' + '.join(coverage.stack)}",
        f"A failure mode is straight-through when every layer is prone to it: one event of that "
        f"kind defeats the whole stack. Straight-through modes — {summary}. "
        + _policy_note(policies),
        [
            Table(
                f"Failure modes against the stack {' + '.join(coverage.stack)}",
                ["failure mode", "straight-through", "blocked by"],
                rows,
                analysis_provenance(analysis),
            )
        ],
    )


# --------------------------------------------------------------------------- best stacks
def best_stacks_section(analysis: AnalysisResult) -> Section:
    best = analysis.best_stacks
    policies = _policies(analysis)
    rows = []
    for k in range(1, best.k_max + 1):
        for policy in policies:
            ties = best.tied_best[policy][k]
            if not ties:
                continue
            top = ties[0]
            rows.append(
                cells(
                    str(k),
                    policy,
                    " + ".join(top.stack),
                    str(len(top.straight_through)),
                    ", ".join(top.straight_through) or "none",
                    f"{top.tax_cost:g}",
                    "; ".join("+".join(s.stack) for s in ties[1:]) or "—",
                )
            )
    ranked_rows = [
        cells(
            str(row.k),
            row.policy,
            str(row.rank),
            row.stack.replace("+", " + "),
            str(row.straight_through_count),
            row.straight_through or "none",
            f"{row.tax_cost:g}",
        )
        for row in best.to_frame().itertuples()
    ]
    ranking = best.to_dict()["ranking"]
    provenance = analysis_provenance(analysis, method=f"method: {best.method}")
    return Section(
        "best-stacks",
        "Best stacks",
        f"For each stack size k, the stack with the fewest straight-through failure modes ({ranking}). "
        + _policy_note(policies),
        [
            FigureBlock(
                "best_stacks",
                "Straight-through failure modes of the best k-stack; the band is what the '?' "
                "cells leave open.",
                provenance,
                lambda: figures.straight_through_figure(analysis),
            ),
            Table(
                "Best stack of each size, with every stack tied with it",
                [
                    "k",
                    "policy",
                    "best stack",
                    "straight-through",
                    "modes",
                    "tax cost",
                    "tied with",
                ],
                rows,
                provenance,
            ),
            Details(
                f"Top {best.top} stacks of each size",
                [
                    Table(
                        "Ranked stacks",
                        ["k", "policy", "rank", "stack", "straight-through", "modes", "tax cost"],
                        ranked_rows,
                        provenance,
                    )
                ],
            ),
        ],
    )


# --------------------------------------------------------------------------- priorities
def priorities_section(analysis: AnalysisResult) -> Section:
    priorities = analysis.priorities
    policies = _policies(analysis)
    by_mode = {p: {m.mode: m.to_dict() for m in priorities.priorities[p]} for p in policies}
    rows = []
    for entry in priorities.priorities[policies[0]]:
        per = {p: by_mode[p][entry.mode] for p in policies}
        rows.append(
            cells(
                _by_policy({p: str(v["rank"]) for p, v in per.items()}, policies),
                entry.mode,
                _by_policy(
                    {p: f"{v['defeats_count']}/{priorities.n_techniques}" for p, v in per.items()},
                    policies,
                ),
                _by_policy({p: ", ".join(v["spared"]) or "none" for p, v in per.items()}, policies),
                _by_policy(
                    {p: f"{v['straight_through_share']:.2f}" for p, v in per.items()}, policies
                ),
            )
        )
    top = _by_policy({p: ", ".join(priorities.top(p)) for p in policies}, policies)
    provenance = analysis_provenance(analysis, method=f"ranking: {priorities.ranking}")
    return Section(
        "priorities",
        "Research priorities",
        f"Failure modes ranked by {priorities.ranking}. Top priority: {top}. "
        + _policy_note(policies),
        [
            FigureBlock(
                "priorities",
                "Techniques defeated by each failure mode (rank on the right).",
                provenance,
                lambda: figures.priorities_figure(analysis),
            ),
            Table(
                "Failure-mode priorities",
                ["rank", "failure mode", "defeats", "spared by", "straight-through share"],
                rows,
                provenance,
            ),
        ],
    )


# --------------------------------------------------------------------------- robustness
def robustness_section(analysis: AnalysisResult) -> Section:
    robust = analysis.robustness
    policies = list(robust.baseline)
    rows = []
    for conclusion in CONCLUSIONS:
        row = [
            Cell(_CONCLUSION_LABELS[conclusion]),
            Cell(
                _by_policy(
                    {p: "; ".join(robust.baseline[p][conclusion]) or "none" for p in policies},
                    policies,
                )
            ),
        ]
        for policy in policies:
            changes = robust.changes(conclusion, policy)
            changed_cells = sorted({f"{c.technique}×{c.mode}" for c in changes})
            if changes:
                shown = ", ".join(changed_cells[:6])
                if len(changed_cells) > 6:
                    shown += f", … (+{len(changed_cells) - 6} cells)"
                row.append(Cell(f"{len(changes)}: {shown}", css="fragile"))
            else:
                row.append(Cell("0 (robust)", css="robust"))
        row.append(Cell(f"{robust.holds_share(conclusion, policies[0]):.0%}"))
        rows.append(row)
    change_rows = [
        cells(
            c.technique,
            c.mode,
            c.from_level,
            c.to_level,
            c.policy,
            _CONCLUSION_LABELS[c.conclusion],
            "; ".join(c.becomes) or "none",
        )
        for c in robust.single_cell_changes
    ]
    unclear = ", ".join(f"{t}×{m}" for t, m in robust.unclear_cells) or "none"
    how = "all" if robust.resolutions_enumerated else f"a sample (seed {robust.seed}) of"
    provenance = analysis_provenance(analysis)
    return Section(
        "robustness",
        "Robustness of each conclusion",
        f"Each of the {robust.cells_checked} single-cell changes (every cell set to each other "
        f"level) was tried, and {how} {robust.resolutions_checked} resolutions of the "
        f"{len(robust.unclear_cells)} unclear cell(s) ({unclear}). A conclusion that many single "
        "changes overturn rests on individual judgments.",
        [
            Table(
                "Single-cell changes that alter each conclusion, and the share of '?' resolutions "
                "under which it holds",
                [
                    "conclusion",
                    "baseline",
                    *(f"changes ({p})" for p in policies),
                    f"holds across resolutions ({policies[0]})",
                ],
                rows,
                provenance,
            ),
            Details(
                f"All {len(change_rows)} conclusion-changing single-cell edits",
                [
                    Table(
                        "Single-cell changes",
                        [
                            "technique",
                            "failure mode",
                            "from",
                            "to",
                            "policy",
                            "conclusion",
                            "becomes",
                        ],
                        change_rows,
                        provenance,
                    )
                ],
            ),
        ],
    )


def analysis_sections(
    catalog: Catalog, analysis: AnalysisResult, *, extra_findings: list[FindingItem] | None = None
) -> list[Section]:
    """The structural sections in reading order (summary first)."""
    return [
        summary_section(analysis, extra_findings),
        matrix_section(catalog, analysis),
        overlap_section(analysis),
        groups_section(analysis),
        coverage_section(analysis),
        best_stacks_section(analysis),
        priorities_section(analysis),
        robustness_section(analysis),
    ]
