"""Answer composition: picks sentences from ranked passages and cites them; never rewrites text.

Four decisions, measured by bench/squad.py, bench/realtimeqa.py and bench/squad2.py:

- **Which sentences.** In each passage, the sentence closest to the question (cosine, plus a
  small bonus per shared content word, plus one when it holds the kind of thing the question
  asks for: a name, a date, a number); a second one joins when nearly as close. A question
  with background before its asking sentence ("Grocery prices rose 13% ... Which item showed
  one of the largest spikes?") is measured by its asking sentence here, and in the choice of
  passages below: the background finds the story, and a sentence close to it only restates it.
  A short attribution fragment right after a chosen sentence ('"...," said Putin.' split in
  two) joins it, so the quote keeps its speaker. A sentence that only refers back to what is
  asked ("the show", "It") is led by the sentence before it, from the preceding paragraph if
  need be, or by its article's headline when it opens the article.
- **Which passages.** By the ranker's score and their own relevance together, but diverse:
  maximal marginal relevance over the chosen sentences' vectors, and near-duplicate quotes
  (the same quote in two wire stories) dropped.
- **Which passage leads.** When the first citation's quote lacks the kind of thing asked for
  (it restates the question), a nearly as relevant passage of the same story that supplies it
  leads instead.
- **How many.** A later citation far less relevant than the first is padding, and is dropped.
- **When to abstain.** Relevance (the best sentence's cosine plus ``COVERAGE_WEIGHT`` times the
  share of the question's content words the passage holds) and the other signals of
  ``qa.confidence`` give one calibrated confidence; below ``min_confidence`` the answer abstains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qa.answer_types import Expectation, Kind, expectation, negates, words
from qa.confidence import Signals, confidence
from qa.lexical import content_terms
from qa.retrieval import RankedPassage
from qa.schema import Citation, Segment
from qa.speakers import is_attribution
from qa.store import Attributes, PassageRecord, SentenceRecord

__all__ = [
    "COVERAGE_WEIGHT",
    "Candidate",
    "Composition",
    "POOL_PER_CITATION",
    "PickedSentences",
    "Preceding",
    "Query",
    "QuoteFloor",
    "candidate_relevance",
    "compose_answer",
    "coverage",
    "pick_sentences",
    "quote_floor",
    "relevance",
]

# Weight of word coverage (0..1) next to cosine in the relevance score: cosine alone barely
# tells answerable questions from off-topic and unanswerable ones (bench/squad.py and
# bench/squad2.py measure the abstention it gives).
COVERAGE_WEIGHT = 0.5
# A second sentence joins the quote only when it answers nearly as well as the best one.
_SECOND_SENTENCE_MARGIN = 0.15
_TERM_BONUS = 0.03
# A sentence holding the kind of thing asked for (a name, a date, a number) not in the question.
_KIND_BONUS = 0.05
# A later citation is kept only this close to the first one's relevance: padding is noise.
_CITATION_MARGIN = 0.3
# A passage of the first citation's story that supplies what its quote lacks leads when its
# relevance is this close to the first citation's (bench/realtimeqa.py measured 0.3 to 0.5).
_SAME_STORY_MARGIN = 0.5
# Citations are chosen by the ranker's fused score plus this share of the passage's relevance:
# the fused score ranks a passage by its best part (a sentence, its words), relevance by the
# sentence that would be quoted and the question's words around it.
_RELEVANCE_IN_CHOICE = 0.5
# A sentence before the best one joins it only when it is this close to the question too.
_LEAD_DISTANCE = 0.3
# Maximal marginal relevance: weight of the fused score against redundancy with chosen quotes.
_MMR_LAMBDA = 0.75
# Quotes this alike (cosine of their vectors, or Jaccard of their content words) are one quote.
_NEAR_DUPLICATE_COSINE = 0.92
_NEAR_DUPLICATE_TERMS = 0.8
# Diversity picks among the first few relevant candidates, not the whole ranked list.
POOL_PER_CITATION = 4
# Shorter earlier quotes are not used to recognise a passage already cited.
_MIN_QUOTE_WORDS = 3
# A passage left out by ``QuoteFloor.admits`` is this far below the floor at least: the source
# that checks (a shard, perhaps on another CPU) may round a cosine otherwise than the answer.
_FLOOR_SLACK = 1e-4
# An attribution fragment ("he said.") is this short.
_FRAGMENT_WORDS = 8

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Preceding:
    """The passage just before a candidate in its article, for a quote that refers back."""

    passage: PassageRecord
    sentences: Sequence[SentenceRecord]


@dataclass(frozen=True)
class Candidate:
    passage: PassageRecord
    sentences: Sequence[SentenceRecord]
    ranked: RankedPassage
    preceding: Preceding | None = None


@dataclass(frozen=True)
class Query:
    """The question as answering needs it: its vector, topic words and what it asks for."""

    vector: Vector
    terms: frozenset[str]
    expected: Expectation
    asking: Vector | None = None  # the asking sentence's, after background; None: one sentence

    @classmethod
    def of(
        cls,
        vector: Vector,
        topic: str,
        terms: frozenset[str] | None = None,
        asking: Vector | None = None,
    ) -> Query:
        terms = content_terms(topic) if terms is None else terms
        return cls(vector, terms, expectation(topic), asking)


@dataclass(frozen=True)
class Composition:
    citations: list[Citation]
    confidence: float
    signals: Signals | None = None  # what the confidence was computed from; None: no passage

    @property
    def abstained(self) -> bool:
        return not self.citations

    @property
    def segments(self) -> list[Segment]:
        return [Segment(text=c.quote, citation=c.n) for c in self.citations]

    @property
    def answer(self) -> str:
        """The quotes as one text, each followed by its marker, for readers of plain text."""
        return " ".join(f"{c.quote} [{c.n}]" for c in self.citations)


@dataclass(frozen=True)
class PickedSentences:
    """The sentences quoted from one passage (text order) and the best one's cosine."""

    sentences: list[SentenceRecord]
    best_cosine: float
    asked_cosine: float  # the best sentence's cosine to the asking sentence (``Query.asking``)
    vector: Vector  # the best sentence's, for redundancy between citations
    terms: frozenset[str]  # the quote's content words, for near-duplicates between citations
    supplied: bool  # the quote holds the kind of thing the question asks for
    lead: SentenceRecord | None = None  # the preceding passage's sentence that joins the quote
    headline: bool = False  # the article's headline leads the quote of its opening sentence


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _span(text: str, sentence: SentenceRecord) -> str:
    return text[sentence.start : sentence.end]


def pick_sentences(candidate: Candidate, query: Query) -> PickedSentences:
    """The sentence(s) of a passage that best answer; the passage has sentences (one without
    any has no ``candidate_relevance`` and is never picked from).

    When the best sentence only refers back to what the question asks about ("the show is
    green lit") and the sentence before it names it, that sentence joins the quote, from the
    preceding paragraph if need be; the article's opening sentence has the headline before it.
    """
    text = candidate.passage.text
    sentences = list(candidate.sentences)
    expected = query.expected
    terms = [content_terms(_span(text, s)) for s in sentences]
    cosines = [float(s.vector @ query.vector) for s in sentences]
    asked = cosines if query.asking is None else [float(s.vector @ query.asking) for s in sentences]
    supplies = [expected.supplied_by(_span(text, s)) for s in sentences]
    scores = [
        cosine + _TERM_BONUS * min(len(query.terms & words), 3) + _KIND_BONUS * supplied
        for cosine, words, supplied in zip(asked, terms, supplies, strict=True)
    ]
    ranked = sorted(range(len(sentences)), key=lambda i: scores[i], reverse=True)
    chosen = ranked[:1]
    if len(ranked) > 1 and scores[ranked[1]] >= scores[ranked[0]] - _SECOND_SENTENCE_MARGIN:
        chosen.append(ranked[1])
    for position in list(chosen):
        following = position + 1
        if following < len(sentences) and following not in chosen:
            if _is_fragment(_span(text, sentences[following])):
                chosen.append(following)
    chosen.sort()  # text order
    supplied = any(supplies[i] for i in chosen)
    best_cosine = max(cosines)
    lead = None
    headline = False
    if not supplied:
        # Refers back: the sentence before holds the answer however unlike the question it is.
        refers_back = expected.refers_back(_span(text, sentences[chosen[0]]))
        floor = (-1.0 if refers_back else best_cosine) - _LEAD_DISTANCE
        before = chosen[0] - 1
        if before >= 0 and supplies[before] and cosines[before] >= floor:
            chosen.insert(0, before)
            supplied = True
        elif before < 0:
            lead = _lead(candidate.preceding, query, floor)
            headline = lead is None and refers_back and _headline_names(candidate.passage, query)
            supplied = lead is not None or headline
    return PickedSentences(
        [sentences[i] for i in chosen],
        best_cosine=best_cosine,
        asked_cosine=max(asked),
        vector=sentences[ranked[0]].vector,
        # Words never span the space that joins sentences: the quote's terms are their union.
        terms=frozenset().union(*(terms[i] for i in chosen)),
        supplied=supplied,
        lead=lead,
        headline=headline,
    )


def _lead(preceding: Preceding | None, query: Query, floor: float) -> SentenceRecord | None:
    """The preceding passage's last sentence, when it supplies what the question asks for and
    its cosine reaches ``floor``."""
    if preceding is None or not preceding.sentences:
        return None
    last = preceding.sentences[-1]
    if float(last.vector @ query.vector) < floor:
        return None
    return last if query.expected.supplied_by(_span(preceding.passage.text, last)) else None


def _headline_names(passage: PassageRecord, query: Query) -> bool:
    """Whether the passage opens its article and the article's headline supplies what the
    question asks for; a headline taken from this very passage (an article without one of
    its own is titled by its first sentence) adds nothing."""
    if (passage.paragraph, passage.part) != (1, 0):
        return False
    title = passage.title.rstrip("…")
    return title not in passage.text and query.expected.supplied_by(passage.title)


def _is_fragment(sentence: str) -> bool:
    """'said Russian President Vladimir Putin.': an attribution with no words of its own."""
    return len(sentence.split()) <= _FRAGMENT_WORDS and is_attribution(sentence)


def coverage(topic_terms: frozenset[str], text: str) -> float:
    """Share of the question's content words that the passage contains (0 if it has none)."""
    if not topic_terms:
        return 0.0
    return len(topic_terms & content_terms(text)) / len(topic_terms)


def relevance(
    best_cosine: float,
    topic_terms: frozenset[str],
    text: str,
    coverage_weight: float = COVERAGE_WEIGHT,
) -> float:
    """How well a passage answers: its best sentence's cosine plus weighted word coverage."""
    return best_cosine + coverage_weight * coverage(topic_terms, text)


@dataclass(frozen=True)
class QuoteFloor:
    """The relevance a passage needs to be quoted, and the question's topic words it is
    measured with: sent with a question, it lets a cluster's shards keep to themselves the
    candidates that no answer would quote (as Elasticsearch's ``min_score`` does per shard)."""

    terms: frozenset[str]
    minimum: float
    coverage_weight: float = COVERAGE_WEIGHT

    def admits(self, candidate: Candidate, vector: Vector) -> bool:
        """Whether ``compose_answer`` might quote the candidate for the question of ``vector``
        (a passage without sentences it never quotes)."""
        score = candidate_relevance(candidate, vector, self.terms, self.coverage_weight)
        return score is not None and score >= self.minimum - _FLOOR_SLACK


def candidate_relevance(
    candidate: Candidate,
    vector: Vector,
    terms: frozenset[str],
    coverage_weight: float = COVERAGE_WEIGHT,
) -> float | None:
    """``relevance`` of a candidate passage for the question of ``vector``; None for one
    without sentences."""
    if not candidate.sentences:
        return None
    best_cosine = max(float(s.vector @ vector) for s in candidate.sentences)
    return relevance(best_cosine, terms, candidate.passage.text, coverage_weight)


def quote_floor(
    terms: frozenset[str],
    min_relevance: float,
    speaker_restricted: bool,
    coverage_weight: float = COVERAGE_WEIGHT,
) -> QuoteFloor | None:
    """What a quoted passage must reach; None for a question about a person with no topic
    ("What did Putin say?"), where the speaker filter already chose every passage."""
    if speaker_restricted and not terms:
        return None
    return QuoteFloor(terms, min_relevance, coverage_weight)


@dataclass(frozen=True)
class _Pick:
    candidate: Candidate
    picked: PickedSentences
    relevance: float

    @property
    def asked_relevance(self) -> float:
        """The relevance with the asking sentence's cosine in place of the whole question's:
        what passages are chosen by (the same for a question of one sentence)."""
        return self.relevance - self.picked.best_cosine + self.picked.asked_cosine


def compose_answer(
    candidates: Sequence[Candidate],
    query: Query,
    top_k: int,
    min_confidence: float,
    *,
    min_relevance: float = 0.0,
    speaker_restricted: bool = False,
    exclude_quotes: Sequence[str] = (),
    coverage_weight: float = COVERAGE_WEIGHT,
) -> Composition:
    """Cite up to ``top_k`` relevant, distinct passages; abstain below ``min_confidence``.

    A passage below ``min_relevance`` is never quoted: that floor refuses off-topic questions,
    the confidence refuses questions on the topic that the passages do not answer (except for
    a question restricted to one speaker, where the floor alone decides).

    A question about a person with no topic ("What did Putin say?") takes every passage of
    theirs as relevant: the speaker filter already answered it.
    """
    floor = quote_floor(query.terms, min_relevance, speaker_restricted, coverage_weight)
    everything = floor is None
    pool: list[_Pick] = []
    for candidate in candidates:
        if len(pool) == top_k * POOL_PER_CITATION:
            break
        # Before the costlier choice of its sentences: most candidates are below the floor.
        score = candidate_relevance(candidate, query.vector, query.terms, coverage_weight)
        if score is None or (floor is not None and score < floor.minimum):
            continue
        picked = pick_sentences(candidate, query)
        if _already_cited(candidate.passage.text, picked, exclude_quotes):
            continue
        pool.append(_Pick(candidate, picked, score))
    chosen = _diverse(pool, top_k)
    if not chosen:
        return Composition([], 0.0)
    first = chosen[0]
    if not everything:
        chosen = [p for p in chosen if p.relevance >= first.relevance - _CITATION_MARGIN]
        chosen = _answer_first(chosen, pool, query.expected)
    runner_up = max((p.relevance for p in pool if p is not first), default=0.0)
    signals = Signals(
        relevance=first.relevance,
        cosine=first.picked.best_cosine,
        kind_missing=query.expected.kind is not Kind.ANY and not first.picked.supplied,
        specifics=_specifics_found(query, first.candidate.passage.text),
        margin=first.relevance - runner_up,
        quote_coverage=len(query.terms & first.picked.terms) / max(len(query.terms), 1),
        negated=query.expected.negated,
        negation_unmatched=query.expected.negated and not negates(_quote(first)),
    )
    score = 1.0 if everything else confidence(signals)
    # The model was fitted on questions anyone may answer; among one speaker's passages its
    # margin and coverage read differently, and the relevance floor alone decides.
    if score < min_confidence and not speaker_restricted:
        return Composition([], score, signals)
    if not speaker_restricted and _counts_nothing(query.expected, pool):
        return Composition([], score, signals)
    citations = [_citation(n, pick) for n, pick in enumerate(chosen, 1)]
    return Composition(citations, score, signals)


def _counts_nothing(expected: Expectation, pool: list[_Pick]) -> bool:
    """A "how many" or "how much" question that no candidate passage gives a figure for: the
    archive does not answer it, however close its passages ("How many soldiers serve in the
    CSTO forces?" of stories that never count them). A "when" question is not refused so: its
    answer is often no date ("after the war"), and SQuAD 2.0's answerable ones were refused too.
    """
    return expected.kind is Kind.QUANTITY and not any(
        expected.supplied_by(p.candidate.passage.text) for p in pool
    )


def _specifics_found(query: Query, text: str) -> float:
    """Share of the question's names and numbers that the passage holds (1 if it has none).

    A question written to look answerable from a passage often swaps one name or number.
    """
    wanted = query.expected.specifics
    if not wanted:
        return 1.0
    return len(wanted & words(text)) / len(wanted)


def _already_cited(text: str, picked: PickedSentences, quotes: Sequence[str]) -> bool:
    """Whether an earlier answer quoted this passage (follow-ups never repeat a passage)."""
    mine = [_span(text, s) for s in picked.sentences]
    return any(
        quote in text or any(m in quote for m in mine)
        for quote in quotes
        if len(quote.split()) >= _MIN_QUOTE_WORDS  # "Yes." alone would match anything
    )


def _diverse(pool: list[_Pick], top_k: int) -> list[_Pick]:
    """Maximal marginal relevance (Carbonell and Goldstein, 1998) over the ranked pool.

    Relevance is the ranker's fused score (1 for its best passage) plus a share of the pick's
    own relevance (``_Pick.asked_relevance``); redundancy is the highest cosine between a
    candidate's best sentence and those already chosen. One citation per paragraph, and
    near-duplicate quotes are never both cited.
    """
    chosen: list[_Pick] = []
    remaining = list(pool)
    while remaining and len(chosen) < top_k:
        best: tuple[float, int] | None = None
        for index, pick in enumerate(remaining):
            redundancy = max(
                (float(pick.picked.vector @ c.picked.vector) for c in chosen), default=0.0
            )
            if redundancy >= _NEAR_DUPLICATE_COSINE or _repeats(pick, chosen):
                continue
            worth = pick.candidate.ranked.score + _RELEVANCE_IN_CHOICE * pick.asked_relevance
            score = _MMR_LAMBDA * worth - (1 - _MMR_LAMBDA) * redundancy
            if best is None or score > best[0]:
                best = (score, index)
        if best is None:
            break
        chosen.append(remaining.pop(best[1]))
    return chosen


def _answer_first(chosen: list[_Pick], pool: list[_Pick], expected: Expectation) -> list[_Pick]:
    """The first citation, when its quote lacks what the question asks for (it restates the
    question: "Millions of baby swings ... have been recalled"), gives the lead to the best
    passage of the same story that supplies it ("The recall affects 2 million MamaRoo swings"),
    if that passage is nearly as relevant. The story is the one the ranking chose; only the
    paragraph quoted from it changes."""
    first = chosen[0]
    if expected.kind is Kind.ANY or first.picked.supplied:
        return chosen
    story = first.candidate.passage.article_id
    supplying = [
        p
        for p in pool
        if p.picked.supplied
        and p.candidate.passage.article_id == story
        and p.relevance >= first.relevance - _SAME_STORY_MARGIN
    ]
    if not supplying:
        return chosen
    best = max(supplying, key=lambda p: p.asked_relevance)
    return [best, *(p for p in chosen if p is not best)][: len(chosen)]


def _repeats(pick: _Pick, chosen: list[_Pick]) -> bool:
    passage = pick.candidate.passage
    return any(
        (c.candidate.passage.article_id, c.candidate.passage.paragraph)
        == (passage.article_id, passage.paragraph)
        or _jaccard(pick.picked.terms, c.picked.terms) >= _NEAR_DUPLICATE_TERMS
        for c in chosen
    )


def _quote(pick: _Pick) -> str:
    text = pick.candidate.passage.text
    return " ".join(_span(text, s) for s in pick.picked.sentences)


def _citation(n: int, pick: _Pick) -> Citation:
    """The citation of one passage; a quote led by the preceding passage's last sentence cites
    both passages, joined by a line break, from the first one's paragraph, and one led by the
    headline cites it on the line before the passage."""
    passage, picked = pick.candidate.passage, pick.picked
    first = passage  # the citation names the first passage it quotes: its paragraph and page
    text, offset = passage.text, 0
    highlights: list[tuple[int, int]] = []
    preceding = pick.candidate.preceding
    if picked.lead is not None and preceding is not None:
        text = f"{preceding.passage.text}\n{passage.text}"
        offset = len(preceding.passage.text) + 1
        highlights.append((picked.lead.start, picked.lead.end))
        first = preceding.passage
    elif picked.headline:
        text = f"{passage.title}\n{passage.text}"
        offset = len(passage.title) + 1
        highlights.append((0, len(passage.title)))
    highlights += [(s.start + offset, s.end + offset) for s in picked.sentences]
    cited = Attributes(
        passage,
        n=n,
        paragraph=first.paragraph,
        url=first.url,
        text=text,
        quote=" ".join(text[start:end] for start, end in highlights),
        highlights=highlights,
        score=round(pick.candidate.ranked.score, 4),
    )
    return Citation.model_validate(cited, from_attributes=True)
