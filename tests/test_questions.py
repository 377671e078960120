"""Reading questions: the person asked about, unknown people, and follow-ups."""

from __future__ import annotations

import pytest

from qa.questions import SpeakerIndex, read_question
from qa.schema import HistoryTurn

PUTIN = "Vladimir Putin"
SHOIGU = "Sergey Shoigu"


@pytest.fixture
def speakers() -> SpeakerIndex:
    """The aliases ingest collects from the two seed articles."""
    return SpeakerIndex(
        [
            ("putin", PUTIN),
            ("vladimir putin", PUTIN),
            ("russian president", PUTIN),
            ("russian leader", PUTIN),
            ("head of state", PUTIN),
            ("shoigu", SHOIGU),
            ("sergey shoigu", SHOIGU),
            ("russian defense minister", SHOIGU),
        ]
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Putin say about training?", (PUTIN,)),
        ("what did putin say about training", (PUTIN,)),
        ("What has Vladimir Putin said about Eurasia?", (PUTIN,)),
        ("According to Shoigu, what holds a special place?", (SHOIGU,)),
        ("Shoigu's remarks on information exchange", (SHOIGU,)),
        ("What were Shoigu's remarks on the CSTO?", (SHOIGU,)),
        ("What did the Russian defense minister say about exercises?", (SHOIGU,)),
        ("Tell me what the head of state said about peacekeeping", (PUTIN,)),
        ("What did Putin and Shoigu say about the SCO?", (SHOIGU, PUTIN)),
    ],
)
def test_questions_about_a_person_restrict_to_them(
    speakers: SpeakerIndex, question: str, expected: tuple[str, ...]
) -> None:
    read = read_question(question, speakers)
    assert read.speakers == expected
    assert read.unknown_person is None and read.topic == question


@pytest.mark.parametrize(
    ("question", "person"),
    [
        ("What did Angela Merkel say about training?", "Angela Merkel"),
        ("what did merkel say", "Merkel"),
        ("According to Joe Biden, what should NATO do next?", "Joe Biden"),
        ("Xi Jinping's remarks on the SCO", "Xi Jinping"),
        ("What did Merkel say about Putin?", "Merkel"),
    ],
)
def test_a_person_never_quoted_is_unknown(
    speakers: SpeakerIndex, question: str, person: str
) -> None:
    read = read_question(question, speakers)
    assert read.unknown_person == person and read.speakers is None


@pytest.mark.parametrize(
    "question",
    [
        "Why should the SCO resist color revolutions?",
        "What did the report say about troops?",
        "What do analysts say about the SCO?",
        "what do analysts say about the sco",
        "What do military experts think of joint drills?",
        "What is the SCO according to the article?",
        "Putin on training",
    ],
)
def test_other_questions_are_not_about_a_speaker(speakers: SpeakerIndex, question: str) -> None:
    read = read_question(question, speakers)
    assert read.speakers is None and read.unknown_person is None
    assert read.exclude_quotes == ()


def _history(question: str, answer: str) -> list[HistoryTurn]:
    return [HistoryTurn(question=question, answer=answer)]


def test_what_else_did_he_say_continues_with_the_last_speaker(speakers: SpeakerIndex) -> None:
    history = _history(
        "What did Putin say about training?",
        '"These joint training exercises are key," the Russian leader pointed out. [1] '
        "Moscow highly values the traditions, Putin stressed. [2]",
    )
    read = read_question("What else did he say?", speakers, history)
    assert read.speakers == (PUTIN,)
    assert read.topic == PUTIN  # anything else of his, not only training
    assert read.exclude_quotes == (
        '"These joint training exercises are key," the Russian leader pointed out.',
        "Moscow highly values the traditions, Putin stressed.",
    )


def test_pronoun_with_a_new_topic_keeps_the_speaker(speakers: SpeakerIndex) -> None:
    history = _history("What did Shoigu say about the CSTO?", '"..." Shoigu said. [1]')
    read = read_question("What did he say about joint exercises?", speakers, history)
    assert read.speakers == (SHOIGU,)
    assert read.topic == f"What did {SHOIGU} say about joint exercises?"


def test_the_speaker_can_come_from_the_last_answer(speakers: SpeakerIndex) -> None:
    """A topic question cited Putin; "she/he/they" then refers to whom the answer quoted."""
    history = _history(
        "What was said about peacekeeping?",
        '"Joint peacekeeping missions are extremely significant today," the Russian leader '
        "stressed. [1]",
    )
    read = read_question("What else did they say?", speakers, history)
    assert read.speakers == (PUTIN,)


def test_the_latest_person_wins(speakers: SpeakerIndex) -> None:
    history = [
        HistoryTurn(question="What did Putin say about training?", answer="a [1]"),
        HistoryTurn(question="What did Shoigu say about the CSTO?", answer="b [1]"),
    ]
    assert read_question("Tell me more", speakers, history).speakers == (SHOIGU,)


def test_pronouns_without_history_name_nobody(speakers: SpeakerIndex) -> None:
    read = read_question("What else did he say?", speakers)
    assert read.speakers is None and read.unknown_person is None
