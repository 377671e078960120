"""Ingest: article files into the store and the derived indexes, incrementally."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from embeddings.encoder import Encoder
from embeddings.errors import ModelMismatchError
from embeddings.index import IndexConfig
from qa.articles import Article, UnreadableArticleError, read_article
from qa.indexes import build_indexes, manifest, stored_vector_indexes
from qa.passages import Passage, split_article
from qa.speakers import Person
from qa.store import Store, StoredFile

__all__ = [
    "IngestReport",
    "PreparedArticle",
    "check_model",
    "ingest_directory",
    "prepare",
    "store_articles",
]

log = logging.getLogger(__name__)

# Articles are encoded together in groups of texts. The first group is small, so the encoder starts
# early; each next one is twice as large up to a cap, because the encoder sorts a group's texts by
# tokens and a larger group pads less (1,000 Reuters stories: groups of 512 texts run 18% more
# tokens than one sorted call, doubling groups up to 4,096 texts 3.5%). The cap keeps memory flat
# however big the corpus is.
_FIRST_GROUP_TEXTS = 512
_MAX_GROUP_TEXTS = 4096


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


def _same_model(a: str, b: str) -> bool:
    def canonical(name: str) -> str:
        return name.lower().removeprefix("sentence-transformers/")

    return canonical(a) == canonical(b)


def check_model(store: Store, encoder: Encoder) -> None:
    """Refuse to mix vectors of two models in one index."""
    record = manifest(store)
    if record is None:
        return
    if not _same_model(record["model"], encoder.name) or record["dimension"] != encoder.dimension:
        raise ModelMismatchError(
            record["model"], record["dimension"], encoder.name, encoder.dimension
        )


@dataclass(frozen=True)
class PreparedArticle:
    article: Article
    passages: list[Passage]
    people: dict[str, Person]
    source: StoredFile | None


def _encode_group(encoder: Encoder, group: Sequence[PreparedArticle]) -> npt.NDArray[np.float32]:
    """Passage and sentence vectors of a group of articles, from one encoder call."""
    texts: list[str] = []
    for item in group:
        texts.extend(p.text for p in item.passages)
        texts.extend(p.text[s.start : s.end] for p in item.passages for s in p.sentences)
    # A one-sentence paragraph is its own sentence: each distinct text is encoded once.
    distinct: dict[str, int] = {}
    rows = [distinct.setdefault(text, len(distinct)) for text in texts]
    vectors: npt.NDArray[np.float32] = encoder.encode(list(distinct))[rows]
    return vectors


def _write_group(
    store: Store, group: Sequence[PreparedArticle], vectors: npt.NDArray[np.float32]
) -> None:
    """Store a group's articles in one transaction (one commit, not one per article)."""
    offset = 0
    with store.transaction():
        for item in group:
            n_passages = len(item.passages)
            n_sentences = sum(len(p.sentences) for p in item.passages)
            passage_vectors = vectors[offset : offset + n_passages]
            sentence_vectors = vectors[offset + n_passages : offset + n_passages + n_sentences]
            offset += n_passages + n_sentences
            store.replace_article(
                item.article,
                item.passages,
                item.people,
                passage_vectors,
                sentence_vectors,
                item.source,
            )
    for item in group:  # once committed: every article reported stored survives a crash
        log.info("stored %s", item.article.article_id)


def store_articles(store: Store, encoder: Encoder, group: Sequence[PreparedArticle]) -> None:
    """Encode a group of articles in one call (passages and sentences) and write each one."""
    _write_group(store, group, _encode_group(encoder, group))


@contextmanager
def _encoding_beside(
    store: Store, encoder: Encoder
) -> Iterator[Callable[[list[PreparedArticle]], None]]:
    """A sink for groups: each is encoded on a second thread while this one reads, splits and
    writes the groups before and after it (the encoder leaves the GIL; the rest needs it).

    At most one group is encoding and one being prepared, so memory stays flat; groups are
    written in the order they came.
    """
    pending: tuple[list[PreparedArticle], Future[npt.NDArray[np.float32]]] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode") as encoding:

        def submit(group: list[PreparedArticle]) -> None:
            nonlocal pending
            following = (group, encoding.submit(_encode_group, encoder, group)) if group else None
            if pending is not None:
                _write_group(store, pending[0], pending[1].result())
            pending = following

        yield submit
        submit([])


def prepare(
    article: Article, encoder: Encoder, source: StoredFile | None = None
) -> PreparedArticle:
    passages, people = split_article(article, encoder.count_tokens, encoder.window_tokens)
    return PreparedArticle(article, passages, people, source)


def _article_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def ingest_directory(
    folder: Path,
    store: Store,
    encoder: Encoder,
    data_dir: Path,
    max_file_bytes: int,
    *,
    index_config: IndexConfig | None = None,
    progress: bool = True,
) -> IngestReport:
    """Bring the store in line with ``folder``: new and changed files in, deleted files out.

    Files are compared by size and mtime first and by content hash second, so an unchanged
    archive is re-checked without reading it.
    """
    check_model(store, encoder)
    # A file's source is its path in the resolved folder, not its own resolved path: a linked
    # file removed from the folder is then removed from the store, and one resolve serves all.
    folder = folder.resolve()
    report = IngestReport()
    known = store.stored_files()
    by_source = {f.source: f for f in known.values() if f.source}
    seen: set[str] = set()
    pending_hashes: dict[str, str] = {}
    group: list[PreparedArticle] = []
    group_texts, group_limit = 0, _FIRST_GROUP_TEXTS
    files = _article_files(folder)
    with _encoding_beside(store, encoder) as encode_and_write:
        for path in tqdm(
            files, desc="ingest", unit="file", disable=not progress or None, leave=False
        ):
            source = str(path)
            stat = path.stat()
            current = StoredFile(path.stem, source, stat.st_size, stat.st_mtime_ns, "")
            stored = by_source.get(source)
            seen.add(source)
            if stored and (stored.size, stored.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                report.unchanged += 1
                continue
            try:
                article = read_article(path, max_file_bytes)
            except UnreadableArticleError as exc:
                log.warning("skipped %s: %s", path, exc)
                report.skipped.append((str(path), str(exc)))
                continue
            for warning in article.warnings:
                log.warning("%s: %s", path, warning)
            if stored and stored.content_hash == article.content_hash:
                store.touch(stored.article_id, stat.st_size, stat.st_mtime_ns)
                report.unchanged += 1
                continue
            owner = known.get(article.article_id)
            if owner is not None and owner.source != source:
                reason = f"article id {article.article_id!r} is already used by {owner.source}"
                log.warning("skipped %s: %s", path, reason)
                report.skipped.append((str(path), reason))
                continue
            twin = store.article_with_hash(article.content_hash) or pending_hashes.get(
                article.content_hash
            )
            if twin is not None and twin != article.article_id:
                reason = f"same text as article {twin!r}"
                log.warning("skipped %s: %s", path, reason)
                report.skipped.append((str(path), reason))
                continue
            (report.updated if stored else report.added).append(article.article_id)
            pending_hashes[article.content_hash] = article.article_id
            item = prepare(article, encoder, current)
            group.append(item)
            group_texts += sum(1 + len(p.sentences) for p in item.passages)
            if group_texts >= group_limit:
                encode_and_write(group)
                group, group_texts = [], 0
                group_limit = min(2 * group_limit, _MAX_GROUP_TEXTS)
        encode_and_write(group)
    for stored in known.values():
        if stored.source and Path(stored.source).parent == folder and stored.source not in seen:
            store.delete_article(stored.article_id)
            report.removed.append(stored.article_id)
    if report.changed or manifest(store) is None:
        bases = stored_vector_indexes(store, data_dir, index_config)
        build_indexes(store, data_dir, encoder.name, encoder.dimension, index_config, bases)
    return report
