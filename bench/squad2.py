"""``squad2_abstention``: adversarial unanswerable questions against answerable ones.

SQuAD 2.0 dev part 1, every context an article of a real Archive; answerable and unanswerable
questions (written to look answerable from the same paragraph) asked once with abstention off,
so the answer's confidence can be swept: precision and recall of abstention, answerable
questions refused, and the gold answer inside the quotes. ``bench/calibrate.py`` fits the
confidence on the same questions.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import precision_score, recall_score

from bench.answers import contains
from bench.corpus import DATA, archive, one_query_at_a_time
from bench.report import emit, table
from qa.settings import Settings

__all__ = ["Squad2Question", "bench_squad2", "load", "main", "write_articles"]

# This many answerable and this many unanswerable questions, drawn with a fixed seed.
_PER_KIND = 1500
_SWEEP = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


@dataclass(frozen=True)
class Squad2Question:
    text: str
    answers: tuple[str, ...]  # empty: unanswerable
    in_archive: bool = True  # False: its article was held out, so the archive is off-topic


def load() -> list[dict[str, Any]]:
    """SQuAD 2.0 dev part 1's Wikipedia articles, each with its paragraphs and questions."""
    path = DATA / "squad" / "dev-v2.0-part1.json"
    articles: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["data"]
    return articles


def write_articles(folder: Path, held_out: int = 0) -> list[Squad2Question]:
    """Write the contexts into ``folder`` as articles, but for the last ``held_out`` Wikipedia
    articles; the drawn questions, then (answerable) questions of the held-out articles, which
    the archive cannot answer."""
    data = load()
    answerable: list[Squad2Question] = []
    unanswerable: list[Squad2Question] = []
    off_topic: list[Squad2Question] = []
    number = 0
    kept = len(data) - held_out
    for position, article in enumerate(data):
        for paragraph in article["paragraphs"]:
            number += 1
            if position < kept:
                (folder / f"squad2-{number:04d}.txt").write_text(paragraph["context"], "utf-8")
            for qa in paragraph["qas"]:
                texts = tuple(a["text"] for a in qa["answers"])
                if position >= kept:
                    if texts:
                        off_topic.append(Squad2Question(qa["question"], texts, in_archive=False))
                    continue
                kind = unanswerable if qa.get("is_impossible") else answerable
                kind.append(Squad2Question(qa["question"], texts))
    draw = random.Random(0)
    per_kind = min(_PER_KIND, len(answerable), len(unanswerable))
    drawn = draw.sample(answerable, per_kind) + draw.sample(unanswerable, per_kind)
    return drawn + draw.sample(off_topic, min(len(off_topic), per_kind // 2))


def bench_squad2(settings: Settings) -> dict[str, Any]:
    questions: list[Squad2Question] = []

    def write(folder: Path) -> None:
        questions.extend(write_articles(folder))

    # Abstention off: every question is answered once, with its confidence, and swept below.
    with archive(settings.model_copy(update={"min_confidence": 0.0}), write) as squad2:
        answers = [squad2.ask(q.text, top_k=3) for q in questions]
    confidence = np.array([a.confidence for a in answers])
    floored = np.array([not a.citations for a in answers])  # no passage reached min_relevance
    impossible = np.array([not q.answers for q in questions])
    hit = np.array(
        [bool(q.answers) and contains(" ".join(c.quote for c in a.citations), q.answers)
         for q, a in zip(questions, answers, strict=True)]
    )  # fmt: skip
    thresholds = sorted({*_SWEEP, settings.min_confidence})
    rows, shipped = [], {}
    for threshold in thresholds:
        refused = floored | (confidence < threshold)
        figures = {
            "threshold": threshold,
            "precision": float(precision_score(impossible, refused, zero_division=0)),
            "recall": float(recall_score(impossible, refused, zero_division=0)),
            "answerable_refused": float(refused[~impossible].mean()),
            "answer_hit": float((hit & ~refused)[~impossible].mean()),
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
    return {"benchmark": "squad2_abstention", "questions": len(questions), **shipped}


def main() -> None:
    """On the shipped settings (``DATELINE_*`` can change them)."""
    one_query_at_a_time()
    emit(bench_squad2(Settings()))
