"""Real news questions and adversarial unanswerable ones, asked of a real Archive.

- ``realtimeqa``: RealTimeQA's weekly news quizzes with the CNN articles that answer them. Each
  distinct gold article becomes an article file (front matter with its URL and the date in the
  URL; the CNN opening gives dateline and agency), all are ingested, and every question with a
  gold article is asked ``as_of`` its question date. Beside the chat answer, in the same run:
  dense passages alone, BM25 alone and the hybrid ranking alone (top 3 each, no dates).
- ``squad2_abstention``: SQuAD 2.0 dev part 1, every context an article; answerable and
  unanswerable questions (written to look answerable from the same paragraph) asked once with
  abstention off, so the answer's confidence can be swept: precision and recall of abstention,
  answerable questions refused, and the gold answer inside the quotes.

Data is read from ``../shared/data``, never copied.
"""

from __future__ import annotations

import json
import logging
import random
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import Stemmer

from bench.report import emit, table
from qa.archive import Archive, open_encoder, open_store
from qa.ingest import ingest_directory
from qa.settings import Settings

__all__ = ["main"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_AD_FORM = "1. How relevant is this ad to you?"
_URL_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
# SQuAD 2.0: this many answerable and this many unanswerable questions, drawn with a fixed seed.
_SQUAD2_PER_KIND = 1500
_STEMMER = Stemmer.Stemmer("english")
_SWEEP = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


@dataclass(frozen=True)
class _NewsQuestion:
    id: str
    text: str
    asked: date
    choices: tuple[str, ...]  # the correct ones
    gold: frozenset[str]  # article ids


_NUMBERS = {
    word: str(number)
    for number, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}


def _normalise(text: str) -> str:
    """How answers are matched: lower case, punctuation gone, words stemmed ("nuggets" is
    "nugget") and small numbers as digits ("six" is "6")."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    text = re.sub(r"[^\w%$.]+|(?<!\d)\.|\.(?!\d)", " ", text)
    tokens = [_NUMBERS.get(token, token) for token in text.split()]
    return " ".join(_STEMMER.stemWords(tokens))


def _contains(haystack: str, needles: Sequence[str]) -> bool:
    normalised = f" {_normalise(haystack)} "
    return any(f" {_normalise(n)} " in normalised for n in needles if _normalise(n))


def _article_id(url: str) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p and p != "index.html"]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "_".join(parts)).strip("-_.")[:200]


def _article_date(url: str, published: str | None) -> date | None:
    found = _URL_DATE.search(url)
    if found:
        return date(*map(int, found.groups()))
    return date.fromisoformat(published[:10].replace("/", "-")) if published else None


def _front_matter(url: str, published: date | None, text: str) -> str:
    fields = [f"url: {json.dumps(url)}"]
    if published:
        fields.append(f"date: {published.isoformat()}")
    return "---\n" + "\n".join(fields) + "\n---\n" + text


def _realtimeqa(folder: Path) -> tuple[list[_NewsQuestion], dict[str, str]]:
    """Write each distinct gold article into ``folder``; the questions that have one, and the
    text of every article (for the ceiling: is the answer in a gold article at all)."""
    texts: dict[str, str] = {}
    gold: dict[str, set[str]] = {}
    for path in sorted((DATA / "realtimeqa").glob("*_gold.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for result in record["search_result"]:
                text = result.get("text") or ""
                if not text.strip() or text.startswith(_AD_FORM):
                    continue
                article_id = _article_id(result["url"])
                gold.setdefault(record["question_id"], set()).add(article_id)
                if article_id not in texts:
                    texts[article_id] = text
                    published = _article_date(result["url"], result.get("publish_date"))
                    (folder / f"{article_id}.txt").write_text(
                        _front_matter(result["url"], published, text), encoding="utf-8"
                    )
    questions = []
    for path in sorted((DATA / "realtimeqa").glob("*_qa.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["question_id"] not in gold:
                continue
            questions.append(
                _NewsQuestion(
                    id=record["question_id"],
                    text=record["question_sentence"],
                    asked=date.fromisoformat(record["question_date"].replace("/", "-")),
                    choices=tuple(record["choices"][int(i)] for i in record["answer"]),
                    gold=frozenset(gold[record["question_id"]]),
                )
            )
    return questions, texts


@contextmanager
def _archive(settings: Settings, write: Any) -> Iterator[Archive]:
    """A real Archive over article files that ``write(folder)`` puts in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="dateline-news-") as root:
        articles = Path(root) / "articles"
        articles.mkdir()
        write(articles)
        local = settings.model_copy(update={"seeds_dir": articles, "data_dir": Path(root) / "d"})
        encoder = open_encoder(local)
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
        archive = Archive.open(local, encoder)
        try:
            yield archive
        finally:
            archive.close()


@dataclass
class _Tally:
    """Per method: citation 1 from a gold article, any of 3, the answer's text quoted."""

    top1: int = 0
    top3: int = 0
    hit: int = 0
    cited: int = 0
    cited_gold: int = 0

    def add(self, articles: Sequence[str], quoted: str, item: _NewsQuestion) -> None:
        self.top1 += bool(articles) and articles[0] in item.gold
        self.top3 += any(a in item.gold for a in articles[:3])
        self.hit += _contains(quoted, item.choices)
        self.cited += len(articles)
        self.cited_gold += sum(a in item.gold for a in articles)

    def shares(self, n: int) -> dict[str, float]:
        return {
            "citation1_gold": round(self.top1 / n, 4),
            "any3_gold": round(self.top3 / n, 4),
            "answer_hit": round(self.hit / n, 4),
            "citations_per_answer": round(self.cited / n, 3),
            "citation_precision": round(self.cited_gold / max(self.cited, 1), 4),
        }


def bench_realtimeqa(settings: Settings) -> dict[str, Any]:
    questions: list[_NewsQuestion] = []
    texts: dict[str, str] = {}

    def write(folder: Path) -> None:
        found, articles = _realtimeqa(folder)
        questions.extend(found)
        texts.update(articles)

    started = time.perf_counter()
    with _archive(settings, write) as archive:
        ingested = time.perf_counter() - started
        tallies = {name: _Tally() for name in ("chat", "dense", "bm25", "hybrid")}
        abstained, routed, misses = 0, 0, []
        indexes = archive.indexes
        for item in questions:
            answer = archive.ask(item.text, top_k=3, as_of=item.asked)
            abstained += answer.abstained
            routed += answer.speakers is not None or answer.answer.startswith("No statements by")
            quotes = " ".join(c.quote for c in answer.citations)
            tallies["chat"].add([c.article_id for c in answer.citations], quotes, item)
            if not _contains(quotes, item.choices):
                misses.append(f"{item.id} {item.text!r} -> {answer.answer[:160]!r}")

            vector = archive.encoder.encode([item.text])[0]
            dense_ids = indexes.passages.search(vector, 3).ids.tolist()
            lexical = indexes.lexical.scores(item.text)
            bm25_ids = indexes.lexical.ids[np.argsort(-lexical, kind="stable")[:3]].tolist()
            for name, ids in (("dense", dense_ids), ("bm25", bm25_ids)):
                records = archive.store.reads.passages(ids)
                found = [records[i] for i in ids if i in records]
                tallies[name].add(
                    [r.article_id for r in found], " ".join(r.text for r in found), item
                )
            hits = archive.search(item.text, 3)
            tallies["hybrid"].add(
                [h.article_id for h in hits], " ".join(h.text for h in hits), item
            )
    n = len(questions)
    ceiling = sum(
        any(_contains(texts[a], item.choices) for a in item.gold) for item in questions
    ) / max(n, 1)
    labels = {
        "chat": "Dateline chat (as_of the question date)",
        "dense": "dense passages alone (FAISS, top 3)",
        "bm25": "BM25 alone (top 3)",
        "hybrid": "hybrid ranking alone (Archive.search)",
    }
    table(
        f"RealTimeQA: {n} questions with a gold article, {len(texts)} CNN articles "
        f"(ingested in {ingested:.0f} s); answer-hit: the correct choice in the quotes "
        "(chat) or in the top-3 passages (baselines)",
        ("method", "citation 1 gold", "any of 3 gold", "answer-hit", "citations", "precision"),
        [(label, *tallies[name].shares(max(n, 1)).values()) for name, label in labels.items()],
    )
    print(
        f"  wrongly abstained {abstained / max(n, 1):.3f} ({abstained}/{n}); "
        f"routed to a speaker {routed}; the answer in a gold article at all {ceiling:.3f}"
    )
    for miss in misses[:40]:
        print(f"  miss: {miss}")
    return {
        "bench": "realtimeqa",
        "questions": n,
        "articles": len(texts),
        **tallies["chat"].shares(max(n, 1)),
        "wrongly_abstained": round(abstained / max(n, 1), 4),
        "routed_to_speaker": routed,
        "answer_in_gold_article": round(ceiling, 4),
        "baselines": {
            name: tallies[name].shares(max(n, 1)) for name in ("dense", "bm25", "hybrid")
        },
    }


@dataclass(frozen=True)
class _SquadQuestion:
    text: str
    answers: tuple[str, ...]  # empty: unanswerable
    in_archive: bool = True  # False: its article was held out, so the archive is off-topic


def _squad2(folder: Path, held_out: int = 0) -> list[_SquadQuestion]:
    """Write SQuAD 2.0 dev part 1's contexts into ``folder`` as articles, but for the last
    ``held_out`` Wikipedia articles; the drawn questions, then (answerable) questions of the
    held-out articles, which the archive cannot answer."""
    data = json.loads((DATA / "squad" / "dev-v2.0-part1.json").read_text(encoding="utf-8"))
    answerable: list[_SquadQuestion] = []
    unanswerable: list[_SquadQuestion] = []
    off_topic: list[_SquadQuestion] = []
    number = 0
    kept = len(data["data"]) - held_out
    for position, article in enumerate(data["data"]):
        for paragraph in article["paragraphs"]:
            number += 1
            if position < kept:
                (folder / f"squad2-{number:04d}.txt").write_text(paragraph["context"], "utf-8")
            for qa in paragraph["qas"]:
                texts = tuple(a["text"] for a in qa["answers"])
                if position >= kept:
                    if texts:
                        off_topic.append(_SquadQuestion(qa["question"], texts, in_archive=False))
                    continue
                kind = unanswerable if qa.get("is_impossible") else answerable
                kind.append(_SquadQuestion(qa["question"], texts))
    draw = random.Random(0)
    per_kind = min(_SQUAD2_PER_KIND, len(answerable), len(unanswerable))
    drawn = draw.sample(answerable, per_kind) + draw.sample(unanswerable, per_kind)
    return drawn + draw.sample(off_topic, min(len(off_topic), per_kind // 2))


def bench_squad2(settings: Settings) -> dict[str, Any]:
    questions: list[_SquadQuestion] = []

    def write(folder: Path) -> None:
        questions.extend(_squad2(folder))

    # Abstention off: every question is answered once, with its confidence, and swept below.
    with _archive(settings.model_copy(update={"min_confidence": 0.0}), write) as archive:
        answers = [archive.ask(q.text, top_k=3) for q in questions]
    confidence = np.array([a.confidence for a in answers])
    floored = np.array([not a.citations for a in answers])  # no passage reached min_relevance
    impossible = np.array([not q.answers for q in questions])
    hit = np.array(
        [bool(q.answers) and _contains(" ".join(c.quote for c in a.citations), q.answers)
         for q, a in zip(questions, answers, strict=True)]
    )  # fmt: skip
    thresholds = sorted({*_SWEEP, settings.min_confidence})
    rows, shipped = [], {}
    for threshold in thresholds:
        refused = floored | (confidence < threshold)
        right = int((refused & impossible).sum())
        figures = {
            "threshold": threshold,
            "precision": right / max(int(refused.sum()), 1),
            "recall": right / max(int(impossible.sum()), 1),
            "answerable_refused": int((refused & ~impossible).sum()) / int((~impossible).sum()),
            "answer_hit": int((hit & ~refused).sum()) / int((~impossible).sum()),
        }
        rows.append(tuple(figures.values()))
        if threshold == settings.min_confidence:
            shipped = {k: round(v, 4) for k, v in figures.items()}
    table(
        f"SQuAD 2.0 dev part 1: {int((~impossible).sum())} answerable and "
        f"{int(impossible.sum())} unanswerable questions; refused: no passage reaches "
        f"min_relevance {settings.min_relevance}, or the confidence is below the threshold "
        f"(shipped: {settings.min_confidence})",
        ("threshold", "abstention precision", "recall", "answerable refused", "answer-hit"),
        rows,
    )
    return {"bench": "squad2_abstention", "questions": len(questions), **shipped}


def main() -> None:
    """Both benchmarks on the shipped settings (``DATELINE_*`` can change them)."""
    import faiss

    faiss.omp_set_num_threads(1)  # one query at a time: thread start-up costs more than search
    settings = Settings()
    emit(bench_realtimeqa(settings))
    emit(bench_squad2(settings))
