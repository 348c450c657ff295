"""Cross-reference rules a JSON Schema cannot express.

Each problem is ``(key_path, message, fix)`` so the loader can turn the key path
into a line number of the user's file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddrisk.catalog.model import Catalog, FailureMode, Technique

Problem = tuple[tuple[Any, ...], str, str]


def _duplicates(kind: str, ids: list[str]) -> list[Problem]:
    counts = Counter(ids)
    problems = []
    for index, identifier in enumerate(ids):
        if counts[identifier] > 1 and ids.index(identifier) != index:
            problems.append(
                (
                    (kind, index, "id"),
                    f"duplicate {kind[:-1].replace('_', ' ')} id '{identifier}'",
                    "give every entry its own id",
                )
            )
    return problems


def _choices(ids: list[str]) -> str:
    shown = ", ".join(ids[:12])
    return shown + (", ..." if len(ids) > 12 else "")


def catalog_problems(catalog: Catalog) -> list[Problem]:
    """Every cross-reference problem in document order (empty when consistent)."""
    problems: list[Problem] = []
    technique_ids = [t.id for t in catalog.techniques]
    mode_ids = [f.id for f in catalog.failure_modes]
    rater_ids = [r.id for r in catalog.raters]
    reference_keys = [r.key for r in catalog.references]
    problems += _duplicates("techniques", technique_ids)
    problems += _duplicates("failure_modes", mode_ids)
    problems += _duplicates("raters", rater_ids)
    problems += [
        (
            ("references", i, "key"),
            f"duplicate reference key '{k}'",
            "give every reference its own key",
        )
        for i, k in enumerate(reference_keys)
        if reference_keys.index(k) != i
    ]

    known_refs = set(reference_keys)
    referring: tuple[tuple[str, Sequence[Technique | FailureMode]], ...] = (
        ("techniques", catalog.techniques),
        ("failure_modes", catalog.failure_modes),
    )
    for kind, entries in referring:
        for i, entry in enumerate(entries):
            for j, key in enumerate(entry.references):
                if key not in known_refs:
                    problems.append(
                        (
                            (kind, i, "references", j),
                            f"unknown reference key '{key}'",
                            f"declare it under 'references' or use one of: {_choices(reference_keys) or '(none declared)'}",
                        )
                    )

    techniques, modes, raters = set(technique_ids), set(mode_ids), set(rater_ids)
    seen: dict[tuple[str, str], int] = {}
    for i, rating in enumerate(catalog.ratings):
        if rating.technique not in techniques:
            problems.append(
                (
                    ("ratings", i, "technique"),
                    f"unknown technique '{rating.technique}'",
                    f"use one of: {_choices(technique_ids)}",
                )
            )
        if rating.failure_mode not in modes:
            problems.append(
                (
                    ("ratings", i, "failure_mode"),
                    f"unknown failure mode '{rating.failure_mode}'",
                    f"use one of: {_choices(mode_ids)}",
                )
            )
        if rating.rater not in raters:
            problems.append(
                (
                    ("ratings", i, "rater"),
                    f"unknown rater '{rating.rater}'",
                    f"declare it under 'raters' or use one of: {_choices(rater_ids)}",
                )
            )
        cell = (rating.technique, rating.failure_mode)
        if cell in seen:
            problems.append(
                (
                    ("ratings", i),
                    f"duplicate rating for cell {cell[0]} x {cell[1]} (first at ratings[{seen[cell]}])",
                    "keep exactly one rating per technique x failure-mode cell",
                )
            )
        else:
            seen[cell] = i

    missing = [
        (t, f) for t in technique_ids for f in mode_ids if t in techniques and (t, f) not in seen
    ]
    if missing:
        shown = ", ".join(f"{t} x {f}" for t, f in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        problems.append(
            (
                ("ratings",),
                f"{len(missing)} missing cell(s): {shown}{more}",
                "add one rating per technique x failure-mode cell (use level: unclear when unknown)",
            )
        )
    return problems
