"""A million passages: index search latency and recall@10 against exact search, build time,
memory, and the server's start-up time with the prebuilt index.

The corpus is the Reuters-21578 archive copied until it holds ~1M passages, through the real
ingest (parsing, splitting, SQLite, FAISS, BM25). Vectors are synthetic: encoding a million
passages would take hours on two cores, so each text gets its real vector (from the ingested
Reuters archive) plus Gaussian noise (a text's first occurrence keeps its real vector), which
keeps the real corpus's clusters. Questions are real: Reuters headlines encoded by the bundled
model.

Side by side in one run: exact search (Flat) against the chosen index (HNSW, at several
efSearch) and IVF; the server started with torch and with ONNX int8. Everything built is cached
in ~/.cache/dateline-bench/scale, with the build times measured when it was built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench import reuters
from bench.live import load, running_server
from bench.report import emit, percentiles, table

__all__ = ["main"]

TARGET = int(os.environ.get("DATELINE_BENCH_SCALE_PASSAGES", "1000000"))
WORK = reuters.CACHE / "scale"
NOISE = 0.04  # per dimension: a noisy copy keeps a cosine of ~0.8 with its original
QUERIES = 300
IVF = "IVF1024,Flat"  # ~1,000 vectors a list at 1M; k-means on 1024 centroids stays short
TARGET_RECALL, TARGET_START_S = 0.95, 5.0
EF_BREADTHS = (64, 128, 256)
STARTS = 5
_COPY = re.compile(r"^\[copy \d+\] ")

Vectors = npt.NDArray[np.float32]


class _SyntheticEncoder:
    """The Encoder interface with real token counts and real-plus-noise vectors."""

    def __init__(self, vectors: dict[str, Vectors]) -> None:
        from embeddings.encoder import Encoder

        self._real = Encoder("all-MiniLM-L6-v2", backend="onnx-int8")
        self._vectors = vectors
        self._rng = np.random.default_rng(0)
        self._seen: set[str] = set()
        self.name = self._real.name
        self.backend = "synthetic"
        self.batch_size = self._real.batch_size
        self.dimension = self._real.dimension
        self.max_tokens = self._real.max_tokens
        self.encoded = 0

    @property
    def window_tokens(self) -> int:
        return self._real.window_tokens

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)

    def encode(self, texts: Sequence[str]) -> Vectors:
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        unknown = []
        for row, text in enumerate(texts):
            original = _COPY.sub("", text)
            vector = self._vectors.get(original)
            if vector is None:
                unknown.append(row)
                continue
            if original in self._seen:  # a copy's text: near its original, never equal
                noisy = vector + NOISE * self._rng.standard_normal(self.dimension)
                vector = (noisy / np.linalg.norm(noisy)).astype(np.float32)
            self._seen.add(original)
            vectors[row] = vector
        if unknown:  # a sentence split differently after the marker: encode it for real
            vectors[unknown] = self._real.encode([_COPY.sub("", texts[i]) for i in unknown])
        before = self.encoded // 100_000
        self.encoded += len(texts)
        if self.encoded // 100_000 > before:
            print(f"    {self.encoded:,} texts stored", flush=True)
        return vectors


def _real_vectors(data_dir: Path) -> dict[str, Vectors]:
    with sqlite3.connect(f"file:{data_dir / 'store.sqlite'}?mode=ro", uri=True) as db:
        passages = db.execute("SELECT id, text, vector FROM passages").fetchall()
        texts = {row[0]: row[1] for row in passages}
        vectors = {row[1]: np.frombuffer(row[2], dtype=np.float32) for row in passages}
        for owner, start, end, blob in db.execute(
            "SELECT passage_id, start, end, vector FROM sentences"
        ):
            vectors.setdefault(texts[owner][start:end], np.frombuffer(blob, dtype=np.float32))
    return vectors


def _copies(source: Path, folder: Path, passages_per_article: dict[str, int]) -> int:
    """Write copies of every article (each marked, so none is a duplicate) up to TARGET."""
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(source.iterdir())
    total, copy = 0, 0
    while total < TARGET:
        for path in files:
            count = passages_per_article.get(path.stem, 0)
            if not count:
                continue
            text = path.read_text(encoding="utf-8")
            if copy:
                header, _, rest = text.partition("/REUTER/. ")
                text = f"{header}/REUTER/. [copy {copy}] {rest}"
            (folder / f"c{copy:02d}-{path.name}").write_text(text, encoding="utf-8")
            total += count
            if total >= TARGET:
                break
        copy += 1
    return total


def _build() -> Path:
    """The ~1M-passage data dir (once; cached), with build timings recorded beside it."""
    from embeddings.index import VectorIndex
    from qa.factories import open_store
    from qa.ingest import ingest_directory
    from qa.settings import Settings

    data_dir = WORK / "data"
    stamp = WORK / "built.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("target") == TARGET:
        return data_dir
    shutil.rmtree(WORK, ignore_errors=True)
    source_dir = reuters.ingested_archive("onnx-int8")
    with sqlite3.connect(f"file:{source_dir / 'store.sqlite'}?mode=ro", uri=True) as db:
        counts = dict(db.execute("SELECT article_id, count(*) FROM passages GROUP BY article_id"))
    print(f"  building a {TARGET:,}-passage corpus in {WORK} (once; cached)…", flush=True)
    started = time.perf_counter()
    _copies(reuters.article_files(), WORK / "articles", counts)
    encoder = _SyntheticEncoder(_real_vectors(source_dir))
    settings = Settings(seeds_dir=WORK / "articles", data_dir=data_dir)
    store = open_store(settings)
    ingest_directory(
        settings.seeds_dir,
        store,
        encoder,  # type: ignore[arg-type]
        data_dir,
        settings.max_file_bytes,
        progress=False,
    )
    ingest_seconds = time.perf_counter() - started
    print(f"  ingested (with every index built) in {ingest_seconds:,.0f} s", flush=True)
    ids, vectors = store.reads.vectors("passages")
    counts_now = store.catalogue.counts()
    store.close()
    builds: dict[str, float] = {}
    for factory in ("Flat", "HNSW32,Flat", IVF):
        print(f"  timing the build of {factory} over {len(ids):,} vectors…", flush=True)
        begun = time.perf_counter()
        index = VectorIndex.build(ids, vectors, vectors.shape[1], factory)
        builds[factory] = round(time.perf_counter() - begun, 1)
        if factory == IVF:
            index.save(WORK / "ivf.faiss")
        del index
    record = {"target": TARGET, **counts_now, "ingest_s": round(ingest_seconds, 1)}
    stamp.write_text(json.dumps({**record, "build_s": builds}))
    shutil.rmtree(WORK / "articles", ignore_errors=True)
    return data_dir


def _queries() -> Vectors:
    from embeddings.encoder import Encoder

    questions = [q for q, _ in reuters.questions()][:: max(1, len(reuters.questions()) // QUERIES)]
    return Encoder("all-MiniLM-L6-v2", backend="onnx-int8").encode(questions[:QUERIES])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _search_table(data_dir: Path, queries: Vectors) -> list[dict[str, Any]]:
    from embeddings.index import IndexConfig, VectorIndex, default_ef_search
    from qa.factories import open_store
    from qa.settings import Settings

    store = open_store(Settings(data_dir=data_dir))
    ids, vectors = store.reads.vectors("passages")
    store.close()
    exact = VectorIndex.build(ids, vectors, vectors.shape[1], "Flat")
    del vectors
    truth = [set(exact.search(q, 10).ids.tolist()) for q in queries]

    def measure(name: str, index: VectorIndex, size_mb: float) -> dict[str, Any]:
        for q in queries:  # every page these queries visit is in memory before any is timed
            index.search(q, 10)
        latencies, found = [], 0
        for q, expected in zip(queries, truth, strict=True):
            started = time.perf_counter()
            hits = index.search(q, 10)
            latencies.append((time.perf_counter() - started) * 1000)
            found += len(expected & set(hits.ids.tolist()))
        return {
            "index": name,
            "recall_at10": round(found / (10 * len(queries)), 4),
            **{f"{k}_ms": v for k, v in percentiles(latencies).items()},
            "size_mb": size_mb,
        }

    vector_mb = round(exact.count * exact.dimension * 4 / 2**20, 1)
    rows = [measure("Flat (exact)", exact, vector_mb)]
    del exact
    chosen_file = data_dir / "passages.faiss"
    chosen_mb = round(chosen_file.stat().st_size / 2**20, 1)
    chosen = VectorIndex.load(chosen_file)
    default = default_ef_search(chosen.count)
    for ef in EF_BREADTHS:
        chosen.set_ef_search(ef)
        label = f"{chosen.kind} efSearch={ef}" + (" (default)" if ef == default else "")
        rows.append(measure(label, chosen, chosen_mb))
    del chosen
    ivf_file = WORK / "ivf.faiss"
    for nprobe in (16, 64):
        ivf = VectorIndex.load(ivf_file, config=IndexConfig(nprobe=nprobe))
        rows.append(
            measure(f"{IVF} nprobe={nprobe}", ivf, round(ivf_file.stat().st_size / 2**20, 1))
        )
    return rows


def _startup(data_dir: Path) -> list[dict[str, Any]]:
    """Process start to /readyz 200, STARTS times per backend; the median is what counts (these
    VMs vary by ~30% from one start to the next). The last start also answers questions."""
    questions = [q for q, _ in reuters.questions()]
    rows = []
    for backend in ("onnx-int8", "torch"):
        starts: list[float] = []
        for attempt in range(1, STARTS + 1):
            log = WORK / f"server-{backend}-{attempt}.log"
            with running_server(data_dir, log, backend, timeout=600) as server:
                starts.append(server.ready_seconds)
                if attempt == STARTS:
                    row: dict[str, Any] = {
                        "backend": backend,
                        "starts": STARTS,
                        "ready_s": round(float(np.median(starts)), 2),
                        "ready_s_each": [round(t, 2) for t in starts],
                        "rss_mb": _rss_mb(server.pid),
                    }
                    result = load(server, questions, 1, 15.0)
                    row.update(p50_ms=result.p50_ms, p99_ms=result.p99_ms, errors=result.errors)
        rows.append(row)
        print(f"    {row}", flush=True)
    return rows


def main() -> None:
    data_dir = _build()
    built = json.loads((WORK / "built.json").read_text())
    print(
        f"  corpus: {built['passages']:,} passages, {built['sentences']:,} sentences, "
        f"{built['articles']:,} articles",
        flush=True,
    )
    queries = _queries()
    print(f"  searching {len(queries)} real questions in each index…", flush=True)
    search = _search_table(data_dir, queries)
    table(
        f"Search over {built['passages']:,} passages (one query at a time; recall@10 against "
        "exact search)",
        ["index", "recall@10", "p50 ms", "p95 ms", "p99 ms", "file MiB"],
        [
            [r["index"], r["recall_at10"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["size_mb"]]
            for r in search
        ],
    )
    table(
        "Build times (measured when the cached corpus was built)",
        ["what", "seconds"],
        [["ingest (parse, store, every index; synthetic vectors)", built["ingest_s"]]]
        + [[f"VectorIndex.build {name}", seconds] for name, seconds in built["build_s"].items()],
    )
    print("  server start-up with the prebuilt index…", flush=True)
    startup = _startup(data_dir)
    table(
        f"dateline serve on {built['passages']:,} passages: process start to /readyz 200, "
        f"median of {STARTS} starts; then 15 s of questions from 1 client",
        ["backend", "ready s", "each start s", "RSS MiB", "p50 ms", "p99 ms", "errors"],
        [
            [
                r["backend"],
                r["ready_s"],
                " ".join(f"{t:.1f}" for t in r["ready_s_each"]),
                r["rss_mb"],
                r["p50_ms"],
                r["p99_ms"],
                r["errors"],
            ]
            for r in startup
        ],
    )
    chosen = next(r for r in search if "(default)" in r["index"])
    targets = {
        "recall_at10>=0.95": chosen["recall_at10"] >= TARGET_RECALL,
        "onnx_int8_ready_s<=5": all(
            r["ready_s"] <= TARGET_START_S for r in startup if r["backend"] == "onnx-int8"
        ),
        "torch_ready_s<=5": all(
            r["ready_s"] <= TARGET_START_S for r in startup if r["backend"] == "torch"
        ),
    }
    print("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    emit(
        {
            "benchmark": "scale",
            "corpus": built,
            "search": search,
            "startup": startup,
            "targets": targets,
        }
    )
