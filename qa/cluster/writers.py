"""A cluster ingest's writers: one actor a shard, on the driver's machine, where the cluster
folder is, that stores encoded articles through the store's own code and then builds the
shard's indexes.

Apart from ``qa.cluster.ingest`` so that a writer's process imports the store and the indexes,
not Ray Data's side of the ingest.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from embeddings.index import IndexConfig
from qa.indexes import IndexFolder
from qa.ingest import PreparedArticle, build_indexes, write_encoded
from qa.store import STORE_FILE, Store, StoredFile

__all__ = ["IndexModel", "ShardWriters"]

log = logging.getLogger(__name__)

# Writes sent to each shard's writer and not acknowledged yet, before the driver waits.
_WRITES_IN_FLIGHT = 4


@dataclass(frozen=True)
class IndexModel:
    """The model an index is built for (a ``qa.indexes.ModelIdentity``), without its weights."""

    name: str
    dimension: int


class _ShardWriter:
    """A shard's writer actor: during an ingest, the one process that writes its store."""

    def __init__(self, folder: str, model: IndexModel, config: IndexConfig | None) -> None:
        path = Path(folder)
        self._store = Store(path / STORE_FILE)
        self._indexes = IndexFolder(self._store, path, config, model)

    def write(self, items: list[tuple[bytes, bytes]]) -> list[str]:
        """Store encoded articles (pickled, with their vectors) in one transaction."""
        group: list[PreparedArticle] = [pickle.loads(prepared) for prepared, _ in items]
        joined = b"".join(vectors for _, vectors in items)
        vectors = np.frombuffer(joined, dtype=np.float32).reshape(-1, self._indexes.model.dimension)
        write_encoded(self._store, group, vectors)
        return [item.article.article_id for item in group]

    def touch(self, origin: StoredFile) -> None:
        self._store.writes.touch(origin.article_id, origin.size, origin.mtime_ns)

    def delete(self, article_id: str) -> None:
        self._store.writes.delete_article(article_id)

    def finish(self) -> None:
        """The shard's index files, built anew if the store moved on since they were."""
        build_indexes(self._indexes, changed=False)
        self._store.close()


class ShardWriters:
    """The shards' writer actors, each started when its shard first needs it, all on this
    machine (the cluster folder's), each restarted by Ray if it dies, its call retried."""

    def __init__(
        self, data_dir: Path, model: IndexModel, config: IndexConfig | None, run: str
    ) -> None:
        self._data_dir = data_dir
        self._model = model
        self._config = config
        self._run = run
        self._here = NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=False
        )
        self._actors: dict[str, Any] = {}
        self._pending: list[ray.ObjectRef[Any]] = []

    def start(self, shards: Iterable[str]) -> None:
        for shard in set(shards):
            self._actor(shard)

    def _actor(self, shard: str) -> Any:
        if shard not in self._actors:
            self._actors[shard] = (
                ray.remote(_ShardWriter)
                .options(
                    name=f"dateline-writer-{self._run}-{shard}",
                    num_cpus=0,
                    max_restarts=-1,
                    max_task_retries=-1,
                    scheduling_strategy=self._here,
                )
                .remote(str(self._data_dir / shard), self._model, self._config)
            )
        return self._actors[shard]

    def write(self, shard: str, items: list[tuple[bytes, bytes]]) -> None:
        self._send(self._actor(shard).write.remote(items))

    def touch(self, shard: str, origin: StoredFile) -> None:
        self._send(self._actor(shard).touch.remote(origin))

    def delete(self, shard: str, article_id: str) -> None:
        self._send(self._actor(shard).delete.remote(article_id))

    def _send(self, call: ray.ObjectRef[Any]) -> None:
        self._pending.append(call)
        limit = _WRITES_IN_FLIGHT * len(self._actors)
        if len(self._pending) > limit:
            done, self._pending = ray.wait(self._pending, num_returns=len(self._pending) - limit)
            self._settle(done)

    def _settle(self, calls: list[ray.ObjectRef[Any]]) -> None:
        for result in ray.get(calls):
            for article_id in result or ():  # once committed: it survives any crash
                log.info("stored %s", article_id)

    def wait(self) -> None:
        """Until every write sent is committed."""
        self._settle(self._pending)
        self._pending = []

    def finish(self, shards: Iterable[str]) -> None:
        """Each of ``shards`` and each shard written to brings its indexes up to its store."""
        self.wait()
        self.start(shards)
        ray.get([actor.finish.remote() for actor in self._actors.values()])

    def __enter__(self) -> ShardWriters:
        return self

    def __exit__(self, *_: object) -> None:
        """The actors go, the work done or not (a write they were doing rolls back)."""
        for actor in self._actors.values():
            ray.kill(actor)
        self._actors.clear()
