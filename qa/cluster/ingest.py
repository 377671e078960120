"""Cluster ingest on Ray Data: a folder of articles or a JSONL file into the shards of a
cluster folder, incrementally and idempotently, as ``dateline ingest`` does for one archive.

The driver decides, with the single archive's rules (``qa.ingest.Admission``) and in the
candidates' order, so that which of two equal texts is kept never depends on which worker
was quicker. Ray does the work: CPU tasks read, parse, split and attribute the candidates
whose size or mtime changed, a block of them a task; an actor pool encodes them
(``map_batches``); one writer actor per shard (``qa.cluster.writers``) stores them and then
builds the shard's indexes. The cluster manifest is written last, atomically. Given another
number of shards than it has, an ingest first moves whole buckets to them
(``qa.cluster.moves``), copying rows, never encoding.

A killed task or encoder actor is retried by Ray Data; a killed writer is restarted and its
call retried (storing an article replaces it whole, so a retry stores it once). A killed
driver loses nothing committed: the next run finds those articles unchanged and does the rest.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray

from embeddings.encoder import Encoder
from qa.articles import UnreadableArticleError
from qa.cluster.manifest import ClusterManifest, ShardRecord, read_manifest, write_manifest
from qa.cluster.moves import move_buckets
from qa.cluster.routing import bucket, shard_names, spread
from qa.cluster.writers import IndexModel, ShardWriters
from qa.errors import ClusterError
from qa.factories import index_config, open_encoder
from qa.indexes import IndexFolder
from qa.ingest import (
    Admission,
    Candidate,
    IngestReport,
    PreparedArticle,
    Verdict,
    encode_articles,
    folder_candidates,
    indexes_behind,
    jsonl_candidates,
    prepare,
    text_count,
)
from qa.settings import Settings
from qa.store import STORE_FILE, Store

__all__ = ["ingest_cluster"]

log = logging.getLogger(__name__)

# An encoder actor's share of a CPU, for Ray's bookkeeping (ONNX Runtime and torch use every
# core anyway): with a whole CPU each, the actors left Ray Data's read tasks none on a small
# machine, and the ingest waited for ever without an error.
_ENCODER_CPUS = 0.5

_READ = pa.schema(
    [
        ("position", pa.int64()),
        ("error", pa.string()),  # why it cannot be read; null when it was read
        ("article_id", pa.string()),
        ("content_hash", pa.string()),
        ("warnings", pa.string()),  # a JSON list
        ("prepared", pa.binary()),  # a pickled PreparedArticle; empty when its text is stored
    ]
)

# The encoder of each settings, loaded once in each worker process that splits articles.
_splitters: dict[str, Encoder] = {}


def _splitter(settings: Settings) -> Encoder:
    key = settings.model_dump_json()
    if key not in _splitters:
        _splitters[key] = open_encoder(settings)
    return _splitters[key]


def _read_and_split(batch: pa.Table, settings: Settings) -> pa.Table:
    """Read each candidate; split and attribute those whose text is not the stored one (the
    others are only touched, as ``Admission.decide`` rules)."""
    rows = []
    for position, pickled, stored_hash in zip(
        batch["position"].to_pylist(),
        batch["candidate"].to_pylist(),
        batch["stored_hash"].to_pylist(),
        strict=True,
    ):
        candidate: Candidate = pickle.loads(pickled)
        try:
            article = candidate.read()
        except UnreadableArticleError as exc:
            rows.append({"position": position, "error": str(exc)})
            continue
        prepared = (
            b""
            if article.content_hash == stored_hash
            else pickle.dumps(prepare(article, _splitter(settings), candidate.origin))
        )
        rows.append(
            {
                "position": position,
                "article_id": article.article_id,
                "content_hash": article.content_hash,
                "warnings": json.dumps(article.warnings),
                "prepared": prepared,
            }
        )
    return pa.Table.from_pylist(rows, schema=_READ)


class _Encoding:
    """An encoder actor: the settings' model, loaded once, encoding a batch of prepared
    articles in one call, as ``store_articles`` does."""

    def __init__(self, settings: Settings) -> None:
        self._encoder = open_encoder(settings, "cuda" if ray.get_gpu_ids() else "cpu")

    def __call__(self, batch: pa.Table) -> pa.Table:
        pickled = batch["prepared"].to_pylist()
        items: list[PreparedArticle] = [pickle.loads(p) for p in pickled if p]
        vectors = encode_articles(self._encoder, items)
        each, offset = iter(items), 0
        rows: list[bytes | None] = []
        for p in pickled:
            if not p:
                rows.append(None)
                continue
            count = text_count(next(each))
            rows.append(vectors[offset : offset + count].tobytes())
            offset += count
        return batch.append_column("vectors", pa.array(rows, pa.binary()))


def _encoder_gpus(settings: Settings) -> int:
    """A GPU for each encoder actor where the cluster has GPUs and the model runs on torch
    (the ONNX backends run on CPUs)."""
    gpus = ray.cluster_resources().get("GPU", 0)  # type: ignore[no-untyped-call]
    return int(settings.backend == "torch" and gpus >= 1)


class _ContentHashes:
    """Which article holds each text, across the shards: ``Admission``'s hash owner."""

    def __init__(self, stores: Iterable[Store]) -> None:
        self._hash_of: dict[str, str] = {}
        self._owner: dict[str, str] = {}
        for store in stores:
            for article_id, content_hash in store.catalogue.content_hashes():
                self.take(article_id, content_hash)

    def owner(self, content_hash: str) -> str | None:
        return self._owner.get(content_hash)

    def take(self, article_id: str, content_hash: str) -> None:
        self.drop(article_id)
        self._hash_of[article_id] = content_hash
        self._owner[content_hash] = article_id

    def drop(self, article_id: str) -> None:
        content_hash = self._hash_of.pop(article_id, None)
        if content_hash is not None and self._owner.get(content_hash) == article_id:
            del self._owner[content_hash]


@dataclass(frozen=True)
class _Read:
    """A candidate as its read-and-split task found it (an ``ArticleIdentity``)."""

    article_id: str
    content_hash: str
    warnings: tuple[str, ...]


@dataclass
class _Run:
    """One ingest's parts, as the driver holds them."""

    settings: Settings
    admission: Admission
    writers: ShardWriters
    hashes: _ContentHashes
    route: Callable[[str], str]

    def bring_in(self, candidates: Iterator[Candidate], may_wait: bool) -> None:
        """Read, decide on, encode and store ``candidates``, a window at a time."""
        while window := self._window(candidates):
            taken, rows = window
            # The writers start (a process each) while Ray Data starts its workers.
            self.writers.start(self.route(c.origin.article_id) for c in taken)
            for batch in self._encoded(rows):
                self._decide(taken, batch, may_wait)

    def _window(
        self, candidates: Iterator[Candidate]
    ) -> tuple[list[Candidate], ray.data.Dataset] | None:
        """The next candidates, up to ``cluster_window_bytes`` of them pickled, and the rows
        Ray Data reads them from, already in Ray's object store; None when none is left. A
        window is as large as the driver's memory allows, since each one is a Ray Data run of
        its own, whose encoder actors start (and load the model) anew."""
        taken: list[Candidate] = []
        rows: list[dict[str, Any]] = []
        size = 0
        for candidate in candidates:
            pickled = pickle.dumps(candidate)
            stored = self.admission.stored(candidate)
            rows.append(
                {
                    "position": len(taken),
                    "candidate": pickled,
                    "stored_hash": stored.content_hash if stored else "",
                }
            )
            taken.append(candidate)
            size += len(pickled)
            if size >= self.settings.cluster_window_bytes:
                break
        if not taken:
            return None
        blocks = math.ceil(len(rows) / self.settings.cluster_block_articles)
        return taken, ray.data.from_items(rows, override_num_blocks=blocks)

    def _encoded(self, rows: ray.data.Dataset) -> Iterator[pa.Table]:
        """The window's candidates read, split and encoded by Ray Data, in their order."""
        # An actor a block at most: an idle one is a warning.
        encoders = min(self.settings.cluster_encoders, rows.num_blocks())
        dataset = rows.map_batches(
            partial(_read_and_split, settings=self.settings),
            batch_format="pyarrow",
            batch_size=None,
        ).map_batches(
            _Encoding,
            batch_format="pyarrow",
            batch_size=None,
            fn_constructor_kwargs={"settings": self.settings},
            compute=ray.data.ActorPoolStrategy(size=encoders),
            num_cpus=_ENCODER_CPUS,
            num_gpus=_encoder_gpus(self.settings),
        )
        # Without a batch prefetched, each block reaches the writers as soon as it is encoded;
        # with one, Ray Data hands a block over only once the next is ready too, and the last
        # two blocks' writes wait for the end.
        yield from dataset.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0)

    def _decide(self, window: Sequence[Candidate], batch: pa.Table, may_wait: bool) -> None:
        stored: dict[str, list[tuple[bytes, bytes]]] = {}
        for row in batch.to_pylist():
            candidate = window[row["position"]]
            if row["error"] is not None:
                self.admission.skip(candidate, row["error"])
                continue
            read = _Read(row["article_id"], row["content_hash"], tuple(json.loads(row["warnings"])))
            verdict = self.admission.decide(candidate, read, may_wait=may_wait)
            shard = self.route(read.article_id)
            if verdict is Verdict.TOUCH:
                self.writers.touch(shard, candidate.origin)
            elif verdict is Verdict.STORE:
                stored.setdefault(shard, []).append((row["prepared"], row["vectors"]))
                self.hashes.take(read.article_id, read.content_hash)
        for shard, items in stored.items():
            self.writers.write(shard, items)


def _layout(
    data_dir: Path, shards: int | None
) -> tuple[ClusterManifest | None, list[str], list[str]]:
    """The cluster's manifest (None before its first ingest finished), and the shards' names
    and bucket map this ingest writes to: the manifest's, else those of ``shards`` shards (a
    new cluster, or one whose buckets move to another number of shards)."""
    if shards is not None and shards < 1:
        raise ClusterError("a cluster has one shard or more")
    previous = read_manifest(data_dir)
    if previous is not None:
        names = [shard.name for shard in previous.shards]
        moving_to = previous.resharding_to
        if moving_to is not None and shards not in (None, moving_to):
            raise ClusterError(
                f"{data_dir} is moving its buckets to {moving_to} shards: run the ingest again"
                f" with --shards {moving_to} to finish that first"
            )
        wanted = shards or moving_to or len(names)
        if wanted == len(names) and moving_to is None:
            return previous, names, previous.buckets
        target = shard_names(wanted)
        return previous, target, spread(target)
    if (data_dir / STORE_FILE).exists():
        raise ClusterError(f"{data_dir} holds a single archive: make the cluster in another folder")
    begun = sorted(p.name for p in data_dir.glob("shard-*") if p.is_dir())
    if shards is None:
        if not begun:
            raise ClusterError(
                f"{data_dir} is not a cluster yet: say how many shards to make (--shards N)"
            )
        shards = len(begun)
    names = shard_names(shards)
    if begun and begun != names:
        raise ClusterError(
            f"{data_dir} holds the unfinished first ingest of a cluster of {len(begun)}"
            f" shards: run it again with --shards {len(begun)}"
        )
    return None, names, spread(names)


def _move(
    data_dir: Path, previous: ClusterManifest, stores: dict[str, Store], buckets: list[str]
) -> None:
    """Move the buckets whose shard changed, the manifest saying so meanwhile: an ingest
    stopped midway leaves it so, and the next one to as many shards finishes the move."""
    if previous.resharding_to is None:
        marked = previous.model_copy(update={"resharding_to": len(set(buckets))})
        write_manifest(data_dir, marked)
    moved = move_buckets(data_dir, stores, buckets)
    log.info("moved %d articles to the shards their buckets now map to", moved)


def _shard_record(name: str, store: Store) -> ShardRecord:
    counts = store.catalogue.counts()
    return ShardRecord(name=name, data_generation=store.data_generation(), **counts)


def _manifest(
    previous: ClusterManifest | None,
    model: IndexModel,
    buckets: list[str],
    stores: dict[str, Store],
) -> ClusterManifest:
    """The manifest of the shards as they are now; its generation moves on only when
    something else in it did."""
    made = ClusterManifest(
        model=model.name,
        dimension=model.dimension,
        generation=previous.generation if previous else 1,
        shards=[_shard_record(name, store) for name, store in stores.items()],
        buckets=buckets,
        speaker_aliases=sorted(
            {pair for store in stores.values() for pair in store.reads.speaker_aliases()}
        ),
        content_hashes=dict(
            sorted(pair for store in stores.values() for pair in store.catalogue.content_hashes())
        ),
    )
    if previous is None or made == previous:
        return made
    return made.model_copy(update={"generation": previous.generation + 1})


def ingest_cluster(
    settings: Settings,
    *,
    shards: int | None = None,
    jsonl: Path | None = None,
    follow_links: bool = False,
    progress: bool = False,
) -> tuple[IngestReport, ClusterManifest]:
    """Bring the cluster folder ``settings.data_dir`` in line with the JSONL file ``jsonl``,
    or else the folder ``settings.seeds_dir``, as ``ingest_jsonl`` and ``ingest_directory``
    do an archive; a folder that is no cluster yet is made one of ``shards`` shards.

    Runs on the Ray this process is connected to (``qa.cluster.engine.ray_session``).
    """
    data_dir = settings.data_dir
    previous, names, buckets = _layout(data_dir, shards)
    if previous is not None and previous.resharding_to is None:
        for stray in previous.stray_folders(data_dir):  # no move under way: left by one
            shutil.rmtree(stray)
    # Loaded here first: the actors then find an ONNX export made, not each their own.
    encoder = open_encoder(settings)
    model = IndexModel(encoder.name, encoder.dimension)
    del encoder
    dropped = [s.name for s in previous.shards if s.name not in names] if previous else []
    for name in names:
        (data_dir / name).mkdir(parents=True, exist_ok=True)
    stores = {name: Store(data_dir / name / STORE_FILE) for name in [*names, *dropped]}
    try:
        for name, store in stores.items():
            IndexFolder(store, data_dir / name, model=model).check_model()
        if previous is not None and buckets != previous.buckets:
            _move(data_dir, previous, stores, buckets)
        kept = {name: stores[name] for name in names}
        report = _bring_in(settings, kept, model, buckets, jsonl, follow_links, progress)
        manifest = _manifest(previous, model, buckets, kept)
    finally:
        for store in stores.values():
            store.close()
    if manifest != previous:
        write_manifest(data_dir, manifest)
    for name in dropped:  # emptied by the move, and named by no manifest now
        shutil.rmtree(data_dir / name)
    return report, manifest


def _bring_in(
    settings: Settings,
    stores: dict[str, Store],
    model: IndexModel,
    buckets: list[str],
    jsonl: Path | None,
    follow_links: bool,
    progress: bool,
) -> IngestReport:
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    # Ray Data's account of each run (its plan, its timings) stays in the session's logs
    # unless progress is shown; its errors are raised here.
    logging.getLogger("ray.data").setLevel(logging.INFO if progress else logging.ERROR)
    report = IngestReport()
    known = {
        article_id: stored
        for store in stores.values()
        for article_id, stored in store.writes.stored_files().items()
    }
    candidates = (
        jsonl_candidates(jsonl, settings.max_file_bytes, report)
        if jsonl is not None
        else folder_candidates(
            settings.seeds_dir, known, settings.max_file_bytes, report, follow_links=follow_links
        )
    )
    hashes = _ContentHashes(stores.values())
    admission = Admission(known, candidates.owned, hashes.owner, report)

    def route(article_id: str) -> str:
        return buckets[bucket(article_id)]

    run_id = uuid.uuid4().hex[:8]
    with ShardWriters(settings.data_dir, model, index_config(settings), run_id) as writers:
        run = _Run(settings, admission, writers, hashes, route)
        run.bring_in((c for c in candidates.items if admission.needs_reading(c)), may_wait=True)
        for stored in admission.removals():
            writers.delete(route(stored.article_id), stored.article_id)
            hashes.drop(stored.article_id)
        run.bring_in(iter(admission.waiting), may_wait=False)
        writers.wait()
        behind = [
            name
            for name, store in stores.items()
            if indexes_behind(IndexFolder(store, settings.data_dir / name))
        ]
        writers.finish(behind)
    return report
