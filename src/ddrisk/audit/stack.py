"""The stack-file format: the safety layers an organisation deploys, their lineage and costs.

A stack file names a catalog and lists the deployed layers. Each layer is either a
technique of that catalog (``technique: IN-CLF``) or the organisation's own layer
(``custom:`` with its own ratings or probabilities). ``lineage`` declares the base models,
providers, training pipelines, training data and evaluator pools the layers are built from;
layers that share one of them share its blind spots, and the audit turns each shared item
into a failure mode of its own (:mod:`ddrisk.audit.lineage`).

Structure is validated here with pydantic; cross-references (unknown techniques, lineage
typos and cycles) are checked by :func:`stack_problems` so that the reader can point at the
offending line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from ddrisk.catalog.model import ID_PATTERN, Confidence, Level, SafetyTax

STACK_FORMAT: Literal["ddrisk.stack/1"] = "ddrisk.stack/1"
LINEAGE_KINDS = ("base_model", "provider", "training_pipeline", "training_data", "evaluator_pool")

LayerId = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$", max_length=100)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Spec = StrictFloat | StrictInt | StrictStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelEntry(_Strict):
    """A model in the lineage registry."""

    provider: Name | None = None
    derived_from: Name | None = Field(
        default=None, description="The model this one was fine-tuned or distilled from."
    )
    training_data: list[Name] = Field(default_factory=list)
    training_pipeline: Name | None = None
    description: str = ""


class Registry(_Strict):
    """Everything layers may name in their lineage; a name used but not declared is a typo."""

    models: dict[Name, ModelEntry] = Field(default_factory=dict)
    providers: dict[Name, str] = Field(default_factory=dict, description="name -> description")
    training_data: dict[Name, str] = Field(default_factory=dict)
    training_pipelines: dict[Name, str] = Field(default_factory=dict)
    evaluator_pools: dict[Name, str] = Field(default_factory=dict)


class LayerLineage(_Strict):
    base_model: Name | None = None
    provider: Name | None = None
    training_pipeline: Name | None = None
    training_data: list[Name] = Field(default_factory=list)
    evaluator_pool: Name | None = None


class CellRating(_Strict):
    """A custom layer's judgment on one failure mode."""

    level: Level | None = None
    probability: Probability | None = None
    confidence: Confidence = Confidence.MEDIUM
    rationale: str = ""


class CustomLayer(_Strict):
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(default="custom", min_length=1)
    safety_tax: SafetyTax = SafetyTax.UNCLEAR
    ratings: dict[str, CellRating] = Field(
        default_factory=dict, description="failure-mode id -> level and/or probability"
    )
    unrated: Level = Field(
        default=Level.UNCLEAR,
        description="Level of every failure mode not listed in ratings (default: unclear, '?').",
    )


class Layer(_Strict):
    """One deployed layer: a catalog technique or a custom layer."""

    id: LayerId
    technique: str | None = Field(default=None, description="A technique id of the catalog.")
    custom: CustomLayer | None = None
    name: str | None = None
    description: str = ""
    lineage: LayerLineage = Field(default_factory=LayerLineage)
    cost: float | None = Field(default=None, ge=0.0, description="Overrides the safety-tax cost.")
    residual: Probability | None = Field(
        default=None, description="P(layer fails on its own), overriding the default."
    )


class ImpactScore(_Strict):
    severity: float = Field(ge=0, le=10)
    tractability: float = Field(ge=0, le=10)
    neglectedness: float = Field(ge=0, le=10)
    urgency: float = Field(ge=0, le=10)
    rationale: str = Field(min_length=1)


class RiskSection(_Strict):
    """Same keys as a ``ddrisk risk --params`` file, plus the lineage-mode setting."""

    q: dict[str, Spec] = Field(default_factory=dict)
    p: dict[str, Any] = Field(default_factory=dict)
    residual: dict[str, Spec] = Field(default_factory=dict)
    shared_lineage_p: Probability = Field(
        default=0.9,
        description="P(layer fails | a shared-lineage mode occurs) for layers built on it.",
    )


class Evidence(_Strict):
    counts: str = Field(
        min_length=1,
        description="Stress-test counts JSON (`ddrisk stress analyze --counts-out`), relative "
        "to the stack file; layer keys are this file's layer ids.",
    )


class StackFile(_Strict):
    """A deployed safety stack to audit."""

    format: Literal["ddrisk.stack/1"] = STACK_FORMAT
    id: LayerId
    title: str = Field(min_length=1)
    description: str = ""
    owner: str | None = None
    catalog: str = Field(min_length=1, description="Built-in catalog name or a path.")
    lineage: Registry = Field(default_factory=Registry)
    layers: list[Layer] = Field(min_length=1)
    candidates: list[str] | None = Field(
        default=None,
        description="Catalog techniques the audit may propose adding (default: all not deployed).",
    )
    budget: float | None = Field(default=None, ge=0.0, description="Cost budget for additions.")
    max_additions: int = Field(default=2, ge=1, le=6)
    risk: RiskSection = Field(default_factory=RiskSection)
    evidence: Evidence | None = None
    impact: dict[str, ImpactScore] = Field(default_factory=dict)

    def layer_ids(self) -> list[str]:
        return [layer.id for layer in self.layers]


def stack_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the stack-file format (``ddrisk audit --schema``)."""
    schema = StackFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ddrisk.dev/schema/stack-1.json"
    schema["title"] = "ddrisk stack file"
    return schema
