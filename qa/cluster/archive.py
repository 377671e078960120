"""A cluster's shards served as one archive: what a server's routes ask (``qa.api.served``).

The shards are clients (``qa.cluster.shard.LocalShard`` in this process, or through the Ray
Serve deployment of their group, ``qa.cluster.serve``) in the order of the cluster manifest's
shards. Answers and hits carry the names of the shards that did not answer (``partial``);
writes are refused, since a cluster takes articles through its ingest. After an ingest has
written a new cluster manifest, the next request reads it: the speakers it lists, and the
shards' statistics asked anew.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol, TypeVar

from embeddings.encoder import Encoder
from qa import reading
from qa.api.models import Readiness
from qa.api.served import Searched
from qa.archive import Archive
from qa.cluster.coordinator import Coordinator, Reply, ShardClient
from qa.cluster.manifest import MANIFEST_FILE, load_manifest
from qa.cluster.shard import LocalShard, Shard
from qa.errors import ClusterReadOnlyError, DatelineError
from qa.feedback import Verdict
from qa.questions import SpeakerIndex
from qa.reading import QuestionVectors
from qa.schema import Answer, HistoryTurn, SearchFilters
from qa.settings import Settings
from qa.store import ArticleRecord, ParagraphRecord
from qa.suggestions import STARTER_QUESTIONS, StarterQuestions, take_turns

__all__ = ["CatalogueShard", "ClusterArchive", "ClusterCatalogue", "manifest_stamp"]

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int] | None
Result = TypeVar("Result")

_TAKES_NO_ARTICLES = (
    "this server answers from a cluster: add or remove articles with `dateline cluster ingest`"
)
_KEEPS_NO_VERDICTS = "this server answers from a cluster, which keeps no readers' verdicts"


def manifest_stamp(data_dir: Path) -> Stamp:
    """The cluster manifest file's identity: a new one (written whole, then renamed into
    place) has another. One ``stat``, cheap enough to ask at every request."""
    try:
        found = (data_dir / MANIFEST_FILE).stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


class CatalogueShard(ShardClient, Protocol):
    """A shard as a cluster's server calls it: its read path and its articles."""

    def counts(self) -> Reply[dict[str, int]]: ...

    def list_articles(self, offset: int, limit: int) -> Reply[list[ArticleRecord]]: ...

    def article(
        self, article_id: str
    ) -> Reply[tuple[ArticleRecord, list[ParagraphRecord]] | None]: ...

    def starters(self) -> Reply[list[str]]: ...

    def close(self) -> None: ...


class ClusterCatalogue:
    """Every shard's articles, listed as one archive lists them: newest first, then by id."""

    def __init__(self, cluster: ClusterArchive) -> None:
        self._cluster = cluster

    def counts(self) -> dict[str, int]:
        found = self._cluster.each(lambda shard: shard.counts())
        return {
            table: sum(counts[table] for counts in found.values())
            for table in ("articles", "passages", "sentences")
        }

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]:
        """Each shard's first ``offset + limit``, merged; a shard that does not answer is left
        out."""
        found = self._cluster.each(lambda shard: shard.list_articles(0, offset + limit))
        merged = sorted(itertools.chain(*found.values()), key=lambda a: a.article_id)
        # Stable, also reversed: equal dates keep their ids' order; undated ones go last.
        merged.sort(key=lambda a: a.date or "", reverse=True)
        return merged[offset : offset + limit]

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None:
        """Asked of the one shard its bucket maps it to."""
        return self._cluster.owner(article_id).article(article_id).result()


class ClusterArchive:
    """Answers, hits and articles from every shard of a cluster; build it with ``open``."""

    def __init__(
        self,
        settings: Settings,
        shards: Sequence[CatalogueShard],
        vectors: QuestionVectors,
        *,
        prefetch: bool = False,
    ) -> None:
        """``prefetch``: the shards are across a hop, so each answer's candidates come with
        its first round of calls where they can (``ClusterPassages``)."""
        self.settings = settings
        self.prefetch = prefetch
        self._stamp = manifest_stamp(settings.data_dir)
        self.manifest = load_manifest(settings.data_dir)
        if len(shards) != len(self.manifest.shards):
            raise DatelineError(
                f"{len(shards)} shards given, but the cluster manifest names "
                f"{len(self.manifest.shards)}"
            )
        self.shards = list(shards)
        speakers = SpeakerIndex(self.manifest.speaker_aliases)
        self.coordinator = Coordinator(settings, self.shards, speakers, vectors)
        self.catalogue = ClusterCatalogue(self)
        self._following = threading.Lock()
        self._behind: str | None = None  # why a newer manifest is not served yet
        self._starters = StarterQuestions(lambda: self.manifest.generation, self._starter_questions)

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder) -> ClusterArchive:
        """The cluster in ``settings.data_dir`` with every shard opened in this process."""
        manifest = load_manifest(settings.data_dir)
        shards: list[CatalogueShard] = []
        try:
            for number, record in enumerate(manifest.shards):
                folder = manifest.shard_dir(settings.data_dir, record.name)
                opened = Archive.open(settings.model_copy(update={"data_dir": folder}), encoder)
                shards.append(LocalShard(Shard(number, opened)))
            return cls(settings, shards, QuestionVectors(encoder))
        except BaseException:
            for shard in shards:
                shard.close()
            raise

    @property
    def names(self) -> list[str]:
        return [shard.name for shard in self.manifest.shards]

    def each(self, call: Callable[[CatalogueShard], Reply[Result]]) -> dict[int, Result]:
        """``call`` on every shard at once; those that do not answer are left out."""
        self._follow()
        return self.coordinator.each(call, self.shards, set())

    def owner(self, article_id: str) -> CatalogueShard:
        return self.shards[self.names.index(self.manifest.shard_of(article_id))]

    # -- reading ---------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> Answer:
        self._follow()
        with self.coordinator.reading(self.prefetch) as passages:
            answer = reading.ask(passages, question, top_k, history, filters, as_of)
        if not passages.missing:
            return answer
        missing = [self.names[number] for number in sorted(passages.missing)]
        return answer.model_copy(update={"partial": True, "missing_shards": missing})

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> Searched:
        self._follow()
        with self.coordinator.reading(self.prefetch, quoting=False) as passages:
            hits = reading.search(passages, query, k, filters)
        return Searched(hits, [self.names[number] for number in sorted(passages.missing)])

    def suggestions(self) -> list[str]:
        self._follow()
        return self._starters.current()

    def _starter_questions(self) -> tuple[list[str], bool]:
        """The shards' starter questions, a shard's at a time, that the whole cluster answers
        too; whole when every shard answered."""
        missing: set[int] = set()
        proposed = self.coordinator.each(lambda shard: shard.starters(), self.shards, missing)
        offered = dict.fromkeys(take_turns([proposed[n] for n in sorted(proposed)]))
        made = [question for question in offered if not self.ask(question).abstained]
        return made[:STARTER_QUESTIONS], not missing

    def readiness(self) -> Readiness:
        self._follow()
        manifest = self.manifest
        return Readiness(
            status="ready",
            model=manifest.model,
            articles=sum(shard.articles for shard in manifest.shards),
            passages=sum(shard.passages for shard in manifest.shards),
            sentences=sum(shard.sentences for shard in manifest.shards),
            generation=manifest.generation,
            warnings=[] if self._behind is None else [self._behind],
        )

    def _follow(self) -> None:
        """Serve the latest cluster manifest: once an ingest has written a new one, read it
        and ask the shards for their statistics anew; until every shard answers, the one
        served stays (and the next request tries again)."""
        stamp = manifest_stamp(self.settings.data_dir)
        if stamp == self._stamp or not self._following.acquire(blocking=False):
            return
        try:
            manifest = load_manifest(self.settings.data_dir)
            if [s.name for s in manifest.shards] != self.names:
                raise DatelineError(
                    "its shards are not the ones served: run `dateline cluster serve` again"
                )
            self.coordinator.refresh(SpeakerIndex(manifest.speaker_aliases))
            self.manifest, self._stamp, self._behind = manifest, stamp, None
        except DatelineError as exc:  # ShardUnavailableError among them
            self._behind = f"the cluster's new manifest is not served yet: {exc}"
            log.warning("%s", self._behind)
        finally:
            self._following.release()

    # -- writing: a cluster takes articles through its ingest ------------------------------

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]:
        raise ClusterReadOnlyError(_TAKES_NO_ARTICLES)

    def delete_article(self, article_id: str) -> None:
        raise ClusterReadOnlyError(_TAKES_NO_ARTICLES)

    def record_feedback(
        self, question: str, passages: Sequence[tuple[str, int]], verdict: Verdict
    ) -> int:
        raise ClusterReadOnlyError(_KEEPS_NO_VERDICTS)

    def close(self) -> None:
        for shard in self.shards:
            shard.close()
