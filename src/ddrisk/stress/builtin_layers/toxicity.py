"""Linear toxicity classifier: alt-profanity-check's TF-IDF + linear SVM.

Mechanism: a bag-of-words linear model trained on offensive-language data; it
flags insults and profanity, not harmful intent, so it is expected to miss most
polite harmful requests. Blocks when ``predict_prob`` exceeds ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ddrisk.stress.builtin_layers._base import BuiltinLayer, timed_batch, version_of
from ddrisk.stress.layer import Item, Verdict

# Installed without its dependencies: its wheel pins exact scikit-learn and joblib versions, while
# the model files load with any recent scikit-learn (the stress extra brings one).
PROFANITY_INSTALL = "pip install --no-deps alt-profanity-check==1.9.1"


class ToxicityLayer(BuiltinLayer):
    """alt-profanity-check, blocking when the profanity probability is above ``threshold``."""

    kind: ClassVar[str] = "toxicity"
    requirements = (("profanity_check", PROFANITY_INSTALL), ("sklearn", PROFANITY_INSTALL))
    description = "alt-profanity-check TF-IDF + linear SVM (offensive language)"

    def __init__(self, *, name: str | None = None, threshold: float = 0.5) -> None:
        super().__init__(name=name)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0, 1]")
        self.threshold = threshold

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package": "alt-profanity-check",
            "threshold": self.threshold,
            **self.versions(),
        }

    def versions(self) -> dict[str, str | None]:
        return version_of("alt-profanity-check", "scikit-learn")

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        # Imported here: loading the joblib model takes seconds, and a warm run
        # served entirely from the cache should never pay for it.
        import warnings

        with warnings.catch_warnings():
            # The pickled model was written by another scikit-learn release; its linear SVM
            # and vectoriser load unchanged, and the layer's tests pin its scores.
            warnings.filterwarnings("ignore", message=".*Trying to unpickle estimator.*")
            from profanity_check import predict_prob

        return timed_batch(items, lambda texts: list(predict_prob(texts)), self.threshold)
