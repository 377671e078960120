"""ONNX exports of a sentence-transformers model, made locally by sentence-transformers itself.

An export is a copy of the model folder with ``onnx/model.onnx`` (fp32) and
``onnx/model_qint8.onnx`` (int8), plus ``dateline-pipeline.json``: what the model does after
the transformer (pooling, normalisation, input length), read from the loaded model so the
ONNX runtime (embeddings/onnx_model.py) repeats it without importing sentence-transformers.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import sys
import warnings
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from embeddings.errors import ModelLoadError
from embeddings.models import load_sentence_transformer, resolve_model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["ONNX_FILES", "PIPELINE_FILE", "default_cache_dir", "export_onnx", "int8_target"]

ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}
PIPELINE_FILE = "dateline-pipeline.json"
_POOLING_MODES = ("mean", "cls", "max")
# CPU flags of the VNNI dot-product instructions (Linux's names in /proc/cpuinfo).
_VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})

# Bumped whenever the export changes, so stale exports in a cache are not reused.
_EXPORT_VERSION = 3


def default_cache_dir() -> Path:
    """Where exported ONNX models are kept: ``$XDG_CACHE_HOME/dateline`` (``~/.cache``)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "dateline"


def int8_target(cpu_flags: frozenset[str] | None = None) -> str:
    """The optimum quantisation preset for this CPU: ``avx512_vnni`` (int8 weights) where the
    CPU has VNNI, ``avx2`` (uint8 weights) elsewhere.

    ONNX Runtime multiplies uint8 activations by int8 weights fastest, but without VNNI that
    product can saturate and lose accuracy, so its docs advise uint8 weights there. With VNNI
    the int8 weights are both faster and closer to fp32.
    """
    if cpu_flags is None:
        cpu_flags = _cpu_flags()
    return "avx512_vnni" if cpu_flags & _VNNI_FLAGS else "avx2"


def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags, as Linux lists them (none known elsewhere: the safe preset).

    Read directly: py-cpuinfo probes in a subprocess, too slow for what runs at every start to
    find the export.
    """
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def _fingerprint(model: str, path: str, target: str) -> str:
    """Names, sizes and mtimes of the model's files (not their bytes: fast at every start)."""
    from importlib.metadata import version

    # Versions from metadata: importing the libraries here would add seconds to every start.
    runtime = "\0".join(
        version(p) for p in ("sentence-transformers", "optimum-onnx", "onnxruntime")
    )
    digest = hashlib.sha256(f"{_EXPORT_VERSION}\0{model}\0{runtime}\0{target}".encode())
    folder = Path(path)
    if folder.is_dir():
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder)
            if file.is_file() and relative.parts[0] not in ("onnx", "openvino"):
                stat = file.stat()
                digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _pipeline(model: str, loaded: SentenceTransformer) -> dict[str, Any]:
    """Transformer, pooling, optional normalisation: the models an ONNX runtime can repeat."""
    names = [type(module).__name__ for module in loaded]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ModelLoadError(
            model, f"the ONNX backends run Transformer, Pooling (and Normalize) models, not {names}"
        )
    pooling_module: Any = loaded[1]
    pooling = pooling_module.get_config_dict().get("pooling_mode")
    if pooling not in _POOLING_MODES:
        raise ModelLoadError(model, f"the ONNX backends pool by {_POOLING_MODES}, not {pooling!r}")
    return {
        "max_seq_length": int(loaded.max_seq_length or 512),
        "pooling": pooling,
        "normalize": len(names) == 3,
        "dimension": int(loaded.get_embedding_dimension() or 0),
    }


def _export(model: str, path: str, folder: Path, target: str) -> None:
    """Stage the export beside ``folder`` and rename it into place: a half-made export is
    never loaded."""
    staged = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staged, ignore_errors=True)
    try:
        _copy_model(model, path, staged)
        _announce(folder)
        _export_into(model, staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    staged.rename(folder)


def _copy_model(model: str, path: str, staged: Path) -> None:
    """The model's own files, where the export will add its graphs; a model that cannot be
    found fails here, before anything is announced."""
    if Path(path).is_dir():
        shutil.copytree(path, staged, ignore=shutil.ignore_patterns("onnx", "openvino"))
    else:
        load_sentence_transformer(model, path).save(str(staged))  # a hub name in the local cache


def _export_into(model: str, staged: Path, target: str) -> None:
    from optimum.onnxruntime import AutoQuantizationConfig
    from sentence_transformers import export_dynamic_quantized_onnx_model

    # Per-channel scales: per-tensor ones move vectors too far from torch's.
    config = getattr(AutoQuantizationConfig, target)(is_static=False, per_channel=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice to the root logger
    try:
        with warnings.catch_warnings():
            # torch deprecates the TorchScript exporter that optimum drives; the export is
            # checked against torch by the tests, so its advice is noise here.
            warnings.simplefilter("ignore")
            exported = load_sentence_transformer(model, str(staged), backend="onnx")  # exports
            pipeline = _pipeline(model, exported)
            exported.save(str(staged))
            export_dynamic_quantized_onnx_model(exported, config, str(staged), file_suffix="qint8")
            # The exporter's temporary folder is cleaned up when the model goes; inside this
            # block, so that its ResourceWarning is not raised on some later line.
            del exported
            gc.collect()
    finally:
        root.setLevel(level)
    (staged / PIPELINE_FILE).write_text(json.dumps(pipeline, indent=2))


def _announce(folder: Path) -> None:
    """Tell the person waiting why this first start is slow, before the export begins.

    Printed, not logged: like a progress bar it is for whoever watches the terminal or the
    server's log, whatever the logging setup; and only by the process that exports.
    """
    print(
        f"Preparing the fast encoder once, about 20 s (an ONNX export into {folder})",
        file=sys.stderr,
        flush=True,
    )


def export_onnx(model: str, cache_dir: Path | None = None) -> Path:
    """Export ``model`` for ONNX Runtime (once; later calls find it) and return its folder.

    The export is made locally from the model's own files, never downloaded; it is keyed by
    the model's files, the library versions and the CPU's int8 preset, so an update (or a
    cache moved to another kind of CPU) re-exports.
    """
    path = resolve_model_path(model)
    target = int8_target()
    try:
        key = _fingerprint(model, path, target)
    except PackageNotFoundError as exc:
        raise ModelLoadError(model, f"the ONNX backends need {exc.name}") from exc
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model.strip("/"))[-60:]
    folder = (cache_dir or default_cache_dir()) / "onnx" / f"{slug}-{key}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    # One exporter per model at a time, across processes (a server and an ingest, say).
    with FileLock(folder.with_name(f".{folder.name}.lock")):
        if not folder.exists():
            try:
                _export(model, path, folder, target)
            except ModelLoadError:
                raise
            except Exception as exc:  # an exporter failure becomes one actionable message
                raise ModelLoadError(model, f"cannot export it to ONNX ({exc})") from exc
    return folder
