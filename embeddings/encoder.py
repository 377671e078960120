"""Sentence encoders: text in, unit-length float32 vectors out, on torch or ONNX Runtime.

torch is sentence-transformers itself. The ONNX backends run sentence-transformers' own export
of the model (made locally on first use, kept in a cache folder) on onnxruntime directly, so a
server that uses them starts without importing torch.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelLoadError
from embeddings.export import ONNX_FILES, default_cache_dir, export_onnx
from embeddings.models import BUNDLED_MODEL, load_sentence_transformer, resolve_model_path
from embeddings.onnx_model import OnnxSentenceModel
from embeddings.threads import threads_limited

__all__ = [
    "BACKENDS",
    "BUNDLED_MODEL",
    "Encoder",
    "default_cache_dir",
    "export_onnx",
    "resolve_model_path",
]

# torch is the reference; "onnx" is the same graph on ONNX Runtime; "onnx-int8" has its weights
# quantised per channel to int8 (faster per query on CPU, its vectors close to torch's).
BACKENDS = ("torch", *ONNX_FILES)

# Encodes of at most this many texts (questions) run on one thread; see Encoder.encode.
_SINGLE_THREAD_TEXTS = 4

Vectors = npt.NDArray[np.float32]


class Encoder:
    """One model on one backend, safe to share between threads.

    torch encodes are serialised by a lock (the model is not thread-safe); ONNX Runtime
    sessions are, so concurrent questions encode side by side. Token counts use a tokenizer of
    their own, so they never wait for an encode.
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        backend: str = "torch",
        cache_dir: Path | None = None,
        device: str = "cpu",
    ) -> None:
        """``device`` is torch's ("cuda" for a GPU); the ONNX backends run on the CPU."""
        if backend not in BACKENDS:
            raise ModelLoadError(model, f"unknown backend {backend!r}; use one of {BACKENDS}")
        self.name = model
        self.backend = backend
        self.batch_size = batch_size
        if backend == "torch":
            self._torch = load_sentence_transformer(model, resolve_model_path(model), device)
            self._lock = threading.Lock()
            dimension = self._torch.get_embedding_dimension()
            if dimension is None:
                raise ModelLoadError(model, "it does not report an embedding dimension")
            self.dimension = int(dimension)
            self.max_tokens = int(self._torch.max_seq_length or 512)
            # Counting tokens (ingest's splitting) goes on while another thread encodes; the
            # tokenizer changes its own settings on each call, hence a lock of its own.
            self._counting = copy.deepcopy(self._torch.tokenizer)
            self._counting_lock = threading.Lock()
        else:
            folder = export_onnx(model, cache_dir)
            self._onnx = OnnxSentenceModel(model, folder, ONNX_FILES[backend])
            self.dimension = self._onnx.dimension
            self.max_tokens = self._onnx.max_tokens

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Encode to normalised vectors, so inner product is cosine similarity.

        A question or two runs on the calling thread alone: a two-thread forward pass of a few
        tokens gains little, and on a busy two-core machine one descheduled thread stalls it.
        Batches keep every core.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        single = len(texts) <= _SINGLE_THREAD_TEXTS
        if self.backend != "torch":
            return self._onnx.encode(texts, self.batch_size, parallel=not single)
        # sentence-transformers sorts a call's texts by characters; batches of texts sorted by
        # tokens pad far less (see OnnxSentenceModel.encode), so each call is one such batch.
        # Texts that make one batch (a question) need no order.
        order = (
            np.argsort(self._token_counts(texts), kind="stable")
            if len(texts) > self.batch_size
            else np.arange(len(texts))
        )
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._lock, _torch_threads(single):
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                vectors[rows] = self._torch.encode(
                    [texts[i] for i in rows],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return vectors

    def _token_counts(self, texts: Sequence[str]) -> list[int]:
        """Wordpieces of each text as the model sees them (truncated), for torch's batching."""
        with self._counting_lock:
            ids = self._counting(
                list(texts), truncation=True, max_length=self.max_tokens, add_special_tokens=False
            )["input_ids"]
        return [len(row) for row in ids]

    def count_tokens(self, text: str) -> int:
        """Wordpieces the model sees, without its special tokens."""
        if self.backend != "torch":
            return self._onnx.count_tokens(text)
        with self._counting_lock:
            return len(self._counting.tokenize(text))

    @property
    def window_tokens(self) -> int:
        """Wordpieces of text that fit one forward pass, after [CLS] and [SEP]."""
        return self.max_tokens - 2


@contextmanager
def _torch_threads(single: bool) -> Iterator[None]:
    """One intra-op thread for the block when ``single`` (per calling thread under OpenMP)."""
    if not single:
        yield
        return
    import torch

    with threads_limited(torch.get_num_threads, torch.set_num_threads):
        yield
