"""Answer composition on hand-made vectors: sentence choice, diversity, abstention."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer import (
    COVERAGE_WEIGHT,
    Candidate,
    Preceding,
    Query,
    QuoteFloor,
    candidate_relevance,
    compose_answer,
    coverage,
    quote_floor,
    relevance,
)
from qa.answer_types import expectation
from qa.retrieval import RankedPassage
from qa.sentences import sentence_spans
from qa.settings import Settings
from qa.store import PassageRecord, SentenceRecord

_DIMENSION = 4


def _unit(*values: float) -> np.ndarray:
    vector = np.zeros(_DIMENSION, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


QUERY = _unit(1.0)
SHIPPED = Settings()


_SHIPPED = {"min_confidence": SHIPPED.min_confidence, "min_relevance": SHIPPED.min_relevance}


def _query(terms: set[str], question: str = "What happened to grain exports?") -> Query:
    return Query(QUERY, frozenset(terms), expectation(question))


def _candidate(
    passage_id: int,
    text: str,
    vectors: list[np.ndarray],
    *,
    article_id: str = "a",
    paragraph: int | None = None,
    speaker: str | None = None,
    score: float = 1.0,
    title: str = "t",
) -> Candidate:
    """A passage whose sentences (blingfire's) get ``vectors`` in order."""
    spans = sentence_spans(text)
    assert len(spans) == len(vectors), spans
    passage = PassageRecord(
        id=passage_id,
        article_id=article_id,
        title=title,
        date="2024-01-02",
        dateline="OSLO",
        agency="NTB",
        paragraph=paragraph if paragraph is not None else passage_id,
        part=0,
        heading=None,
        text=text,
        speaker=speaker,
    )
    sentences = [
        SentenceRecord(passage_id * 100 + i, passage_id, start, end, speaker, vector)
        for i, ((start, end), vector) in enumerate(zip(spans, vectors, strict=True))
    ]
    return Candidate(passage, sentences, RankedPassage(passage_id, score, 0.5, 1.0))


def test_best_sentence_is_quoted_verbatim_at_its_highlights() -> None:
    candidate = _candidate(
        1,
        "The weather was mild. Exports of grain rose sharply in May. Prices held.",
        [_unit(0.0, 1.0), _unit(1.0, 0.1), _unit(0.1, 1.0)],
    )
    answer = compose_answer([candidate], _query({"export", "grain"}), 3, 0.0)
    [citation] = answer.citations
    assert citation.quote == "Exports of grain rose sharply in May."
    assert [citation.text[a:b] for a, b in citation.highlights] == [citation.quote]
    assert answer.answer == "Exports of grain rose sharply in May. [1]"


def test_attribution_fragment_stays_with_its_quote() -> None:
    candidate = _candidate(
        1,
        '"Grain exports will double." said Farm Minister Anna Berg.',
        [_unit(1.0), _unit(0.0, 1.0)],
        speaker="Anna Berg",
    )
    [citation] = compose_answer([candidate], _query({"grain", "export"}), 3, 0.0).citations
    assert citation.quote == '"Grain exports will double." said Farm Minister Anna Berg.'
    assert len(citation.highlights) == 2


def test_a_second_sentence_joins_only_when_nearly_as_good() -> None:
    close = _candidate(
        1, "Grain exports rose. Grain exports doubled.", [_unit(1.0), _unit(1.0, 0.05)]
    )
    far = _candidate(2, "Grain exports rose. The port was closed.", [_unit(1.0), _unit(0.2, 1.0)])
    terms = {"grain", "export"}
    assert compose_answer([close], _query(terms), 1, 0.0).citations[0].quote == (
        "Grain exports rose. Grain exports doubled."
    )
    assert compose_answer([far], _query(terms), 1, 0.0).citations[0].quote == "Grain exports rose."


def test_near_duplicate_quotes_from_two_articles_are_cited_once() -> None:
    text = '"Grain exports will double," Berg said.'
    first = _candidate(1, text, [_unit(1.0, 0.1)], article_id="a")
    copy = _candidate(2, text, [_unit(1.0, 0.1)], article_id="b")
    other = _candidate(3, "Grain exports fell in the north.", [_unit(1.0, 0.0, 0.6)])
    answer = compose_answer([first, copy, other], _query({"grain", "export"}), 3, 0.0)
    assert [(c.article_id, c.n) for c in answer.citations] == [("a", 1), ("a", 2)]
    assert answer.citations[1].quote == "Grain exports fell in the north."


def test_one_citation_per_paragraph() -> None:
    part_one = _candidate(1, "Grain exports rose.", [_unit(1.0)], paragraph=4)
    part_two = _candidate(2, "Wheat exports fell.", [_unit(1.0, 0.0, 0.9)], paragraph=4)
    answer = compose_answer([part_one, part_two], _query({"export"}), 3, 0.0)
    assert [c.paragraph for c in answer.citations] == [4]


def test_diversity_prefers_a_new_point_over_a_restatement() -> None:
    """Maximal marginal relevance: the third-ranked, different quote beats the second-ranked
    quote that says nearly what the first one said."""
    first = _candidate(1, "Grain exports rose in May.", [_unit(1.0, 1.0)])
    restated = _candidate(
        2, "In May, exports of grain went up.", [_unit(1.0, 1.0, 0.65)], score=0.9
    )  # cosine 0.91 with the first: close, yet no near-duplicate
    different = _candidate(3, "Grain exports to Asia fell.", [_unit(1.0, -1.0)], score=0.8)
    answer = compose_answer([first, restated, different], _query({"grain", "export"}), 2, 0.0)
    assert [c.paragraph for c in answer.citations] == [1, 3]


def test_a_passage_ranked_a_little_lower_but_quoting_the_question_closely_leads() -> None:
    """The fused score ranks a passage by its best part; the citation order also weighs the
    sentence that would be quoted and the question's words in the passage."""
    loose = _candidate(1, "Farm news came out in May.", [_unit(1.0, 1.0)])
    close = _candidate(2, "Grain exports doubled in May.", [_unit(1.0, 0.2)], score=0.9)
    answer = compose_answer([loose, close], _query({"grain", "export"}), 2, 0.0)
    assert answer.citations[0].paragraph == 2
    far_behind = _candidate(2, "Grain exports doubled in May.", [_unit(1.0, 0.2)], score=0.3)
    answer = compose_answer([loose, far_behind], _query({"grain", "export"}), 2, 0.0)
    assert answer.citations[0].paragraph == 1


def test_relevance_is_cosine_plus_weighted_word_coverage() -> None:
    assert coverage({"grain", "export"}, "Grain prices") == 0.5
    assert coverage(set(), "anything") == 0.0
    assert relevance(0.4, {"grain", "export"}, "grain exports") == pytest.approx(
        0.4 + COVERAGE_WEIGHT
    )
    assert relevance(0.4, set(), "grain exports") == pytest.approx(0.4)


def test_off_topic_question_abstains() -> None:
    candidate = _candidate(1, "Grain exports rose in May.", [_unit(0.2, 1.0)])
    answer = compose_answer([candidate], _query({"chocol", "cake"}), 3, **_SHIPPED)
    assert answer.abstained and answer.citations == [] and answer.answer == ""


def test_shared_words_lift_a_modest_match_over_the_threshold() -> None:
    candidate = _candidate(1, "Grain exports rose in May.", [_unit(1.0, 1.5)])  # cosine 0.55
    assert not compose_answer([candidate], _query({"grain", "export"}), 3, **_SHIPPED).abstained
    assert compose_answer([candidate], _query({"wheat", "import"}), 3, **_SHIPPED).abstained


def test_the_quote_floor_admits_what_an_answer_may_quote() -> None:
    """A shard leaves out what the floor does not admit: each such passage is one that
    compose_answer would not quote either."""
    terms = frozenset({"grain", "export"})
    floor = quote_floor(terms, SHIPPED.min_relevance, speaker_restricted=False)
    assert floor == QuoteFloor(terms, SHIPPED.min_relevance)
    on_topic = _candidate(1, "Grain exports rose in May.", [_unit(1.0, 1.5)])
    off_topic = _candidate(2, "Wheat imports fell.", [_unit(1.0, 1.5)])
    empty = Candidate(on_topic.passage, [], on_topic.ranked)
    cosine = float(_unit(1.0, 1.5) @ QUERY)
    assert candidate_relevance(on_topic, QUERY, terms) == pytest.approx(cosine + COVERAGE_WEIGHT)
    assert candidate_relevance(empty, QUERY, terms) is None
    assert [floor.admits(c, QUERY) for c in (on_topic, off_topic, empty)] == [True, False, False]
    for candidate in (on_topic, off_topic):
        answer = compose_answer(
            [candidate], Query(QUERY, terms, expectation("grain?")), 3, **_SHIPPED
        )
        assert answer.abstained is not floor.admits(candidate, QUERY)
    # "What did Berg say?": every passage of theirs is relevant, there is no floor.
    assert quote_floor(frozenset(), SHIPPED.min_relevance, speaker_restricted=True) is None


def test_how_many_is_refused_when_no_passage_gives_a_figure() -> None:
    """A count no candidate passage gives is not in the archive, however close the passages;
    one figure anywhere in them, or another kind of question, answers as before."""
    terms = frozenset({"soldier", "forc"})
    close = _candidate(1, "Soldiers of the rapid reaction forces held drills.", [_unit(1.0, 0.3)])
    counted = _candidate(2, "The forces have 3,600 soldiers.", [_unit(1.0, 0.9)])
    how_many = Query(QUERY, terms, expectation("How many soldiers serve in the forces?"))
    assert compose_answer([close], how_many, 3, **_SHIPPED).abstained
    answered = compose_answer([close, counted], how_many, 3, **_SHIPPED)
    assert not answered.abstained and "3,600" in answered.answer
    what = Query(QUERY, terms, expectation("What do the soldiers of the forces do?"))
    assert not compose_answer([close], what, 3, **_SHIPPED).abstained


def test_question_about_a_person_without_topic_cites_their_passages() -> None:
    candidate = _candidate(1, '"We will act," Berg said.', [_unit(0.0, 1.0)], speaker="Anna Berg")
    assert compose_answer([candidate], _query(set()), 3, **_SHIPPED).abstained
    answer = compose_answer([candidate], _query(set()), 3, **_SHIPPED, speaker_restricted=True)
    assert [c.speaker for c in answer.citations] == ["Anna Berg"]


def test_quotes_of_earlier_answers_are_not_repeated() -> None:
    first = _candidate(1, "Grain exports rose in May.", [_unit(1.0)])
    second = _candidate(2, "Grain exports to Asia fell.", [_unit(1.0, 0.0, 0.5)])
    answer = compose_answer(
        [first, second],
        _query({"grain", "export"}),
        3,
        0.0,
        exclude_quotes=["Grain exports rose in May. [1]"],
    )
    assert [c.quote for c in answer.citations] == ["Grain exports to Asia fell."]


def test_the_sentence_holding_the_asked_kind_wins_a_close_call() -> None:
    """ "When": of two nearly equal sentences, the one with a date is quoted."""
    candidate = _candidate(
        1,
        "The grain deal was finally signed. It was signed on March 3.",
        [_unit(1.0, 0.1), _unit(1.0, 0.2)],
    )
    query = _query({"grain", "deal", "sign"}, "When was the grain deal signed?")
    [citation] = compose_answer([candidate], query, 1, 0.0).citations
    assert citation.quote.endswith("It was signed on March 3.")


def test_a_quote_that_refers_back_is_led_by_the_preceding_paragraph() -> None:
    """The best sentence restates the question ("the wildly popular show"); the paragraph
    before names the show, so the citation quotes both, highlighted in their joined text."""
    named = _candidate(1, "“Squid Game” is officially coming back.", [_unit(0.0, 1.0)])
    restating = _candidate(
        2, "Netflix said the wildly popular South Korean show is green lit.", [_unit(1.0)]
    )
    candidate = Candidate(
        restating.passage,
        restating.sentences,
        restating.ranked,
        Preceding(named.passage, named.sentences),
    )
    query = _query(
        {"wild", "popular", "show", "green", "lit"}, "Which wildly popular show was green lit?"
    )
    [citation] = compose_answer([candidate], query, 1, 0.0).citations
    assert citation.quote == (
        "“Squid Game” is officially coming back. "
        "Netflix said the wildly popular South Korean show is green lit."
    )
    assert citation.paragraph == 1 and citation.url.endswith("#p1")
    assert citation.text == f"{named.passage.text}\n{restating.passage.text}"
    assert " ".join(citation.text[a:b] for a, b in citation.highlights) == citation.quote


def test_a_citation_far_weaker_than_the_first_is_dropped() -> None:
    strong = _candidate(1, "Grain exports rose in May.", [_unit(1.0)])
    weak = _candidate(2, "Farmers met in June.", [_unit(1.0, 1.2)], score=0.5)
    answer = compose_answer([strong, weak], _query({"grain", "export"}), 3, 0.0)
    assert [c.paragraph for c in answer.citations] == [1]


def test_a_negated_question_the_quote_does_not_negate_is_less_certain() -> None:
    candidate = _candidate(1, "Grain exports rose in May.", [_unit(1.0, 0.5)])
    plain = compose_answer([candidate], _query({"grain", "export"}), 3, 0.0)
    negated = compose_answer(
        [candidate], _query({"grain", "export"}, "Which grain exports did not rise?"), 3, 0.0
    )
    assert negated.confidence < plain.confidence
    refused = compose_answer(
        [candidate], _query({"grain", "export"}), 3, min_confidence=plain.confidence + 0.01
    )
    assert refused.abstained and refused.confidence == plain.confidence


def test_a_paragraph_of_the_same_story_that_holds_the_asked_figure_leads() -> None:
    """The best match restates "how many" without a figure ("Millions of baby swings"); the
    story's paragraph with the figure leads, and the restatement follows it."""
    restating = _candidate(
        1, "Millions of baby swings were recalled this week.", [_unit(1.0)], score=1.0
    )
    figure = _candidate(2, "The recall affects 2 million swings.", [_unit(1.0, 0.6)], score=0.8)
    elsewhere = _candidate(
        3, "Another 40,000 swings were recalled.", [_unit(1.0, 0.5)], article_id="b", score=0.9
    )
    question = "How many baby swings were recalled this week?"
    query = _query({"baby", "swing", "recal", "week"}, question)
    answer = compose_answer([restating, elsewhere, figure], query, 2, 0.0)
    assert [(c.article_id, c.paragraph) for c in answer.citations][:2] == [("a", 2), ("a", 1)]


def test_without_a_kind_asked_for_the_best_match_leads() -> None:
    best = _candidate(1, "Grain exports rose in May.", [_unit(1.0)])
    other = _candidate(2, "Exports of grain reached 2 million tonnes.", [_unit(1.0, 0.6)])
    answer = compose_answer([best, other], _query({"grain", "export"}), 2, 0.0)
    assert answer.citations[0].paragraph == 1


def test_a_question_with_background_is_answered_by_what_its_asking_sentence_asks() -> None:
    """The opening paragraph restates the background (its vector is the whole question's);
    another paragraph of the story, ranked lower, answers the asking sentence: with the asking
    sentence's vector, that one leads, and within a passage its sentence is quoted."""
    asking = _unit(0.0, 1.0)
    restating = _candidate(1, "Grain prices rose 9% this year.", [QUERY], score=1.0)
    answering = _candidate(
        2,
        "Shops raised prices. Wheat rose most, by 40%.",
        [_unit(0.9, 0.0, 0.436), _unit(0.5, 1.0)],
        score=0.8,
    )
    question = "Grain prices rose 9% this year. Which grain rose most?"
    terms = {"grain", "price", "rose"}
    whole = Query(QUERY, frozenset(terms), expectation(question))
    with_asking = Query(QUERY, frozenset(terms), expectation(question), asking)
    before = compose_answer([restating, answering], whole, 2, 0.0).citations
    assert [c.paragraph for c in before] == [1, 2] and before[1].quote == "Shops raised prices."
    after = compose_answer([restating, answering], with_asking, 2, 0.0).citations
    assert after[0].paragraph == 2 and after[0].quote == "Wheat rose most, by 40%."


def test_an_opening_sentence_that_refers_back_is_led_by_the_headline() -> None:
    """The story's first sentence restates the question ("the wildly popular show"), and no
    paragraph comes before it: the headline, which names the show, leads the quote. A
    headline taken from that very sentence (a story without one of its own) adds nothing."""
    text = "Netflix said the wildly popular South Korean show is green lit."
    headline = "“Squid Game” is coming back for a second season"
    query = _query(
        {"wild", "popular", "show", "green", "lit"}, "Which wildly popular show was green lit?"
    )
    titled = _candidate(1, text, [_unit(1.0)], title=headline)
    [citation] = compose_answer([titled], query, 1, 0.0).citations
    assert citation.quote == f"{headline} {text}"
    assert citation.text == f"{headline}\n{text}" and citation.paragraph == 1
    assert " ".join(citation.text[a:b] for a, b in citation.highlights) == citation.quote
    later = _candidate(2, text, [_unit(1.0)], title=headline)
    assert compose_answer([later], query, 1, 0.0).citations[0].quote == text
    untitled = _candidate(1, text, [_unit(1.0)], title=text[:40] + "…")
    assert compose_answer([untitled], query, 1, 0.0).citations[0].quote == text
