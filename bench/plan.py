"""A plan for 10M articles, computed from what one archive measures here.

Measured on the Reuters-21578 archive (the latency benchmark's cache, built if missing): the
passages and sentences an article makes, and the bytes each takes in every part of an archive
folder (SQLite, the HNSW files, BM25 rebuilt in today's layout); an IVF-PQ index
(``PLAN_FACTORY``) built over a sample of the stored vectors, the layout FAISS merges on disk
with ``contrib/ondisk.py``; and the encoder's rate over Reuters passages with the default
backend on this machine's cores. From those, for ``PLAN_ARTICLES`` articles: disk and memory
per shard and in all, shards and nodes for a node of ``PLAN_NODE_GIB`` GiB and
``PLAN_NODE_CORES`` cores (memory: what a replica maps, kept under ``PLAN_MEMORY_SHARE`` of a
node), and hours of encoding on CPU nodes and on GPU nodes.

The encoder's rate is assumed to grow with cores, which a CPU node of more cores only
approaches. No GPU is lent to every session: the GPU rate is ``DATELINE_PLAN_GPU_TEXTS_PER_S``
when given, else the rate ``bench.encoder`` measured on a lent H200, labelled as such.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench import reuters
from bench.report import emit, table
from embeddings.encoder import Encoder
from qa.factories import open_store
from qa.lexical import LexicalIndex
from qa.settings import Settings

__all__ = ["main"]

PLAN_ARTICLES = int(os.environ.get("DATELINE_PLAN_ARTICLES", "10000000"))
PLAN_FACTORY = os.environ.get("DATELINE_PLAN_FACTORY", "IVF1024,PQ48")
PLAN_NODE_GIB = int(os.environ.get("DATELINE_PLAN_NODE_GIB", "64"))
PLAN_NODE_CORES = int(os.environ.get("DATELINE_PLAN_NODE_CORES", "16"))
PLAN_MEMORY_SHARE = 0.6  # of a node's memory for index replicas: the rest for the OS cache, Ray
SAMPLE_VECTORS = 50_000
ENCODE_TEXTS = 2_000
# bench.encoder on a lent NVIDIA H200, 2026-11-28: Encoder on cuda, batch 512, 20,000 Reuters
# passages (docs/benchmarks.md, "encoder").
H200_TEXTS_PER_S = 2_716.0
GIB = 1 << 30


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def _archive_layout(data_dir: Path, work: Path) -> dict[str, Any]:
    """Per passage and per sentence: what each part of the archive folder takes."""
    store = open_store(Settings(data_dir=data_dir))
    counts = store.catalogue.counts()
    ids, texts = store.reads.passage_texts()
    LexicalIndex.build(ids, texts).save(work / "bm25")
    _, vectors = store.reads.vectors("passages")
    store.close()
    vectors_total = counts["passages"] + counts["sentences"]
    return {
        **counts,
        "passages_per_article": counts["passages"] / counts["articles"],
        "sentences_per_article": counts["sentences"] / counts["articles"],
        "sqlite_bytes_per_passage": _size(data_dir / "store.sqlite") / counts["passages"],
        "hnsw_bytes_per_vector": (
            _size(data_dir / "passages.faiss") + _size(data_dir / "sentences.faiss")
        )
        / vectors_total,
        "bm25_bytes_per_passage": _size(work / "bm25") / counts["passages"],
        "ivfpq_bytes_per_vector": _ivfpq_bytes(vectors[:SAMPLE_VECTORS], work),
    }


def _ivfpq_bytes(vectors: np.ndarray, work: Path) -> float:
    """Bytes a vector adds to an IVF-PQ index file: the trained, empty index subtracted."""
    index = faiss.index_factory(vectors.shape[1], PLAN_FACTORY, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    faiss.write_index(index, str(work / "empty.faiss"))
    index.add(vectors)
    faiss.write_index(index, str(work / "full.faiss"))
    return (_size(work / "full.faiss") - _size(work / "empty.faiss")) / len(vectors)


def _encoder_rate(data_dir: Path) -> float:
    """Texts a second, Reuters passages, default backend and batch size, this machine."""
    settings = Settings()
    store = open_store(Settings(data_dir=data_dir))
    _, texts = store.reads.passage_texts()
    store.close()
    encoder = Encoder(settings.model, settings.batch_size, settings.backend)
    sample = texts[:ENCODE_TEXTS]
    encoder.encode(sample[:64])  # warm
    started = time.perf_counter()
    encoder.encode(sample)
    return len(sample) / (time.perf_counter() - started)


def _plan(layout: dict[str, Any], cpu_rate: float, gpu_rate: float) -> dict[str, Any]:
    passages = PLAN_ARTICLES * layout["passages_per_article"]
    sentences = PLAN_ARTICLES * layout["sentences_per_article"]
    vectors = passages + sentences
    bm25 = passages * layout["bm25_bytes_per_passage"]
    sqlite = passages * layout["sqlite_bytes_per_passage"]
    plan: dict[str, Any] = {"articles": PLAN_ARTICLES, "passages": passages, "vectors": vectors}
    budget = PLAN_NODE_GIB * GIB * PLAN_MEMORY_SHARE
    cores = os.cpu_count() or 1
    for kind, per_vector in (
        ("hnsw", layout["hnsw_bytes_per_vector"]),
        ("ivfpq", layout["ivfpq_bytes_per_vector"]),
    ):
        memory = vectors * per_vector + bm25  # what replicas map and touch
        shards = max(1, math.ceil(memory / budget))
        plan[kind] = {
            "memory_gib": memory / GIB,
            "disk_gib": (memory + sqlite) / GIB,
            "shards": shards,
            "per_shard_memory_gib": memory / shards / GIB,
            "per_shard_disk_gib": (memory + sqlite) / shards / GIB,
            "nodes_one_replica": shards,
        }
    node_rate = cpu_rate / cores * PLAN_NODE_CORES
    plan["encode_hours_one_cpu_node"] = vectors / node_rate / 3600
    plan["encode_hours_one_gpu"] = vectors / gpu_rate / 3600
    plan["cpu_nodes_for_one_day"] = math.ceil(plan["encode_hours_one_cpu_node"] / 24)
    return plan


def main() -> None:
    data_dir = reuters.ingested_archive("torch")
    work = Path(tempfile.mkdtemp(prefix="dateline-plan-"))
    try:
        layout = _archive_layout(data_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cpu_rate = _encoder_rate(data_dir)
    given_gpu = os.environ.get("DATELINE_PLAN_GPU_TEXTS_PER_S")
    gpu_rate = float(given_gpu) if given_gpu else H200_TEXTS_PER_S
    plan = _plan(layout, cpu_rate, gpu_rate)
    table(
        f"Measured here (Reuters archive, {layout['articles']:,} articles)",
        ("measure", "value"),
        [
            ("passages per article", layout["passages_per_article"]),
            ("sentences per article", layout["sentences_per_article"]),
            (
                "SQLite bytes per passage (text, vectors, metadata)",
                layout["sqlite_bytes_per_passage"],
            ),
            ("HNSW32,Flat bytes per vector", layout["hnsw_bytes_per_vector"]),
            (f"{PLAN_FACTORY} bytes per vector", layout["ivfpq_bytes_per_vector"]),
            ("BM25 bytes per passage", layout["bm25_bytes_per_passage"]),
            (f"encoder texts/s on {os.cpu_count()} cores (default backend)", cpu_rate),
            (
                "GPU texts/s ("
                + ("DATELINE_PLAN_GPU_TEXTS_PER_S" if given_gpu else "H200, bench encoder")
                + ")",
                gpu_rate,
            ),
        ],
    )
    table(
        f"Plan for {PLAN_ARTICLES:,} articles ({plan['passages']:,.0f} passages,"
        f" {plan['vectors']:,.0f} vectors); nodes of {PLAN_NODE_GIB} GiB, {PLAN_NODE_CORES} cores",
        ("index", "memory GiB", "disk GiB", "shards", "GiB/shard mem", "GiB/shard disk", "nodes"),
        [
            (
                kind,
                plan[kind]["memory_gib"],
                plan[kind]["disk_gib"],
                plan[kind]["shards"],
                plan[kind]["per_shard_memory_gib"],
                plan[kind]["per_shard_disk_gib"],
                plan[kind]["nodes_one_replica"],
            )
            for kind in ("hnsw", "ivfpq")
        ],
    )
    table(
        "Encoding every passage and sentence once",
        ("where", "hours", "nodes for one day"),
        [
            (
                f"CPU nodes of {PLAN_NODE_CORES} cores",
                plan["encode_hours_one_cpu_node"],
                plan["cpu_nodes_for_one_day"],
            ),
            ("one GPU", plan["encode_hours_one_gpu"], 1),
        ],
    )
    emit(
        {
            "benchmark": "plan",
            "layout": layout,
            "cpu_texts_per_s": cpu_rate,
            "gpu_texts_per_s": gpu_rate,
            **plan,
        }
    )


if __name__ == "__main__":
    main()
