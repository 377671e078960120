"""The encoder's rate on this machine: texts a second by device, CPU threads and batch size.

The 10M-article plan (``bench/plan.py``) needs a GPU's rate and a many-core CPU node's, and
this VM has two cores and no GPU. This module runs wherever torch does, a lent GPU machine
included, and its rates feed the plan (``DATELINE_PLAN_GPU_TEXTS_PER_S``). Each rate is the
median of ``PASSES`` timed encodes of the same texts after a warm-up, through ``Encoder``, the
ingest's own path (texts sorted by length into batches, fp32, normalised).

The ONNX int8 rows compare two ways of using the cores on the same texts, same run: ONNX
Runtime's usual one session whose threads (one a core) split each batch, and the encoder's own
one-thread session a core, batches side by side. ``DATELINE_ONNX_EXPORT`` names an export
folder (``dateline-pipeline.json``, ``onnx/model_qint8.onnx``) for a machine that cannot make
one; a machine without the model's torch weights measures the ONNX rows alone.

The texts are Reuters passages as the ingest stored them. A machine without the evaluation
data reads them from ``DATELINE_BENCH_TEXTS``, one passage a line, written where the data is
by ``python -m bench.encoder --write-texts FILE``. ``DATELINE_MODEL`` names the model (a folder
is read as is), else the bundled one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.report import emit, table
from embeddings.encoder import Encoder
from embeddings.errors import ModelLoadError
from embeddings.export import ONNX_FILES, export_onnx
from embeddings.models import BUNDLED_MODEL
from embeddings.onnx_model import OnnxSentenceModel
from embeddings.threads import threads_limited

__all__ = ["main", "write_texts"]

PASSES = 3
CPU_TEXTS = 2_000
ONNX_TEXTS = 8_000
GPU_TEXTS = 20_000
CPU_BATCH = 32  # the settings' default
GPU_BATCHES = (32, 128, 512)
VM_CORES = 2  # this project's VMs: the CPU rate the other benchmarks measure


def _reuters_passages() -> list[str]:
    """The Reuters archive's passages (the first ``GPU_TEXTS``), each on one line."""
    from bench import reuters
    from qa.factories import open_store
    from qa.settings import Settings

    store = open_store(Settings(data_dir=reuters.ingested_archive("torch")))
    _, texts = store.reads.passage_texts()
    store.close()
    return [" ".join(text.split()) for text in texts[:GPU_TEXTS]]


def write_texts(path: Path) -> int:
    """Write the Reuters archive's passages, one a line, for a machine without the data."""
    lines = _reuters_passages()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _texts() -> list[str]:
    named = os.environ.get("DATELINE_BENCH_TEXTS")
    if named:
        return Path(named).read_text(encoding="utf-8").splitlines()
    return _reuters_passages()


@contextmanager
def _cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` for the block (all cores when None)."""
    import torch

    if threads is None:
        yield
        return
    with threads_limited(torch.get_num_threads, torch.set_num_threads, threads):
        yield


def _rate(encode: Callable[[Sequence[str]], object], texts: Sequence[str], warm: int) -> float:
    encode(texts[:warm])  # kernels, allocator, threads, sessions
    seconds = []
    for _ in range(PASSES):
        started = time.perf_counter()
        encode(texts)
        seconds.append(time.perf_counter() - started)
    return len(texts) / statistics.median(seconds)


def _onnx_rows(model: str, texts: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """int8 on every core: ONNX Runtime's usual layout (one session whose threads split each
    batch) against the encoder's (a one-thread session a core, batches side by side)."""
    named = os.environ.get("DATELINE_ONNX_EXPORT")
    cores = os.cpu_count() or 1
    try:
        folder = Path(named) if named else export_onnx(model)
        layouts = {
            layout: OnnxSentenceModel(model, folder, ONNX_FILES["onnx-int8"], batch_threads)
            for layout, batch_threads in (
                ("one session, a thread a core", cores),
                ("a session a core", 1),
            )
        }
    except ModelLoadError as error:
        print(f"onnx-int8 not measured: {error}")
        return
    for layout, onnx in layouts.items():

        def encode(some: Sequence[str], onnx: OnnxSentenceModel = onnx) -> object:
            return onnx.encode(some, CPU_BATCH, parallel=True)

        _measured(
            rows,
            {
                "device": f"cpu (onnx-int8, {layout})",
                "threads": cores,
                "batch": CPU_BATCH,
                "texts": min(ONNX_TEXTS, len(texts)),
                "texts_per_s": _rate(encode, texts[:ONNX_TEXTS], CPU_BATCH * 4 * cores),
            },
        )


def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"


def _measured(rows: list[dict[str, Any]], row: dict[str, Any]) -> None:
    """Keep a row and print it at once: a run cut short by a lent machine's limit keeps it."""
    rows.append(row)
    print("measured:", row, flush=True)


def _torch_rows(model: str, texts: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """fp32 on the CPU (this VM's cores, then all of a bigger machine's) and on a GPU."""
    import torch

    try:
        cpu_encoder = Encoder(model, CPU_BATCH, "torch")
    except ModelLoadError as error:  # no torch weights here: the ONNX rows alone
        print(f"torch not measured: {error}")
        return
    cores = os.cpu_count() or 1
    for threads in [None] if cores <= VM_CORES else [VM_CORES, None]:
        with _cpu_threads(threads):
            rate = _rate(cpu_encoder.encode, texts[:CPU_TEXTS], CPU_BATCH * 4)
        _measured(
            rows,
            {
                "device": "cpu",
                "threads": threads or torch.get_num_threads(),
                "batch": CPU_BATCH,
                "texts": min(CPU_TEXTS, len(texts)),
                "texts_per_s": rate,
            },
        )
    if torch.cuda.is_available():
        for batch in GPU_BATCHES:
            encoder = Encoder(model, batch, "torch", device="cuda")
            rate = _rate(encoder.encode, texts[:GPU_TEXTS], batch * 4)
            _measured(
                rows,
                {
                    "device": "cuda",
                    "threads": torch.get_num_threads(),
                    "batch": batch,
                    "texts": min(GPU_TEXTS, len(texts)),
                    "texts_per_s": rate,
                },
            )


def main() -> None:
    model = os.environ.get("DATELINE_MODEL", BUNDLED_MODEL)
    texts = _texts()
    cores = os.cpu_count() or 1
    rows: list[dict[str, Any]] = []
    _torch_rows(model, texts, rows)
    _onnx_rows(model, texts, rows)
    table(
        f"Encoder texts/s, torch fp32 unless named ({model}; {cores} cores; GPU: {_device_name()})",
        ("device", "threads", "batch", "texts", "texts/s"),
        [tuple(row.values()) for row in rows],
    )
    emit(
        {
            "benchmark": "encoder",
            "model": model,
            "cores": cores,
            "gpu": _device_name(),
            "rows": rows,
        }
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-texts", type=Path, help="write Reuters passages here and stop")
    arguments = parser.parse_args()
    if arguments.write_texts:
        print(f"{write_texts(arguments.write_texts):,} passages written")
    else:
        main()
