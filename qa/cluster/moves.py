"""Moving whole buckets between a cluster's shards, when the number of shards changes.

A shard's store holds every article's rows with their vectors, so an article moves by copying
its rows into the store of the shard its bucket now maps to (``ArticleWrites.copy_articles``)
and deleting it where it was: nothing is encoded again. A copy replaces an article already
there, so a move stopped midway (an article in both shards) is finished by running it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from qa.cluster.routing import bucket
from qa.store import STORE_FILE, Store

__all__ = ["move_buckets"]


def move_buckets(data_dir: Path, stores: Mapping[str, Store], buckets: list[str]) -> int:
    """Put every article of ``stores`` (by shard name, each under ``data_dir``) in the shard
    that ``buckets`` maps its bucket to; returns how many moved. Each shard's index files
    are left behind its store, for the caller to bring up to it."""
    moved = 0
    for name, store in stores.items():
        leaving: dict[str, list[str]] = defaultdict(list)
        for article_id, _ in store.catalogue.content_hashes():
            owner = buckets[bucket(article_id)]
            if owner != name:
                leaving[owner].append(article_id)
        for owner, article_ids in leaving.items():
            stores[owner].writes.copy_articles(data_dir / name / STORE_FILE, article_ids)
            with store.transaction():
                for article_id in article_ids:
                    store.writes.delete_article(article_id)
            moved += len(article_ids)
    return moved
