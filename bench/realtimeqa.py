"""``realtimeqa``: real news questions asked of a real Archive of the articles that answer them.

RealTimeQA's weekly news quizzes with the CNN articles that answer them. Each distinct gold
article becomes an article file (front matter with its URL and the date in the URL; the CNN
opening gives dateline and agency), all are ingested, and every question with a gold article is
asked ``as_of`` its question date. Beside the chat answer, in the same run: dense passages
alone, BM25 alone and the hybrid ranking alone (top 3 each, no dates).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bench.answers import contains
from bench.corpus import DATA, archive, one_query_at_a_time
from bench.report import emit, table
from qa.settings import Settings

__all__ = ["articles", "bench_realtimeqa", "main", "records"]

# Ad-feedback forms that RealTimeQA scraped in place of some articles.
_AD_FORM = "1. How relevant is this ad to you?"
_URL_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


def records(kind: str) -> Iterator[dict[str, Any]]:
    """Every line of the weekly ``*_{kind}.jsonl`` files, week by week: "qa" for the
    questions, "gold" for the search results that answer them."""
    for path in sorted((DATA / "realtimeqa").glob(f"*_{kind}.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield json.loads(line)


def articles(gold: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The search results of a "gold" record that are articles (not empty, not an ad form)."""
    for result in gold["search_result"]:
        text = result.get("text") or ""
        if text.strip() and not text.startswith(_AD_FORM):
            yield result


@dataclass(frozen=True)
class _NewsQuestion:
    id: str
    text: str
    asked: date
    choices: tuple[str, ...]  # the correct ones
    gold: frozenset[str]  # article ids


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


def _write(folder: Path) -> tuple[list[_NewsQuestion], dict[str, str]]:
    """Write each distinct gold article into ``folder``; the questions that have one, and the
    text of every article (for the ceiling: is the answer in a gold article at all)."""
    texts: dict[str, str] = {}
    gold: dict[str, set[str]] = {}
    for record in records("gold"):
        for result in articles(record):
            article_id = _article_id(result["url"])
            gold.setdefault(record["question_id"], set()).add(article_id)
            if article_id not in texts:
                texts[article_id] = result["text"]
                published = _article_date(result["url"], result.get("publish_date"))
                (folder / f"{article_id}.txt").write_text(
                    _front_matter(result["url"], published, result["text"]), encoding="utf-8"
                )
    questions = [
        _NewsQuestion(
            id=record["question_id"],
            text=record["question_sentence"],
            asked=date.fromisoformat(record["question_date"].replace("/", "-")),
            choices=tuple(record["choices"][int(i)] for i in record["answer"]),
            gold=frozenset(gold[record["question_id"]]),
        )
        for record in records("qa")
        if record["question_id"] in gold
    ]
    return questions, texts


@dataclass
class _Tally:
    """Per method: citation 1 from a gold article, any of 3, the answer's text quoted."""

    top1: int = 0
    top3: int = 0
    hit: int = 0
    cited: int = 0
    cited_gold: int = 0

    def add(self, article_ids: Sequence[str], quoted: str, item: _NewsQuestion) -> None:
        self.top1 += bool(article_ids) and article_ids[0] in item.gold
        self.top3 += any(a in item.gold for a in article_ids[:3])
        self.hit += contains(quoted, item.choices)
        self.cited += len(article_ids)
        self.cited_gold += sum(a in item.gold for a in article_ids)

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
        found, written = _write(folder)
        questions.extend(found)
        texts.update(written)

    started = time.perf_counter()
    with archive(settings, write) as news:
        ingested = time.perf_counter() - started
        tallies = {name: _Tally() for name in ("chat", "dense", "bm25", "hybrid")}
        abstained, routed, misses = 0, 0, []
        indexes = news.indexes
        for item in questions:
            answer = news.ask(item.text, top_k=3, as_of=item.asked)
            abstained += answer.abstained
            routed += answer.speakers is not None or answer.answer.startswith("No statements by")
            quotes = " ".join(c.quote for c in answer.citations)
            tallies["chat"].add([c.article_id for c in answer.citations], quotes, item)
            if not contains(quotes, item.choices):
                misses.append(f"{item.id} {item.text!r} -> {answer.answer[:160]!r}")

            vector = news.encoder.encode([item.text])[0]
            dense_ids = indexes.passages.search(vector, 3).ids.tolist()
            lexical = indexes.lexical.scores(item.text)
            bm25_ids = indexes.lexical.ids[np.argsort(-lexical, kind="stable")[:3]].tolist()
            for name, ids in (("dense", dense_ids), ("bm25", bm25_ids)):
                stored = news.store.reads.passages(ids)
                found = [stored[i] for i in ids if i in stored]
                tallies[name].add(
                    [r.article_id for r in found], " ".join(r.text for r in found), item
                )
            hits = news.search(item.text, 3)
            tallies["hybrid"].add(
                [h.article_id for h in hits], " ".join(h.text for h in hits), item
            )
    n = len(questions)
    ceiling = sum(
        any(contains(texts[a], item.choices) for a in item.gold) for item in questions
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
        "benchmark": "realtimeqa",
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


def main() -> None:
    """On the shipped settings (``DATELINE_*`` can change them)."""
    one_query_at_a_time()
    emit(bench_realtimeqa(Settings()))
