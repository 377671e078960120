"""A cluster folder made from an ingested archive: its articles copied by bucket into shards,
rows and vectors as they are (nothing encoded again), and the cluster manifest written last.

The cluster then holds the archive's very vectors, so both rank alike: what the cluster tests
and the cluster benchmark compare.
"""

from __future__ import annotations

from pathlib import Path

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.cluster.manifest import ClusterManifest, ShardRecord, write_manifest
from qa.cluster.routing import bucket, shard_names, spread
from qa.factories import open_store
from qa.settings import Settings
from qa.store import STORE_FILE

__all__ = ["split_archive"]


def split_archive(single: Settings, shards: int, folder: Path, encoder: Encoder) -> Path:
    """``folder`` made a cluster of ``shards`` shards holding the articles of the archive at
    ``single.data_dir``, each shard's indexes built, as an ingest leaves a cluster."""
    source = Archive.open(single, encoder)
    hashes = dict(source.store.catalogue.content_hashes())
    source.close()
    names = shard_names(shards)
    buckets = spread(names)
    records, aliases = [], set()
    for name in names:
        settings = single.model_copy(update={"data_dir": folder / name})
        store = open_store(settings)
        store.writes.copy_articles(
            single.data_dir / STORE_FILE, [a for a in hashes if buckets[bucket(a)] == name]
        )
        store.close()
        shard = Archive.open(settings, encoder)  # builds its indexes from the copied rows
        counts = shard.store.catalogue.counts()
        aliases |= set(shard.store.reads.speaker_aliases())
        records.append(ShardRecord(name=name, data_generation=shard.indexes.generation, **counts))
        shard.close()
    manifest = ClusterManifest(
        model=single.model,
        dimension=encoder.dimension,
        generation=1,
        shards=records,
        buckets=buckets,
        speaker_aliases=sorted(aliases),
        content_hashes=hashes,
    )
    write_manifest(folder, manifest)
    return folder
