"""Small stack files on the built-in paper catalog: fast enough for the exact engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SMALL_STACK = textwrap.dedent(
    """\
    format: ddrisk.stack/1
    id: small
    title: Small <b>test</b> stack
    catalog: dung-mai-2025
    lineage:
      models:
        base-a: {provider: acme}
        tuned-a: {derived_from: base-a}
        other: {provider: acme}
      providers: {acme: x}
      evaluator_pools: {raters: y}
    layers:
      - {id: rlhf, technique: RLHF, lineage: {base_model: tuned-a, evaluator_pool: raters}}
      - {id: debate, technique: DEBATE, lineage: {base_model: base-a}}
      - id: review
        custom:
          name: Human review
          safety_tax: high
          ratings: {DEC-AL: {level: prone}, EVAL-DIFF: {probability: 0.7}}
          unrated: not_prone
        lineage: {evaluator_pool: raters}
    budget: 3
    risk:
      q: {default: "beta(2, 18)"}
    """
)


@pytest.fixture
def small_stack(tmp_path: Path) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(SMALL_STACK, encoding="utf-8")
    return path
