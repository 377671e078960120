"""Which shard holds an article: its id's virtual bucket, and the buckets' map to shards.

Articles are routed as Elasticsearch routes documents, by a hash of their id modulo a fixed
number of buckets; the buckets, not the articles, are assigned to shards, so a rebalance moves
whole buckets and a shard's articles never need to be listed to find where one belongs.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

__all__ = ["BUCKETS", "bucket", "shard_names", "spread"]

BUCKETS = 1024


def bucket(article_id: str) -> int:
    """The article's bucket: CRC-32 of its id's UTF-8, modulo ``BUCKETS``."""
    return zlib.crc32(article_id.encode("utf-8")) % BUCKETS


def shard_names(count: int) -> list[str]:
    """The folder names of a new cluster's shards: shard-000, shard-001, ..."""
    return [f"shard-{index:03d}" for index in range(count)]


def spread(shards: Sequence[str]) -> list[str]:
    """A new cluster's map of every bucket to a shard, round robin: each shard gets an equal
    share of the buckets (and so of the articles), one more for the first ones when the
    shards do not divide ``BUCKETS``."""
    return [shards[index % len(shards)] for index in range(BUCKETS)]
