"""Ingest: article files or a JSONL file into the store and the derived indexes, incrementally."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from embeddings.encoder import Encoder
from embeddings.index import IndexConfig
from qa.articles import (
    Article,
    UnreadableArticleError,
    article_fields,
    parse_article,
    read_article,
)
from qa.indexes import IndexFolder
from qa.manifest import INDEX_FORMAT
from qa.passages import Passage, split_article
from qa.speakers import Person
from qa.store import SOURCE_FILE, SOURCE_JSONL, Store, StoredFile

__all__ = [
    "Admission",
    "ArticleIdentity",
    "Candidate",
    "Candidates",
    "IngestReport",
    "PreparedArticle",
    "Verdict",
    "build_indexes",
    "encode_articles",
    "folder_candidates",
    "indexes_behind",
    "ingest_directory",
    "ingest_jsonl",
    "jsonl_candidates",
    "prepare",
    "store_articles",
    "text_count",
    "write_encoded",
]

log = logging.getLogger(__name__)

# Articles are encoded together in groups of texts. The first group is small, so the encoder starts
# early; each next one is twice as large up to a cap, because the encoder sorts a group's texts by
# tokens and a larger group pads less (docs/benchmarks.md has the padding measured). The cap keeps
# memory flat however big the corpus is.
_FIRST_GROUP_TEXTS = 512
_MAX_GROUP_TEXTS = 4096
# A JSONL line's id follows the API's rule for article ids (ArticleUpload in qa/api/models.py).
_ARTICLE_ID = re.compile(r"[\w.-]{1,200}")
_MAX_ID_CHARS = 200
# A file name cut to fit an id keeps this many hex digits of its whole name's hash: two long
# names that differ only past the cut stay two articles.
_NAME_HASH_CHARS = 8


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


@dataclass(frozen=True)
class PreparedArticle:
    article: Article
    passages: list[Passage]
    people: dict[str, Person]
    source: StoredFile | None


def _texts(item: PreparedArticle) -> list[str]:
    """An article's texts to encode: each passage's, then its sentences', passage by passage."""
    return [
        text
        for p in item.passages
        for text in (p.text, *(p.text[s.start : s.end] for s in p.sentences))
    ]


def _rows(passage: Passage) -> int:
    """A passage's vectors: its own, and one for each of its sentences."""
    return 1 + len(passage.sentences)


def text_count(item: PreparedArticle) -> int:
    """An article's rows of vectors: ``encode_articles`` gives it this many."""
    return sum(_rows(p) for p in item.passages)


def _is_huge(item: PreparedArticle) -> bool:
    """Too many texts for a group: encoded alone, a part at a time as it is stored."""
    return text_count(item) > _MAX_GROUP_TEXTS


def _encode(encoder: Encoder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Each distinct text encoded once (a one-sentence paragraph is its own sentence), in calls
    of at most ``_MAX_GROUP_TEXTS``: the encoder tokenizes a call's texts all at once."""
    distinct: dict[str, int] = {}
    rows = [distinct.setdefault(text, len(distinct)) for text in texts]
    unique = list(distinct)
    encoded = np.empty((len(unique), encoder.dimension), dtype=np.float32)
    for start in range(0, len(unique), _MAX_GROUP_TEXTS):
        encoded[start : start + _MAX_GROUP_TEXTS] = encoder.encode(
            unique[start : start + _MAX_GROUP_TEXTS]
        )
    vectors: npt.NDArray[np.float32] = encoded[rows]
    return vectors


def encode_articles(encoder: Encoder, group: Sequence[PreparedArticle]) -> npt.NDArray[np.float32]:
    """The vectors of a group of articles' texts, in one encoder call: each article's rows in
    turn, passage by passage (its own, then its sentences'), as ``write_encoded`` takes them."""
    return _encode(encoder, [text for item in group for text in _texts(item)])


def _by_passage(
    item: PreparedArticle, vectors: npt.NDArray[np.float32]
) -> Iterator[npt.NDArray[np.float32]]:
    """Each passage's rows of ``vectors``: its own, then its sentences'."""
    offset = 0
    for passage in item.passages:
        yield vectors[offset : offset + _rows(passage)]
        offset += _rows(passage)


def _encoded_as_taken(encoder: Encoder, item: PreparedArticle) -> Iterator[npt.NDArray[np.float32]]:
    """A huge article's rows passage by passage, encoded ``_MAX_GROUP_TEXTS`` texts at a time
    as the store takes them: memory stays flat whatever one file's size."""
    batch: list[Passage] = []
    texts = 0
    for passage in item.passages:
        batch.append(passage)
        texts += _rows(passage)
        if texts >= _MAX_GROUP_TEXTS:
            yield from _encoded_part(encoder, replace(item, passages=batch))
            batch, texts = [], 0
    if batch:
        yield from _encoded_part(encoder, replace(item, passages=batch))


def _encoded_part(encoder: Encoder, part: PreparedArticle) -> Iterator[npt.NDArray[np.float32]]:
    return _by_passage(part, encode_articles(encoder, [part]))


def write_encoded(
    store: Store, group: Sequence[PreparedArticle], vectors: npt.NDArray[np.float32]
) -> None:
    """Store a group's articles with the vectors ``encode_articles`` gave them, in one
    transaction (one commit, not one per article)."""
    offset = 0
    with store.transaction():
        for item in group:
            size = text_count(item)
            _store(store, item, _by_passage(item, vectors[offset : offset + size]))
            offset += size
    _stored(group)


def _write_huge(store: Store, encoder: Encoder, item: PreparedArticle) -> None:
    with store.transaction():
        _store(store, item, _encoded_as_taken(encoder, item))
    _stored([item])


def _store(store: Store, item: PreparedArticle, vectors: Iterator[npt.NDArray[np.float32]]) -> None:
    store.writes.replace_article(item.article, item.passages, item.people, vectors, item.source)


def _stored(group: Sequence[PreparedArticle]) -> None:
    for item in group:  # once committed: every article reported stored survives a crash
        log.info("stored %s", item.article.article_id)


def store_articles(store: Store, encoder: Encoder, group: Sequence[PreparedArticle]) -> None:
    """Encode a group of articles in one call (passages and sentences) and write each one."""
    write_encoded(store, group, encode_articles(encoder, group))


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
            huge = len(group) == 1 and _is_huge(group[0])
            following = (
                (group, encoding.submit(encode_articles, encoder, group))
                if group and not huge
                else None
            )
            if pending is not None:
                write_encoded(store, pending[0], pending[1].result())
            pending = following
            if huge:
                _write_huge(store, encoder, group[0])

        yield submit
        submit([])


def prepare(
    article: Article, encoder: Encoder, source: StoredFile | None = None
) -> PreparedArticle:
    passages, people = split_article(article, encoder.count_tokens, encoder.window_tokens)
    return PreparedArticle(article, passages, people, source)


def _is_id_character(character: str) -> bool:
    """A character that both the API's ``[\\w.-]`` pattern (Rust's Unicode classes) and
    ``_ARTICLE_ID`` (Python's) accept: ASCII letters, digits, '_', '.', '-', and any other
    letter or decimal digit."""
    if character.isascii():
        return character.isalnum() or character in "_.-"
    category = unicodedata.category(character)
    return category.startswith("L") or category == "Nd"


def _file_article_id(stem: str) -> str:
    """A file's article id: its stem when that is a valid id, so that its citation links and
    API paths work; otherwise the stem composed (NFC), each run of other characters made one
    '_', and cut to 200 characters with a hash of the whole stem, so that two long names that
    differ past the cut stay two articles. It depends on the name alone: a file keeps its id
    on every ingest."""
    composed = unicodedata.normalize("NFC", stem)
    article_id = "".join(
        "".join(run) if valid else "_" for valid, run in groupby(composed, _is_id_character)
    )
    if len(article_id) > _MAX_ID_CHARS:
        # surrogateescape: a name that is not UTF-8 holds lone surrogates in Python.
        whole = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()
        kept = _MAX_ID_CHARS - _NAME_HASH_CHARS - 1
        article_id = f"{article_id[:kept]}_{whole[:_NAME_HASH_CHARS]}"
    return article_id


@dataclass(frozen=True)
class _ArticleFile:
    """A file of the folder: its path there (its source), the regular file to read (where a
    link leads), and its article id."""

    path: Path
    target: Path
    article_id: str


def _article_files(folder: Path, follow_links: bool, report: IngestReport) -> list[_ArticleFile]:
    """The folder's files by name, hidden ones and folders left out; a link that leads out of
    the folder is skipped with a warning unless ``follow_links``: a link dropped into the
    folder must not publish /etc/passwd."""
    files: list[_ArticleFile] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        if not follow_links and not target.is_relative_to(folder):
            _skip(report, str(path), f"a link to {target}, outside {folder} (see --follow-links)")
            continue
        files.append(_ArticleFile(path, target, _file_article_id(path.stem)))
    return files


def _one_file_per_id(
    files: list[_ArticleFile], known: dict[str, StoredFile], report: IngestReport
) -> list[_ArticleFile]:
    """Files whose names make the same id ("dup.txt", "dup.md"; "a b", "a?b") would overwrite
    each other: the one stored under the id keeps it, else the first by name, and the others
    are skipped with a warning. So the choice is the same on every run."""
    holder: dict[str, _ArticleFile] = {}
    for file in files:
        stored = known.get(file.article_id)
        if stored is not None and (stored.kind, stored.source) == (SOURCE_FILE, str(file.path)):
            holder[file.article_id] = file
    kept: list[_ArticleFile] = []
    for file in files:
        first = holder.setdefault(file.article_id, file)
        if first is file:
            kept.append(file)
        else:
            _skip(
                report,
                str(file.path),
                f"its article id {file.article_id!r} is taken by {first.path}",
            )
    return kept


@dataclass(frozen=True)
class Candidate:
    """An article to bring in: where it comes from, and how to read it once it must be read.

    It pickles (its reader is a partial of a module's function), so that a cluster ingest
    reads it on another machine."""

    label: str  # names it in warnings: its file, or its JSONL file and line
    origin: StoredFile  # content_hash empty: not read yet
    read: Callable[[], Article]
    warnings: tuple[str, ...] = ()  # said once it is read, with the article's own


@dataclass(frozen=True)
class Candidates:
    """What an ingest's source offers: its candidates (a stream), how many when that is known,
    and which stored articles it owns: those it no longer names are removed."""

    items: Iterator[Candidate]
    owned: Callable[[StoredFile], bool]
    unit: str
    total: int | None = None


def _file_candidates(
    files: list[_ArticleFile], max_file_bytes: int, report: IngestReport
) -> Iterator[Candidate]:
    for file in files:
        try:
            status = file.target.stat()
        except FileNotFoundError:
            _skip(report, str(file.path), "gone (deleted while ingest ran, or a broken link)")
            continue
        except OSError as exc:
            _skip(report, str(file.path), f"cannot be read ({exc.strerror})")
            continue
        origin = StoredFile(file.article_id, str(file.path), status.st_size, status.st_mtime_ns, "")
        renamed = (
            ()
            if file.article_id == file.path.stem
            else (
                f"stored as article id {file.article_id!r}: an id is 1-200 letters, digits, "
                "'_', '.', '-'",
            )
        )
        read = partial(read_article, file.target, max_file_bytes, file.article_id)
        yield Candidate(str(file.path), origin, read, renamed)


def folder_candidates(
    folder: Path,
    known: dict[str, StoredFile],
    max_file_bytes: int,
    report: IngestReport,
    *,
    follow_links: bool = False,
) -> Candidates:
    """The files of ``folder``, by name; ``known`` (the stored files by id) settles which of
    two files of one id keeps it. The folder's stored articles are its own."""
    # A file's source is its path in the resolved folder, not its own resolved path: a linked
    # file removed from the folder is then removed from the store, and one resolve serves all.
    folder = folder.resolve()

    def owned(stored: StoredFile) -> bool:
        return (
            stored.kind == SOURCE_FILE
            and stored.source is not None
            and Path(stored.source).parent == folder
        )

    files = _one_file_per_id(_article_files(folder, follow_links, report), known, report)
    return Candidates(_file_candidates(files, max_file_bytes, report), owned, "file", len(files))


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


def _jsonl_lines(path: Path, max_bytes: int, report: IngestReport) -> Iterator[Candidate]:
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
            yield Candidate(label, origin, partial(_jsonl_article, article_id, entry, max_bytes))


def jsonl_candidates(path: Path, max_bytes: int, report: IngestReport) -> Candidates:
    """The lines of a JSONL file, one article a line; the articles an earlier ingest took from
    this file are its own."""
    path = path.resolve()

    def owned(stored: StoredFile) -> bool:
        return stored.kind == SOURCE_JSONL and stored.source == str(path)

    return Candidates(_jsonl_lines(path, max_bytes, report), owned, "line")


class ArticleIdentity(Protocol):
    """What admission reads of an article (an ``Article`` is one): its id, its text's hash,
    and what its reading warned of."""

    @property
    def article_id(self) -> str: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...


class Verdict(Enum):
    STORE = "store"  # new or changed: prepare, encode and store it
    TOUCH = "touch"  # the stored text under a new size or mtime: record them, nothing else
    WAIT = "wait"  # held for the removals (``Admission.waiting``), then decided again
    SKIP = "skip"  # said as a warning and left out


class Admission:
    """What an ingest does with each candidate, in the order they come: the rules shared by
    the single archive's ingest and a cluster's.

    Candidates are compared by size and mtime first (``needs_reading``) and by content hash
    second (``decide``). One whose id or text belongs to an owned article not named yet waits
    for the removals: a renamed file takes over from its old name in one run.
    ``hash_owner`` names the stored article of a content hash.
    """

    def __init__(
        self,
        known: dict[str, StoredFile],
        owned: Callable[[StoredFile], bool],
        hash_owner: Callable[[str], str | None],
        report: IngestReport,
    ) -> None:
        self.known = known
        self.report = report
        self.waiting: list[Candidate] = []
        self._owned = owned
        self._hash_owner = hash_owner
        self._by_key = {f.key: f for f in known.values() if f.source}
        self._seen: set[tuple[str, str, str]] = set()
        self._pending_hashes: dict[str, str] = {}

    def stored(self, candidate: Candidate) -> StoredFile | None:
        """The stored article this candidate was read into last time, if any."""
        return self._by_key.get(candidate.origin.key)

    def needs_reading(self, candidate: Candidate) -> bool:
        """False for a candidate whose size and mtime are the stored ones (it is unchanged)."""
        current = candidate.origin
        stored = self._by_key.get(current.key)
        self._seen.add(current.key)
        if stored and (stored.size, stored.mtime_ns) == (current.size, current.mtime_ns):
            self.report.unchanged += 1
            return False
        return True

    def skip(self, candidate: Candidate, reason: str) -> None:
        _skip(self.report, candidate.label, reason)

    def decide(self, candidate: Candidate, article: ArticleIdentity, *, may_wait: bool) -> Verdict:
        """The verdict on a candidate that was read; a stored one is counted and reported."""
        current = candidate.origin
        stored = self._by_key.get(current.key)
        if stored and stored.content_hash == article.content_hash:
            self.report.unchanged += 1
            return Verdict.TOUCH
        owner = self.known.get(article.article_id)
        twin = self._hash_owner(article.content_hash) or self._pending_hashes.get(
            article.content_hash
        )
        blocker, reason = None, None
        if owner is not None and (owner.kind, owner.source) != (current.kind, current.source):
            blocker = owner
            reason = f"article id {article.article_id!r} is already used by {owner.source}"
        elif twin is not None and twin != article.article_id:
            blocker, reason = self.known.get(twin), f"same text as article {twin!r}"
        if (
            may_wait
            and blocker is not None
            and self._owned(blocker)
            and blocker.key not in self._seen
        ):
            self.waiting.append(candidate)
            return Verdict.WAIT
        for warning in (*candidate.warnings, *article.warnings):
            log.warning("%s: %s", candidate.label, warning)
        if reason is not None:
            _skip(self.report, candidate.label, reason)
            return Verdict.SKIP
        (self.report.updated if stored else self.report.added).append(article.article_id)
        self._pending_hashes[article.content_hash] = article.article_id
        return Verdict.STORE

    def removals(self) -> list[StoredFile]:
        """The owned articles no candidate named, reported removed: the caller deletes them."""
        gone = [s for s in self.known.values() if self._owned(s) and s.key not in self._seen]
        for stored in gone:
            self.report.removed.append(stored.article_id)
            del self.known[stored.article_id]
        return gone


def _bring_in(
    candidates: Iterable[Candidate], admission: Admission, store: Store, encoder: Encoder
) -> None:
    """Add and update the candidates that changed, then remove the owned articles none of
    them named, then take the candidates that waited for that: the one pipeline of folder and
    JSONL ingest."""

    def admit(candidate: Candidate, may_wait: bool) -> PreparedArticle | None:
        """The candidate ready to store, or None: unchanged, skipped or waiting."""
        if not admission.needs_reading(candidate):
            return None
        try:
            article = candidate.read()
        except UnreadableArticleError as exc:
            admission.skip(candidate, str(exc))
            return None
        verdict = admission.decide(candidate, article, may_wait=may_wait)
        if verdict is Verdict.TOUCH:
            origin = candidate.origin
            store.writes.touch(origin.article_id, origin.size, origin.mtime_ns)
        return prepare(article, encoder, candidate.origin) if verdict is Verdict.STORE else None

    group: list[PreparedArticle] = []
    group_texts, group_limit = 0, _FIRST_GROUP_TEXTS
    with _encoding_beside(store, encoder) as encode_and_write:

        def offer(item: PreparedArticle | None) -> None:
            nonlocal group, group_texts, group_limit
            if item is None:
                return
            if _is_huge(item):
                encode_and_write(group)
                group, group_texts = [], 0
                encode_and_write([item])
                return
            group.append(item)
            group_texts += text_count(item)
            if group_texts >= group_limit:
                encode_and_write(group)
                group, group_texts = [], 0
                group_limit = min(2 * group_limit, _MAX_GROUP_TEXTS)

        for candidate in candidates:
            offer(admit(candidate, may_wait=True))
        for stored in admission.removals():
            store.writes.delete_article(stored.article_id)
        for candidate in admission.waiting:
            offer(admit(candidate, may_wait=False))
        encode_and_write(group)


def indexes_behind(folder: IndexFolder) -> bool:
    """Whether the folder has no index files yet, files older than its store (an ingest
    stopped between its writes and them), or files of an earlier format (an ingest brings
    them up to this version even when no article changed)."""
    manifest = folder.manifest()
    return (
        manifest is None
        or manifest.data_generation != folder.store.data_generation()
        or manifest.format != INDEX_FORMAT
    )


def build_indexes(folder: IndexFolder, changed: bool) -> None:
    """New index files when the store changed (extending those it has), or when they are
    behind it."""
    if changed or indexes_behind(folder):
        folder.persist(folder.updated())


def _ingest(
    candidates: Candidates,
    store: Store,
    encoder: Encoder,
    index_folder: IndexFolder,
    report: IngestReport,
    progress: bool,
) -> IngestReport:
    admission = Admission(
        store.writes.stored_files(), candidates.owned, store.writes.article_with_hash, report
    )
    shown = tqdm(
        candidates.items,
        desc="ingest",
        unit=candidates.unit,
        total=candidates.total,
        disable=not progress or None,
        leave=False,
    )
    _bring_in(shown, admission, store, encoder)
    build_indexes(index_folder, report.changed)
    return report


def ingest_directory(
    folder: Path,
    store: Store,
    encoder: Encoder,
    data_dir: Path,
    max_file_bytes: int,
    *,
    index_config: IndexConfig | None = None,
    progress: bool = True,
    follow_links: bool = False,
) -> IngestReport:
    """Bring the store in line with ``folder``: new and changed files in, deleted files out.

    Files are compared by size and mtime first and by content hash second, so an unchanged
    archive is re-checked without reading it. Links that lead out of the folder are read only
    with ``follow_links``.
    """
    index_folder = IndexFolder(store, data_dir, index_config, encoder)
    index_folder.check_model()
    report = IngestReport()
    candidates = folder_candidates(
        folder, store.writes.stored_files(), max_file_bytes, report, follow_links=follow_links
    )
    return _ingest(candidates, store, encoder, index_folder, report, progress)


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
    index_folder = IndexFolder(store, data_dir, index_config, encoder)
    index_folder.check_model()
    report = IngestReport()
    candidates = jsonl_candidates(path, max_article_bytes, report)
    return _ingest(candidates, store, encoder, index_folder, report, progress)
