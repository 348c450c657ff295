"""The source documents' audit questions, answered per layer from the derived catalog.

"Do all their alignment approaches depend on human evaluator competence? Do they all assume
models behave consistently in training and deployment? Do they all rely on the stability of
internal representations? [...] If the answer to any of these questions is yes for all safety
layers, the organization's actual safety margin is much thinner than it appears." Each
question is tied to the failure modes that encode the assumption; a layer's answer is its
rating on those modes, and the reason is that rating's rationale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddrisk.catalog.model import Catalog, Level

QUESTIONS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    (
        "human-evaluators",
        "Does the layer rest on human evaluator competence?",
        ("HUM-EVAL",),
        "evaluator_pool",
    ),
    (
        "train-deploy",
        "Does it assume behaviour stays the same from training to deployment?",
        ("TRAIN-DEPLOY", "DIST-SHIFT"),
        None,
    ),
    ("representations", "Does it rely on stable internal representations?", ("REP-INSTAB",), None),
    (
        "base-model",
        "Does it rest on a base model or provider that other layers share?",
        ("SHARED-BASE",),
        "base_model",
    ),
    (
        "training-data",
        "Does it share training data or a training pipeline with other layers?",
        ("SHARED-DATA",),
        "training_data",
    ),
)
_ANSWER = {Level.PRONE: "yes", Level.UNCLEAR: "unclear", Level.NOT_PRONE: "no"}
_ORDER = {"yes": 2, "unclear": 1, "no": 0}


@dataclass(frozen=True)
class Answer:
    layer: str
    answer: str  # yes / unclear / no / not answerable
    modes: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "answer": self.answer,
            "modes": list(self.modes),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class QuestionResult:
    key: str
    question: str
    answers: tuple[Answer, ...]

    @property
    def all_yes(self) -> bool:
        return bool(self.answers) and all(a.answer == "yes" for a in self.answers)

    @property
    def verdict(self) -> str:
        if self.answers and all(a.answer == "not answerable" for a in self.answers):
            return "not answerable: the catalog has no failure mode for this assumption"
        if self.all_yes:
            return "yes for every layer: the stack's margin against this assumption failing is thin"
        yes = [a.layer for a in self.answers if a.answer == "yes"]
        unclear = [a.layer for a in self.answers if a.answer == "unclear"]
        if not yes and not unclear:
            return "no layer rests on it"
        text = f"{len(yes)} of {len(self.answers)} layers rest on it"
        if unclear:
            text += f"; unclear for {', '.join(unclear)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "question": self.question,
            "all_yes": self.all_yes,
            "verdict": self.verdict,
            "answers": [a.to_dict() for a in self.answers],
        }


def answer_questions(
    catalog: Catalog, layers: tuple[str, ...], lineage_modes: dict[str, list[str]]
) -> tuple[QuestionResult, ...]:
    """``lineage_modes`` maps a lineage kind to the derived shared-mode ids of that kind."""
    results = []
    for key, question, generic, kind in QUESTIONS:
        modes = [m for m in generic if m in catalog.failure_mode_ids]
        modes += lineage_modes.get(kind, []) if kind else []
        if kind == "base_model":
            modes += lineage_modes.get("provider", [])
        if kind == "training_data":
            modes += lineage_modes.get("training_pipeline", [])
        answers = []
        for layer in layers:
            if not modes:
                answers.append(
                    Answer(layer, "not answerable", (), "the catalog has no mode for it")
                )
                continue
            worst = max(
                modes, key=lambda m: _ORDER[_ANSWER[catalog.rating(layer, m).effective_level]]
            )
            rating = catalog.rating(layer, worst)
            answer = _ANSWER[rating.effective_level]
            reason = f"{worst}: {rating.rationale or rating.effective_level.value}"
            answers.append(Answer(layer, answer, tuple(modes), reason))
        results.append(QuestionResult(key, question, tuple(answers)))
    return tuple(results)
