"""Ingest: article files or a JSONL file into the store and the derived indexes, incrementally."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from embeddings.encoder import Encoder
from embeddings.errors import ModelMismatchError
from embeddings.index import IndexConfig
from qa.articles import (
    Article,
    UnreadableArticleError,
    article_fields,
    parse_article,
    read_article,
)
from qa.indexes import build_indexes, manifest, stored_vector_indexes
from qa.passages import Passage, split_article
from qa.speakers import Person
from qa.store import SOURCE_FILE, SOURCE_JSONL, Store, StoredFile

__all__ = [
    "IngestReport",
    "PreparedArticle",
    "check_model",
    "ingest_directory",
    "ingest_jsonl",
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
# A JSONL line's id follows the API's rule for article ids (ArticleUpload in qa/api/models.py).
_ARTICLE_ID = re.compile(r"[\w.-]{1,200}")


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


@dataclass(frozen=True)
class _Candidate:
    """An article to bring in: where it comes from, and how to read it once it must be read."""

    label: str  # names it in warnings: its file, or its JSONL file and line
    origin: StoredFile  # content_hash empty: not read yet
    read: Callable[[], Article]


def _file_candidates(files: list[Path], max_file_bytes: int) -> Iterator[_Candidate]:
    for path in files:
        stat = path.stat()
        origin = StoredFile(path.stem, str(path), stat.st_size, stat.st_mtime_ns, "")
        yield _Candidate(str(path), origin, partial(read_article, path, max_file_bytes))


def _skip(report: IngestReport, label: str, reason: str) -> None:
    log.warning("skipped %s: %s", label, reason)
    report.skipped.append((label, reason))


def _jsonl_article(article_id: str, entry: dict[str, object], max_bytes: int) -> Article:
    text = entry.get("text")
    if not isinstance(text, str):
        raise UnreadableArticleError("no 'text' string")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise UnreadableArticleError(f"too large ({size:,} bytes; the limit is {max_bytes:,})")
    given, problems = article_fields(entry)
    if problems:
        raise UnreadableArticleError("; ".join(problems))
    return parse_article(article_id, text, given)


def _jsonl_candidates(path: Path, max_bytes: int, report: IngestReport) -> Iterator[_Candidate]:
    """One candidate per line with a usable id; every other line is skipped with its number.

    A line's size and the file's mtime stand in for a file's size and mtime: an untouched file
    is re-checked without parsing a text.
    """
    mtime_ns = path.stat().st_mtime_ns
    first_line: dict[str, int] = {}
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            label = f"{path} line {number}"
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except UnicodeDecodeError:
                _skip(report, label, "not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                _skip(report, label, f"not JSON ({exc.msg}, column {exc.colno})")
                continue
            except RecursionError:
                _skip(report, label, "not JSON (nested too deeply)")
                continue
            article_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(article_id, str) or not _ARTICLE_ID.fullmatch(article_id):
                _skip(report, label, "no 'id' string of 1-200 letters, digits, '_', '.', '-'")
                continue
            if article_id in first_line:
                _skip(
                    report, label, f"id {article_id!r} is already on line {first_line[article_id]}"
                )
                continue
            first_line[article_id] = number
            origin = StoredFile(article_id, str(path), len(raw), mtime_ns, "", SOURCE_JSONL)
            yield _Candidate(label, origin, partial(_jsonl_article, article_id, entry, max_bytes))


def _bring_in(
    candidates: Iterable[_Candidate],
    owned: Callable[[StoredFile], bool],
    store: Store,
    encoder: Encoder,
    report: IngestReport,
) -> None:
    """Add and update the candidates that changed, then remove the owned articles none of
    them named: the one pipeline of folder and JSONL ingest.

    Candidates are compared by size and mtime first and by content hash second.
    """
    known = store.stored_files()
    by_key = {f.key: f for f in known.values() if f.source}
    seen: set[tuple[str, str, str]] = set()
    pending_hashes: dict[str, str] = {}
    group: list[PreparedArticle] = []
    group_texts, group_limit = 0, _FIRST_GROUP_TEXTS
    with _encoding_beside(store, encoder) as encode_and_write:
        for candidate in candidates:
            current = candidate.origin
            stored = by_key.get(current.key)
            seen.add(current.key)
            if stored and (stored.size, stored.mtime_ns) == (current.size, current.mtime_ns):
                report.unchanged += 1
                continue
            try:
                article = candidate.read()
            except UnreadableArticleError as exc:
                _skip(report, candidate.label, str(exc))
                continue
            for warning in article.warnings:
                log.warning("%s: %s", candidate.label, warning)
            if stored and stored.content_hash == article.content_hash:
                store.touch(stored.article_id, current.size, current.mtime_ns)
                report.unchanged += 1
                continue
            owner = known.get(article.article_id)
            if owner is not None and (owner.kind, owner.source) != (current.kind, current.source):
                _skip(
                    report,
                    candidate.label,
                    f"article id {article.article_id!r} is already used by {owner.source}",
                )
                continue
            twin = store.article_with_hash(article.content_hash) or pending_hashes.get(
                article.content_hash
            )
            if twin is not None and twin != article.article_id:
                _skip(report, candidate.label, f"same text as article {twin!r}")
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
        if owned(stored) and stored.key not in seen:
            store.delete_article(stored.article_id)
            report.removed.append(stored.article_id)


def _build_indexes(
    store: Store,
    encoder: Encoder,
    data_dir: Path,
    index_config: IndexConfig | None,
    report: IngestReport,
) -> None:
    if report.changed or manifest(store) is None:
        bases = stored_vector_indexes(store, data_dir, index_config)
        build_indexes(store, data_dir, encoder.name, encoder.dimension, index_config, bases)


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

    def owned(stored: StoredFile) -> bool:
        return (
            stored.kind == SOURCE_FILE
            and stored.source is not None
            and Path(stored.source).parent == folder
        )

    files = _article_files(folder)
    candidates = tqdm(
        _file_candidates(files, max_file_bytes),
        desc="ingest",
        unit="file",
        total=len(files),
        disable=not progress or None,
        leave=False,
    )
    _bring_in(candidates, owned, store, encoder, report)
    _build_indexes(store, encoder, data_dir, index_config, report)
    return report


def ingest_jsonl(
    path: Path,
    store: Store,
    encoder: Encoder,
    data_dir: Path,
    max_article_bytes: int,
    *,
    index_config: IndexConfig | None = None,
    progress: bool = True,
) -> IngestReport:
    """Bring the store in line with a JSONL file, one article a line, as a folder is: new and
    changed articles in, and the articles an earlier run took from this file and this run
    did not find in it out. A line whose id is readable but whose article is not keeps the
    stored article of that id, as an unreadable file in a folder does.
    """
    check_model(store, encoder)
    path = path.resolve()
    report = IngestReport()

    def owned(stored: StoredFile) -> bool:
        return stored.kind == SOURCE_JSONL and stored.source == str(path)

    candidates = tqdm(
        _jsonl_candidates(path, max_article_bytes, report),
        desc="ingest",
        unit="line",
        disable=not progress or None,
        leave=False,
    )
    _bring_in(candidates, owned, store, encoder, report)
    _build_indexes(store, encoder, data_dir, index_config, report)
    return report
