"""Where the dataset benchmarks get their articles from, built by the product's own code.

Two forms: ``Corpus``, texts parsed and cut like any article and indexed in memory, for
benchmarks that rank tens of thousands of questions and want the ranker's parts one by one; and
``archive``, a real ``Archive`` ingested into a temporary folder, for those that ask it.

Data is read from ``../shared/data``, never copied. Encodings are cached outside the repo
(``~/.cache/dateline-bench``, or ``DATELINE_BENCH_CACHE``), keyed by model, backend and texts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.index import VectorIndex
from qa.answer import Candidate
from qa.archive import Archive
from qa.articles import parse_article
from qa.factories import open_encoder, open_store
from qa.ingest import ingest_directory
from qa.lexical import LexicalIndex
from qa.passages import Passage, split_article
from qa.retrieval import HybridRanker, RankedPassage
from qa.settings import Settings
from qa.store import PassageRecord, SentenceRecord

__all__ = [
    "CACHE",
    "DATA",
    "Corpus",
    "Vectors",
    "archive",
    "build_corpus",
    "encode_cached",
    "one_query_at_a_time",
]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path(os.environ.get("DATELINE_BENCH_CACHE", "~/.cache/dateline-bench")).expanduser()

Vectors = npt.NDArray[np.float32]


def one_query_at_a_time() -> None:
    """FAISS on one thread: OpenMP's thread start-up costs ten times a single search here.

    This changes how fast a benchmark runs, not a single result.
    """
    import faiss

    faiss.omp_set_num_threads(1)


def encode_cached(encoder: Encoder, texts: Sequence[str], label: str) -> Vectors:
    """Encode ``texts``, or load the vectors a previous run saved for the same model and texts."""
    digest = hashlib.sha256(f"{encoder.name}|{getattr(encoder, 'backend', 'torch')}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    path = CACHE / f"{label}-{digest.hexdigest()[:20]}.npy"
    if path.exists():
        cached: Vectors = np.load(path)
        if cached.shape == (len(texts), encoder.dimension):
            return cached
    started = time.perf_counter()
    print(f"  encoding {len(texts):,} {label} texts (cached for next time)…", flush=True)
    vectors = encoder.encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    print(f"  encoded in {time.perf_counter() - started:.0f} s", flush=True)
    return vectors


@dataclass
class Corpus:
    """Articles cut by ``split_article``, encoded, indexed as the store and indexes would be."""

    documents: list[int]  # passage id -> document number
    passages: list[PassageRecord]
    sentences: list[list[SentenceRecord]]  # by passage id
    vectors: Vectors  # by passage id
    passage_index: VectorIndex
    sentence_index: VectorIndex  # each sentence under its passage's id, as an archive's
    lexical: LexicalIndex

    def ranker(self, settings: Settings) -> HybridRanker:
        return HybridRanker(
            self.passage_index,
            self.sentence_index,
            self.lexical,
            settings.candidates,
            settings.lexical_weight,
        )

    # What the ranker reads of a store (qa.retrieval.VectorReads), from memory.
    def passage_vectors(self, ids: Sequence[int]) -> dict[int, npt.NDArray[np.float32]]:
        return {i: self.vectors[i] for i in ids}

    def passage_places(self, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]:
        return {i: ("", i, 0) for i in ids}

    def candidates(self, ranked: Sequence[RankedPassage]) -> list[Candidate]:
        return [Candidate(self.passages[r.id], self.sentences[r.id], r) for r in ranked]


def build_corpus(encoder: Encoder, texts: Sequence[str], label: str) -> Corpus:
    """Each text an article, its passages and sentences encoded (cached under ``label``)."""
    documents: list[int] = []
    cut: list[tuple[str, Passage]] = []
    for number, text in enumerate(texts):
        article = parse_article(f"{label}-{number}", text)
        passages, _ = split_article(article, encoder.count_tokens, encoder.window_tokens)
        for passage in passages:
            documents.append(number)
            cut.append((article.article_id, passage))
    passage_texts = [p.text for _, p in cut]
    sentence_texts = [p.text[s.start : s.end] for _, p in cut for s in p.sentences]
    passage_vectors = encode_cached(encoder, passage_texts, f"{label}-passages")
    sentence_vectors = encode_cached(encoder, sentence_texts, f"{label}-sentences")
    records: list[PassageRecord] = []
    sentences: list[list[SentenceRecord]] = []
    owners: list[int] = []
    for passage_id, (article_id, passage) in enumerate(cut):
        records.append(
            PassageRecord(
                id=passage_id,
                article_id=article_id,
                title=article_id,
                date=None,
                dateline=None,
                agency=None,
                paragraph=passage.paragraph,
                part=passage.part,
                heading=passage.heading,
                text=passage.text,
                speaker=passage.speaker,
            )
        )
        row = []
        for sentence in passage.sentences:
            row.append(
                SentenceRecord(
                    id=len(owners),
                    passage_id=passage_id,
                    start=sentence.start,
                    end=sentence.end,
                    speaker=sentence.speaker,
                    vector=sentence_vectors[len(owners)],
                )
            )
            owners.append(passage_id)
        sentences.append(row)
    passage_ids = np.arange(len(cut), dtype=np.int64)
    return Corpus(
        documents=documents,
        passages=records,
        sentences=sentences,
        vectors=passage_vectors,
        passage_index=VectorIndex.build(passage_ids, passage_vectors, encoder.dimension),
        sentence_index=VectorIndex.build(
            np.asarray(owners, dtype=np.int64), sentence_vectors, encoder.dimension
        ),
        lexical=LexicalIndex.build(passage_ids, passage_texts),
    )


@contextmanager
def archive(
    settings: Settings, write: Callable[[Path], None], encoder: Encoder | None = None
) -> Iterator[Archive]:
    """A real Archive over the article files ``write(folder)`` puts in a temporary folder,
    ingested with ``encoder`` (by default one opened from ``settings``)."""
    with tempfile.TemporaryDirectory(prefix="dateline-bench-") as root:
        articles = Path(root) / "articles"
        articles.mkdir()
        write(articles)
        local = settings.model_copy(update={"seeds_dir": articles, "data_dir": Path(root) / "d"})
        encoder = encoder or open_encoder(local)
        store = open_store(local)
        quiet = logging.getLogger("qa")
        level, quiet.level = quiet.level, logging.ERROR  # no warning per undated SQuAD context
        try:
            ingest_directory(
                articles, store, encoder, local.data_dir, local.max_file_bytes, progress=False
            )
        finally:
            quiet.setLevel(level)
        store.close()
        opened = Archive.open(local, encoder)
        try:
            yield opened
        finally:
            opened.close()
