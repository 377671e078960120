"""SQuAD v1.1 dev, every context an article of an in-memory ``Corpus``, one JSON line each:

- ``squad_retrieval``: paragraph retrieval. Every context is parsed and cut like any article
  (``parse_article``, ``split_article``), encoded and indexed (``VectorIndex``,
  ``LexicalIndex``) and ranked by ``HybridRanker``; each question is a query. Recall@1/5/10 and
  MRR@10 for BM25 alone, dense alone, reciprocal rank fusion and min-max fusion at several BM25
  weights, in one run.
- ``squad_extraction``: is a gold answer inside the sentences ``compose_answer`` quotes in its
  top 3 citations, with abstention as shipped and without it.
- ``squad_abstention``: SQuAD questions (all answerable) against our own off-topic and
  unanswerable questions (``seed_questions.json``): ROC AUC of the answer's calibrated
  confidence, and what each threshold refuses (the SQuAD 2.0 sweep is in ``bench/squad2.py``).

The first run encodes for about five minutes on two cores; later ones load the encodings.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from bench import seeds
from bench.answers import quoted
from bench.corpus import DATA, Corpus, build_corpus, encode_cached, one_query_at_a_time
from bench.report import emit, table
from embeddings.encoder import Encoder
from qa.answer import Query, compose_answer
from qa.factories import open_encoder
from qa.retrieval import RankedPassage
from qa.settings import Settings

__all__ = ["bench_squad", "main"]

# Min-max fusion weights compared (BM25 share); 0 and 1 are the two rankers alone over the
# product's candidate pool (dense there is a passage's best of its own and its sentences' cosine).
_WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
_RRF_K = 60
_CUTOFFS = (1, 5, 10)
# Confidence thresholds shown beside the shipped one in the off-topic abstention table.
_CONFIDENCE_SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class _Squad:
    contexts: list[str]
    questions: list[str]
    gold: list[int]  # context number of each question
    answers: list[list[str]]


def _load() -> _Squad:
    data = json.loads((DATA / "squad" / "dev-v1.1.json").read_text(encoding="utf-8"))
    contexts: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    answers: list[list[str]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                gold.append(len(contexts) - 1)
                answers.append([answer["text"] for answer in qa["answers"]])
    return _Squad(contexts, questions, gold, answers)


def _documents(corpus: Corpus, passage_ids: Iterable[int], k: int = 10) -> list[int]:
    """Documents in the order their first passage appears, up to ``k``."""
    seen: list[int] = []
    for passage_id in passage_ids:
        document = corpus.documents[passage_id]
        if document not in seen:
            seen.append(document)
            if len(seen) == k:
                break
    return seen


def _rank(corpus: Corpus, passage_ids: Iterable[int], gold: int) -> int:
    """Where the ``gold`` document is among the first 10 that ``passage_ids`` come from (1 for
    first), or 0 when it is not."""
    documents = _documents(corpus, passage_ids)
    return documents.index(gold) + 1 if gold in documents else 0


def _retrieval(ranks: Sequence[int]) -> dict[str, float]:
    """Recall@k and MRR@10 of the gold documents' ranks (0: not in the first 10)."""
    found = np.asarray(ranks)
    reciprocal = np.divide(1.0, found, out=np.zeros(len(found)), where=found > 0)
    return {
        **{f"recall@{k}": round(float(((found > 0) & (found <= k)).mean()), 4) for k in _CUTOFFS},
        "mrr@10": round(float(reciprocal.mean()), 4),
    }


def _rrf(lists: Sequence[Sequence[int]], k: int = _RRF_K) -> list[int]:
    """Reciprocal rank fusion (Cormack et al. 2009), over the candidates each ranker listed."""
    scores: dict[int, float] = defaultdict(float)
    for ranked in lists:
        for position, item in enumerate(ranked, start=1):
            scores[item] += 1 / (k + position)
    return sorted(scores, key=lambda item: -scores[item])


def bench_squad(encoder: Encoder, settings: Settings) -> list[dict[str, Any]]:
    """Paragraph retrieval by every method, sentence extraction and abstention as shipped."""
    squad = _load()
    _, unanswerable = seeds.load()
    corpus = build_corpus(encoder, squad.contexts, "squad")
    vectors = encode_cached(encoder, squad.questions, "squad-questions")
    ranker = corpus.ranker(settings)
    weights = sorted({*_WEIGHTS, settings.lexical_weight})
    ranks: dict[str, list[int]] = {
        name: []
        for name in ["bm25 (index alone)", "dense (index alone)", "rrf k=60", *map(str, weights)]
    }
    extracted = answered = extracted_any = 0
    answerable_confidence: list[float] = []
    started = time.perf_counter()
    for question, vector, gold, answers in zip(
        squad.questions, vectors, squad.gold, squad.answers, strict=True
    ):
        lexical = corpus.lexical.scores(question)
        top_lexical = np.argsort(-lexical, kind="stable")[:30]
        bm25_ids = (int(corpus.lexical.ids[i]) for i in top_lexical)
        ranks["bm25 (index alone)"].append(_rank(corpus, bm25_ids, gold))
        dense_hits = corpus.passage_index.search(vector, 30)
        ranks["dense (index alone)"].append(_rank(corpus, dense_hits.ids.tolist(), gold))
        by_weight: dict[float, list[RankedPassage]] = {}
        for weight in weights:
            ranker.lexical_weight = weight
            by_weight[weight] = ranker.rank(vector, question, settings.candidates, corpus)
            ranks[str(weight)].append(_rank(corpus, (r.id for r in by_weight[weight]), gold))
        fused = _rrf([[r.id for r in by_weight[0.0]], [r.id for r in by_weight[1.0]]])
        ranks["rrf k=60"].append(_rank(corpus, fused, gold))

        candidates = corpus.candidates(by_weight[settings.lexical_weight])
        unrestricted = compose_answer(
            candidates, Query.of(vector, question), 3, 0.0, min_relevance=settings.min_relevance
        )
        shipped = unrestricted.confidence >= settings.min_confidence
        answered += shipped
        extracted += shipped and quoted([c.quote for c in unrestricted.citations], answers)
        extracted_any += quoted([c.quote for c in unrestricted.citations], answers)
        answerable_confidence.append(unrestricted.confidence)
    ranker.lexical_weight = settings.lexical_weight
    unanswerable_confidence = [
        compose_answer(
            corpus.candidates(ranker.rank(vector, question, settings.candidates, corpus)),
            Query.of(vector, question),
            3,
            0.0,
            min_relevance=settings.min_relevance,
        ).confidence
        for question, vector in zip(
            unanswerable, encode_cached(encoder, unanswerable, "squad-unanswerable"), strict=True
        )
    ]
    n = len(squad.questions)
    label = {
        "bm25 (index alone)": "BM25 alone (bm25s, stemmed)",
        "dense (index alone)": "dense alone (passage cosine)",
        "rrf k=60": "RRF k=60 (pool ranks, w=0 and w=1)",
        **{str(w): f"min-max fusion, BM25 weight {w}" for w in weights},
    }
    label["0.0"] = "pool, dense only (w=0: passage or best sentence)"
    label["1.0"] = "pool, BM25 only (w=1)"
    rows = {name: _retrieval(found) for name, found in ranks.items()}
    table(
        f"SQuAD v1.1 dev paragraph retrieval: {len(squad.contexts):,} paragraphs "
        f"({len(corpus.passages):,} passages), {n:,} questions, "
        f"{time.perf_counter() - started:.0f} s",
        ("method", "R@1", "R@5", "R@10", "MRR@10"),
        [(label[name], *row.values()) for name, row in rows.items()],
    )
    best = max(weights, key=lambda w: (rows[str(w)]["recall@1"], rows[str(w)]["mrr@10"]))
    print(f"  shipped: BM25 weight {settings.lexical_weight}; best recall@1 here: weight {best}")
    table(
        "SQuAD sentence extraction: gold answer inside the quotes of the top 3 citations",
        ("setting", "share", "count"),
        [
            ("as shipped (abstention on)", extracted / n, f"{extracted:,}/{n:,}"),
            ("abstention off", extracted_any / n, f"{extracted_any:,}/{n:,}"),
            ("answered (did not abstain)", answered / n, f"{answered:,}/{n:,}"),
        ],
    )
    abstention = _abstention_sweep(answerable_confidence, unanswerable_confidence, settings)
    return [
        {
            "benchmark": "squad_retrieval",
            "paragraphs": len(squad.contexts),
            "questions": n,
            "shipped_lexical_weight": settings.lexical_weight,
            "methods": {label[name]: row for name, row in rows.items()},
            "ours": rows[str(settings.lexical_weight)],
        },
        {
            "benchmark": "squad_extraction",
            "questions": n,
            "share": round(extracted / n, 4),
            "share_without_abstention": round(extracted_any / n, 4),
            "answered": round(answered / n, 4),
        },
        abstention,
    ]


def _abstention_sweep(
    answerable: list[float], unanswerable: list[float], settings: Settings
) -> dict[str, Any]:
    """Abstention on SQuAD questions (should answer) and our off-topic and unanswerable ones
    (should not), by the answer's calibrated confidence: ROC AUC, and what each threshold
    refuses, the shipped one included."""
    positive, negative = np.array(unanswerable), np.array(answerable)
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    auc = float(roc_auc_score(labels, -np.r_[positive, negative]))
    thresholds = sorted({*_CONFIDENCE_SWEEP, settings.min_confidence})
    rows = [
        (threshold, float((positive < threshold).mean()), float((negative < threshold).mean()))
        for threshold in thresholds
    ]
    table(
        f"Abstention: {len(answerable):,} SQuAD questions (answerable) vs {len(unanswerable)} "
        f"off-topic/unanswerable ones, by answer confidence (ROC AUC {auc:.3f}; shipped "
        f"min_confidence {settings.min_confidence})",
        ("refuse below", "off-topic refused", "answerable refused"),
        rows,
    )
    recall = float((positive < settings.min_confidence).mean())
    false_rate = float((negative < settings.min_confidence).mean())
    return {
        "benchmark": "squad_abstention",
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "min_confidence": settings.min_confidence,
        "roc_auc": round(auc, 4),
        "recall": round(recall, 4),
        "false_abstention_rate": round(false_rate, 4),
    }


def main() -> None:
    """On the shipped settings (``DATELINE_*`` can change them)."""
    one_query_at_a_time()
    settings = Settings()
    for record in bench_squad(open_encoder(settings), settings):
        emit(record)
