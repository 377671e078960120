"""``python -m bench delete``: deleting and replacing single articles in the Reuters archive,
tombstones against a rebuild at every write.

Two copies of the whole Reuters archive (ingested once with torch and cached: a delete encodes
nothing) are opened side by side. One keeps the default compaction share: a delete leaves
tombstones that searches skip, and writes no index file. The other has the share at 0: every
delete rebuilds both HNSW graphs and BM25 and rewrites every index file, as every delete did
before tombstones. The same articles, picked at random, are deleted from both, one at a time,
the two archives taking turns (first one, then the other) so that the VM's fast and slow spells
fall on both; then a few others are replaced by a changed text. The table shows each write's
median, p90 and slowest time, the JSON line the same.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import reuters
from bench.report import emit, table
from qa.archive import Archive
from qa.factories import open_encoder
from qa.settings import Settings

__all__ = ["main"]

DELETES = 12
REPLACES = 3
SEED = 20261127
VARIANTS = {"tombstones": Settings().index_compaction_share, "rebuild": 0.0}


def _summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples_ms), 1),
        "p90": round(float(np.percentile(samples_ms, 90)), 1),
        "max": round(max(samples_ms), 1),
    }


def _timed(write: Callable[[Archive, str], object], archive: Archive, item: str) -> float:
    started = time.perf_counter()
    write(archive, item)
    return (time.perf_counter() - started) * 1000


def _alternately(
    archives: dict[str, Archive], items: list[str], write: Callable[[Archive, str], object]
) -> dict[str, list[float]]:
    """Each item written to every archive, the order of the archives turning each time."""
    names = list(archives)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for turn, item in enumerate(items):
        for name in names[turn % 2 :] + names[: turn % 2]:
            samples[name].append(_timed(write, archives[name], item))
    return samples


def _titles(article_ids: list[str]) -> dict[str, str]:
    """Each article's headline asked as a question (the known-item queries of bench latency)."""
    reuters.article_files()
    titles = json.loads((reuters.CACHE / "reuters" / "titles.json").read_text())
    return {i: f"What is the news on {titles[i].lower()}?" for i in article_ids if titles.get(i)}


def _found(archive: Archive, questions: dict[str, str]) -> int:
    """How many of the articles are among the top 10 hits of their own headline."""
    return sum(
        article_id in {hit.article_id for hit in archive.search(question, 10)}
        for article_id, question in questions.items()
    )


def _changed(article_id: str) -> str:
    text = (reuters.article_files() / f"{article_id}.txt").read_text(encoding="utf-8")
    return f"{text}The figures were revised on Friday, officials said.\n"


def main() -> None:
    source = reuters.ingested_archive("torch")
    with tempfile.TemporaryDirectory(prefix="dateline-delete-") as tmp:
        archives = {}
        encoder = open_encoder(Settings(backend="torch"))
        for name, share in VARIANTS.items():
            data_dir = Path(tmp) / name
            shutil.copytree(source, data_dir)
            settings = Settings(data_dir=data_dir, backend="torch", index_compaction_share=share)
            archives[name] = Archive.open(settings, encoder)
        try:
            first = next(iter(archives.values()))
            counts = first.store.catalogue.counts()
            ids = sorted(first.store.writes.stored_files())
            picked = random.Random(SEED).sample(ids, DELETES + REPLACES)
            deleted, replaced = picked[:DELETES], picked[DELETES:]
            questions = _titles(deleted)
            found_before = _found(first, questions)
            print(
                f"  {counts['articles']:,} articles, {counts['passages']:,} passages,"
                f" {counts['sentences']:,} sentences; deleting {DELETES}, replacing {REPLACES}",
                flush=True,
            )
            deletes = _alternately(archives, deleted, Archive.delete_article)
            replaces = _alternately(
                archives, replaced, lambda archive, item: archive.put_article(item, _changed(item))
            )
            found = {name: _found(archive, questions) for name, archive in archives.items()}
            tombstones = archives["tombstones"].indexes
            held = {
                "passages": tombstones.passages.deleted,
                "sentences": tombstones.sentences.deleted,
            }
        finally:
            for archive in archives.values():
                archive.close()
    figures = {
        name: {"delete_ms": _summary(deletes[name]), "replace_ms": _summary(replaces[name])}
        for name in VARIANTS
    }
    table(
        f"One article at a time, Reuters ({counts['passages']:,} passages), ms per write",
        ["variant", "write", "n", "median", "p90", "max"],
        [
            (name, write, len(samples[name]), *figures[name][f"{write}_ms"].values())
            for name in VARIANTS
            for write, samples in (("delete", deletes), ("replace", replaces))
        ],
    )
    speedup = (
        figures["rebuild"]["delete_ms"]["median"] / figures["tombstones"]["delete_ms"]["median"]
    )
    print(
        f"  median delete {speedup:,.0f}x faster with tombstones; tombstones held: {held};"
        f" deleted articles in the top 10 of their headline: {found_before} of"
        f" {len(questions)} before, {found} after"
    )
    emit(
        {
            "benchmark": "delete",
            "archive": counts,
            "deletes": DELETES,
            "replaces": REPLACES,
            **figures,
            "delete_speedup": round(speedup, 1),
            "tombstones_held": held,
            "deleted_found_before": found_before,
            "deleted_found_after": found,
        }
    )
