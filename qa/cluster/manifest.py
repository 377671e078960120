"""The cluster manifest: a cluster folder's shards, the map of buckets to them, and what spans
them (the model, the speakers' aliases, the articles' content hashes).

A cluster is a folder of shard folders, each an archive folder as ``dateline ingest`` makes
one, and ``cluster.json``, written atomically after every shard's store and indexes: it
vouches for the shards' data generations it names.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from embeddings.index import write_atomically
from qa.cluster.routing import BUCKETS, bucket
from qa.errors import NotAClusterError

__all__ = [
    "MANIFEST_FILE",
    "ClusterManifest",
    "ShardRecord",
    "load_manifest",
    "read_manifest",
    "write_manifest",
]

MANIFEST_FILE = "cluster.json"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShardRecord(_Record):
    """One shard as the manifest vouches for it."""

    name: str  # its folder in the cluster folder
    # Its store's data generation that its index files were built from: a shard whose store
    # has moved on since was written after this manifest.
    data_generation: int
    articles: int
    passages: int
    sentences: int


class ClusterManifest(_Record):
    format: int = 1
    model: str
    dimension: int
    generation: int  # counts the manifests written for this cluster
    shards: list[ShardRecord]
    # ``BUCKETS`` shard names, by bucket: ``routing.bucket(article_id)`` indexes it.
    buckets: list[str]
    # (alias, canonical name) across every shard, as ``PassageReads.speaker_aliases`` gives.
    speaker_aliases: list[tuple[str, str]]
    # Article id -> content hash across every shard: one text is stored once, under one id.
    content_hashes: dict[str, str]
    # Set while an ingest moves buckets to this many shards: the shards named here, under this
    # map, may not hold all of their articles until an ingest to as many shards finishes it.
    resharding_to: int | None = None

    @model_validator(mode="after")
    def _buckets_name_shards(self) -> Self:
        names = {shard.name for shard in self.shards}
        if len(names) != len(self.shards):
            raise ValueError("two shards of one name")
        if len(self.buckets) != BUCKETS or not set(self.buckets) <= names:
            raise ValueError(f"the bucket map must name one of the shards for each of {BUCKETS}")
        return self

    def shard_of(self, article_id: str) -> str:
        """The name of the shard that holds (or would hold) ``article_id``."""
        return self.buckets[bucket(article_id)]

    def shard_dir(self, data_dir: Path, name: str) -> Path:
        """A shard's archive folder: open it as an archive with ``data_dir`` set to it."""
        return data_dir / name

    def stray_folders(self, data_dir: Path) -> list[Path]:
        """Shard folders this manifest names no shard for: made by a move of buckets to more
        shards (until its new manifest names them), or emptied by one to fewer shards and
        stopped after its manifest was written, before they were removed."""
        named = {shard.name for shard in self.shards}
        return sorted(p for p in data_dir.glob("shard-*") if p.is_dir() and p.name not in named)

    def bucket_counts(self) -> dict[str, int]:
        """How many buckets each shard holds, by shard name."""
        held = Counter(self.buckets)
        return {shard.name: held[shard.name] for shard in self.shards}


def read_manifest(data_dir: Path) -> ClusterManifest | None:
    """The folder's cluster manifest; None when it has none (not a cluster, or the first
    ingest has not finished), NotAClusterError when it cannot be read."""
    path = data_dir / MANIFEST_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NotAClusterError(str(data_dir), f"{MANIFEST_FILE}: {exc.strerror}") from exc
    try:
        return ClusterManifest.model_validate_json(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise NotAClusterError(str(data_dir), f"{MANIFEST_FILE} is damaged: {problem}") from exc


def load_manifest(data_dir: Path) -> ClusterManifest:
    """The folder's cluster manifest, or NotAClusterError saying why there is none."""
    if not data_dir.is_dir():
        raise NotAClusterError(str(data_dir), "no such folder")
    manifest = read_manifest(data_dir)
    if manifest is None:
        raise NotAClusterError(str(data_dir), f"no {MANIFEST_FILE}")
    return manifest


def write_manifest(data_dir: Path, manifest: ClusterManifest) -> None:
    write_atomically(
        data_dir / MANIFEST_FILE, json.dumps(manifest.model_dump(mode="json"), indent=1).encode()
    )
