"""Answer composition: picks sentences from ranked passages and cites them; never rewrites text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qa.lexical import content_terms
from qa.retrieval import RankedPassage
from qa.schema import Citation
from qa.store import PassageRecord, SentenceRecord

__all__ = ["Candidate", "Composition", "compose_answer"]

# A second sentence joins the quote only when it answers nearly as well as the best one.
_SECOND_SENTENCE_MARGIN = 0.05
# Without a shared content word, only a clearly stronger semantic match counts as relevant.
_SEMANTIC_ONLY_MARGIN = 0.2
_NEAR_DUPLICATE = 0.8
_TERM_BONUS = 0.03


@dataclass(frozen=True)
class Candidate:
    passage: PassageRecord
    sentences: Sequence[SentenceRecord]
    ranked: RankedPassage


@dataclass(frozen=True)
class Composition:
    answer: str
    citations: list[Citation]

    @property
    def abstained(self) -> bool:
        return not self.citations


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _pick_sentences(
    candidate: Candidate, query_vector: npt.NDArray[np.float32], topic_terms: set[str]
) -> tuple[list[SentenceRecord], float]:
    """The sentence(s) that best answer, in text order, and the best one's cosine."""
    text = candidate.passage.text
    scored = []
    for sentence in candidate.sentences:
        cosine = float(sentence.vector @ query_vector)
        overlap = len(topic_terms & content_terms(text[sentence.start : sentence.end]))
        scored.append((cosine + _TERM_BONUS * min(overlap, 3), cosine, sentence))
    if not scored:
        return [], -1.0
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen = [scored[0][2]]
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - _SECOND_SENTENCE_MARGIN:
        chosen.append(scored[1][2])
    best_cosine = max(cosine for _, cosine, _ in scored)
    return sorted(chosen, key=lambda s: s.start), best_cosine


def compose_answer(
    candidates: Sequence[Candidate],
    query_vector: npt.NDArray[np.float32],
    topic_terms: set[str],
    top_k: int,
    min_relevance: float,
    *,
    speaker_restricted: bool = False,
    exclude_quotes: Sequence[str] = (),
) -> Composition:
    """Cite up to ``top_k`` relevant, distinct passages; none relevant means abstain.

    Relevance needs both a semantic match (cosine of the best sentence) and a shared content
    word, or a clearly strong semantic match: cosine alone does not separate answerable from
    unanswerable questions.
    """
    citations: list[Citation] = []
    chosen_terms: list[set[str]] = []
    cited_paragraphs: set[tuple[str, int]] = set()
    for candidate in candidates:
        if len(citations) == top_k:
            break
        passage = candidate.passage
        sentences, best_cosine = _pick_sentences(candidate, query_vector, topic_terms)
        if not sentences:
            continue
        shares_terms = bool(topic_terms & content_terms(passage.text))
        relevant = best_cosine >= min_relevance and (
            shares_terms or best_cosine >= min_relevance + _SEMANTIC_ONLY_MARGIN
        )
        if not relevant and not (speaker_restricted and not topic_terms):
            continue
        quotes = [passage.text[s.start : s.end] for s in sentences]
        if any(q in excluded for q in quotes for excluded in exclude_quotes):
            continue
        terms = content_terms(" ".join(quotes))
        key = (passage.article_id, passage.paragraph)
        if key in cited_paragraphs or any(
            _jaccard(terms, seen) >= _NEAR_DUPLICATE for seen in chosen_terms
        ):
            continue
        cited_paragraphs.add(key)
        chosen_terms.append(terms)
        citations.append(
            Citation(
                n=len(citations) + 1,
                **passage.source(),
                quote=" ".join(quotes),
                highlights=[(s.start, s.end) for s in sentences],
                score=round(candidate.ranked.score, 4),
            )
        )
    answer = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Composition(answer, citations)
