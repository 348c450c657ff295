"""Shared lineage becomes shared failure modes, attributed to the item that created them."""

from __future__ import annotations

from ddrisk.audit.compile import compile_stack
from ddrisk.audit.lineage import shared_lineage_modes
from ddrisk.catalog.model import Level
from ddrisk.io.catalog import load_catalog
from ddrisk.io.documents import parse_document
from ddrisk.io.stackfile import read_stack, validate_stack

from .conftest import SMALL_STACK


def _stack(text: str):
    return validate_stack(parse_document(text, label="t.yaml"))


def test_shared_base_model_and_rater_pool_become_modes(small_stack):
    compiled = read_stack(small_stack).compiled
    modes = {m.id: m for m in compiled.shared_modes}
    assert set(modes) == {"LIN-MODEL-base-a", "LIN-RATERS-raters"}
    base = modes["LIN-MODEL-base-a"]
    assert base.layers == ("rlhf", "debate") and base.kind == "base_model"
    assert "tuned-a derives from it" in base.via["rlhf"] and base.via["debate"] == "base model"
    # provider acme reaches the same two layers only through base-a: not a second mode
    assert not any(m.kind == "provider" for m in compiled.shared_modes)
    catalog = compiled.catalog
    assert catalog.rating("rlhf", "LIN-MODEL-base-a").effective_level is Level.PRONE
    assert catalog.rating("review", "LIN-MODEL-base-a").effective_level is Level.NOT_PRONE
    assert catalog.rating("review", "LIN-RATERS-raters").effective_level is Level.PRONE
    assert catalog.rating("debate", "LIN-RATERS-raters").effective_level is Level.NOT_PRONE


def test_no_shared_item_no_mode():
    text = SMALL_STACK.replace("base_model: base-a}", "base_model: other}").replace(
        ", evaluator_pool: raters}}", "}}"
    )
    stack = _stack(text)
    modes = shared_lineage_modes(stack)
    # rlhf (tuned-a <- base-a) and debate (other) share only the provider acme
    assert [(m.kind, m.entity, m.layers) for m in modes] == [
        ("provider", "acme", ("rlhf", "debate"))
    ]


def test_candidates_that_may_share_a_base_model_are_unclear(small_stack):
    compiled = read_stack(small_stack).compiled
    # RLAIF is prone to nothing about base-a in the paper catalog, which has no SHARED-BASE mode
    assert compiled.catalog.rating("RLAIF", "LIN-MODEL-base-a").effective_level is Level.NOT_PRONE
    extended = load_catalog("ddrisk-extended-2026")
    text = SMALL_STACK.replace("dung-mai-2025", "ddrisk-extended-2026").replace(
        "DEC-AL: {level: prone}, EVAL-DIFF: {probability: 0.7}", "DEC-AL: {level: prone}"
    )
    compiled = compile_stack(_stack(text), extended)
    assert "SHARED-BASE" in compiled.replaced_modes
    assert "SHARED-BASE" not in compiled.catalog.failure_mode_ids
    assert compiled.catalog.rating("LLM-JUDGE", "LIN-MODEL-base-a").effective_level is Level.UNCLEAR
    assert compiled.catalog.rating("RATE-LIMIT", "LIN-MODEL-base-a").effective_level is (
        Level.NOT_PRONE
    )
