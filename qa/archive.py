"""The archive as one object: encoder, store and indexes wired together to answer and search.

Readers and writers meet in one place. A reader takes the current ``Snapshot`` (indexes,
speakers, ranker: ``qa.reading`` answers from it) and opens a read snapshot of the store under
one short lock, so the ids its ranker returns are always rows its snapshot can read: it sees the
archive before an update or after it, never a mix. A writer (one at a time) encodes, writes in
one SQLite transaction and derives new indexes while readers carry on, then commits and swaps
the snapshot under that same lock.

Another process may write too (a second server worker, a CLI ingest): a reader whose snapshot
is newer than its view starts a reload of the index files that process wrote, in the
background, and answers from the current view meanwhile.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date

from embeddings.encoder import Encoder
from embeddings.errors import IndexFileError
from qa import reading
from qa.answer import Composition
from qa.articles import parse_article
from qa.errors import (
    ArticleNotFoundError,
    DiskFullError,
    DuplicateArticleError,
    IndexNotBuiltError,
    StoreDamagedError,
)
from qa.factories import index_config, open_encoder, open_store
from qa.faults import root_cause, storage_error, storage_errors
from qa.indexes import Indexes, IndexFolder
from qa.ingest import prepare, store_articles
from qa.questions import Question, SpeakerIndex
from qa.reading import QuestionVectors, Snapshot
from qa.retrieval import HybridRanker
from qa.schema import Answer, HistoryTurn, SearchFilters, SearchHit
from qa.settings import Settings
from qa.store import STORE_FILE, Store

__all__ = ["Archive"]

log = logging.getLogger(__name__)


class Archive:
    """Answers questions from an ingested archive. Build it with ``Archive.open``."""

    def __init__(
        self,
        settings: Settings,
        encoder: Encoder,
        store: Store,
        index_folder: IndexFolder,
        indexes: Indexes,
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.store = store
        # The one that loaded ``indexes``: it knows which of them its files already hold.
        self.index_folder = index_folder
        self._swap = threading.Lock()
        self._writer = threading.Lock()
        self._reloading = threading.Lock()
        self._vectors = QuestionVectors(encoder)
        self._view = self._make_view(indexes)
        # Why the index files are behind the store, after a committed write could not save them.
        self.unsaved_indexes: str | None = None

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> Archive:
        """Load model, store and indexes; damaged, stale or missing indexes are rebuilt.

        A store with articles but no manifest is an ingest killed before its first index: its
        committed articles are kept and indexed. A damaged store is refused, with its remedy.
        """
        if not (settings.data_dir / STORE_FILE).is_file():  # nothing made where nothing is
            raise IndexNotBuiltError(str(settings.data_dir))
        store = open_store(settings)
        try:
            with storage_errors(settings.data_dir):
                damage = store.quick_check()
                if damage != "ok":
                    raise StoreDamagedError(damage)
                unindexed = IndexFolder(store, settings.data_dir).manifest() is None
                if unindexed and not store.catalogue.counts()["articles"]:
                    raise IndexNotBuiltError(str(settings.data_dir))
            encoder = encoder or open_encoder(settings)
            with storage_errors(settings.data_dir):
                folder = IndexFolder(store, settings.data_dir, index_config(settings), encoder)
                folder.check_model()
                indexes, unsaved = folder.load()
        except BaseException:
            store.close()
            raise
        archive = cls(settings, encoder, store, folder, indexes)
        archive.unsaved_indexes = unsaved
        return archive

    @property
    def indexes(self) -> Indexes:
        return self._view.indexes

    def warnings(self) -> list[str]:
        """What an operator should know though the archive answers."""
        found = []
        if self.store.read_only:
            found.append("the archive's folder is read-only: it answers but takes no writes")
        if self.unsaved_indexes is not None:
            found.append(
                f"the index files are behind the store ({self.unsaved_indexes}); answers come"
                " from memory, and the files are saved at the next write or start"
            )
        return found

    def _make_view(self, indexes: Indexes) -> Snapshot:
        ranker = HybridRanker(
            indexes.passages,
            indexes.sentences,
            indexes.lexical,
            self.settings.candidates,
            self.settings.lexical_weight,
        )
        speakers = SpeakerIndex(self.store.reads.speaker_aliases())
        return Snapshot(self.settings, indexes, speakers, ranker, self.store.reads, self._vectors)

    @contextmanager
    def reading(self) -> Iterator[Snapshot]:
        """The current snapshot, its store reads as of its data generation until the block
        ends."""
        with ExitStack() as stack:
            with self._swap:
                view = self._view
                generation = stack.enter_context(self.store.snapshot())
            if generation > view.indexes.generation and self._reloading.acquire(blocking=False):
                threading.Thread(target=self._reload, name="index-reload", daemon=True).start()
            yield view

    def catch_up(self) -> None:
        """Load now the index files another process wrote, not in the background at a later
        question: a shard of a cluster does once the cluster's manifest vouches for them, so
        that it answers from them with the cluster's new statistics."""
        self._reloading.acquire()
        self._reload()

    def _reload(self) -> None:
        """Load the index files another process wrote; until they are complete, try again at
        a later question."""
        try:
            with self._writer, self.store.snapshot() as generation:
                if generation <= self._view.indexes.generation:
                    return
                indexes = self.index_folder.verify(self._view.indexes)
                view = self._make_view(indexes)
                with self._swap:
                    self._view = view
            log.info(
                "loaded the index of data generation %d, written by another process", generation
            )
        except IndexFileError as exc:
            log.info("the archive changed but its new index is not complete yet: %s", exc)
        finally:
            self._reloading.release()

    # -- reading: qa.reading over the current snapshot -------------------------------------

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> Answer:
        with self.reading() as snapshot:
            return reading.ask(snapshot, question, top_k, history, filters, as_of)

    def compose(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> tuple[Question, Composition]:
        with self.reading() as snapshot:
            return reading.compose(snapshot, question, top_k, history, filters, as_of)

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        with self.reading() as snapshot:
            return reading.search(snapshot, query, k, filters)

    # -- writing --------------------------------------------------------------------------

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]:
        """Add or replace one article; returns its passage count and whether it replaced one."""
        article = parse_article(article_id, text)
        prepared = prepare(article, self.encoder)
        with self._writing():
            twin = self.store.writes.article_with_hash(article.content_hash)
            if twin is not None and twin != article_id:
                raise DuplicateArticleError(article_id, twin)
            replaced = self.store.catalogue.article(article_id) is not None
            store_articles(self.store, self.encoder, [prepared])
        return len(prepared.passages), replaced

    def delete_article(self, article_id: str) -> None:
        with self._writing():
            if not self.store.writes.delete_article(article_id):
                raise ArticleNotFoundError(article_id)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write, all or nothing: its body runs in a write transaction; the new view is
        derived inside it, then committed and published at once.

        A folder that could not take the new index files refuses the write before anything is
        committed. Should saving them fail all the same, the committed write stands: it is
        answered from memory, and ``unsaved_indexes`` says why the files are behind. A write
        that only deleted rows needs no new file: its manifest commits with it.
        """
        with self._writer:
            with storage_errors(self.settings.data_dir):
                self._check_room()
                with ExitStack() as publishing:
                    with self.store.transaction():
                        yield
                        indexes = self._derive_indexes()
                        recorded = self.index_folder.record(indexes)
                        view = self._make_view(indexes)
                        # Held from the commit until the new view is published.
                        publishing.enter_context(self._swap)
                    self._view = view
            self._save_indexes(view.indexes, recorded)

    def _check_room(self) -> None:
        data_dir = self.settings.data_dir
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".probe"):
            pass  # raises the folder's own refusal: read-only, immutable
        needed = self.index_folder.save_bytes()
        free = shutil.disk_usage(data_dir).free
        if free < needed:
            raise DiskFullError(f"{free:,} bytes free, saving the index takes {needed:,}")

    def _derive_indexes(self) -> Indexes:
        current = self._view.indexes
        return self.index_folder.extend(current.vectors, current.lexical)

    def _save_indexes(self, indexes: Indexes, recorded: bool) -> None:
        data_dir = self.settings.data_dir
        try:
            if recorded:
                self.index_folder.copy_manifest()
            else:
                self.index_folder.persist(indexes)
        except Exception as exc:  # the write is committed: never report it as failed
            self.unsaved_indexes = root_cause(exc)
            log.warning(
                "a write was committed, but its index files could not be saved (%s): it is "
                "answered from memory; the files are saved with the next write, or rebuilt "
                "from the store when the archive next opens",
                self.unsaved_indexes,
                exc_info=storage_error(exc, data_dir) is None,
            )
        else:
            self.unsaved_indexes = None

    def close(self) -> None:
        self.store.close()
