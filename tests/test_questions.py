"""Reading questions: the person asked about, unknown people, and follow-ups."""

from __future__ import annotations

import time

import pytest

from qa.questions import SpeakerIndex, read_question
from qa.schema import HistoryTurn, Segment

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
        ("Tell me what the Russian leader said about peacekeeping", (PUTIN,)),
        ("What did Putin and Shoigu say about the SCO?", (SHOIGU, PUTIN)),
        ("What does Putin think about joint drills?", (PUTIN,)),
        ("What did Putin tell the defense ministers?", (PUTIN,)),
        ("What did Shoigu announce about the exercises?", (SHOIGU,)),
        ("What has Putin promised the CSTO?", (PUTIN,)),
        ("What did Shoigu ever claim about color revolutions?", (SHOIGU,)),
        ("What did Putin have to say about training?", (PUTIN,)),
        ("How did Shoigu respond to the proposal?", (SHOIGU,)),
        ("Did Putin say anything about peacekeeping?", (PUTIN,)),
        ("Has Shoigu commented on the CSTO?", (SHOIGU,)),
        ("Putin's comments on training", (PUTIN,)),
        ("Shoigu’s statement on the CSTO", (SHOIGU,)),
        ("What were the Russian defense minister's remarks on drills?", (SHOIGU,)),
        ("What did Mr. Putin say about training?", (PUTIN,)),
        ("What Did Putin Say About Training?", (PUTIN,)),
        ("When are drills useful, according to Putin?", (PUTIN,)),
        ("tell me what putin said about training", (PUTIN,)),
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
        ("How did Olaf Scholz respond to the summit?", "Olaf Scholz"),
        ("What did Edward Said say about the SCO?", "Edward Said"),
        ("Did Emmanuel Macron comment on the drills?", "Emmanuel Macron"),
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


@pytest.fixture
def archive_speakers() -> SpeakerIndex:
    """Aliases as a news archive holds them: organisations and countries by their whole names,
    people also by surname, which may be a common word ("service")."""
    return SpeakerIndex(
        [
            ("putin", PUTIN),
            ("vladimir putin", PUTIN),
            ("robert service", "Robert Service"),
            ("service", "Robert Service"),
            ("great britain", "Great Britain"),
            ("obersee", "Obersee"),
            ("pacific gas electric company", "Pacific Gas Electric Company"),
            ("national park service", "National Park Service"),
            ("us postal service", "US Postal Service"),
            ("state department", "State Department"),
            ("white house", "White House"),
        ]
    )


@pytest.mark.parametrize(
    "question",
    [
        # Verbs that ask what a word means or what someone did, not what they said.
        "What does Obersee mean?",
        "What does Putin mean by a multipolar world?",
        "Did Great Britain claim Australia?",
        "Did Putin add troops to the exercise?",
        # Question words that ask when, where, which or who: the answer is no one's words.
        "When did Great Britain claim Australia?",
        "Where did Putin announce the drills?",
        "Why did Putin propose joint exercises?",
        "Which company said it will soon seek approval for the first vaccine to prevent RSV?",
        "What company said it will soon seek approval for an RSV vaccine?",
        "What service said it would close the trails?",
        "Which airline announced it is suspending service at JFK airport?",
        "Who said the park service would close the trails?",
        "Who claimed that the White House changed its position?",
        # A speech word and a speaker's name elsewhere in the question are no frame.
        "What position did the State Department take in the talks?",
        "Which Putin statement about training was quoted?",
        "According to the White House statement, which states had floods?",
        # Subjects that are no name: groups, kinds of things, titles, books.
        "What do Republicans say about the budget?",
        "What does the company say about the outage?",
        "According to analysis by the White House, how many jobs were added?",
        "What does Black's Law Dictionary say about rebellion?",
        "What does the president think about the drills?",
    ],
)
def test_only_a_named_speaker_of_a_speech_frame_restricts(
    archive_speakers: SpeakerIndex, question: str
) -> None:
    """A wrong restriction (or "no statements by X") is worse than none: without a frame
    whose subject is a name, the question is answered from the whole archive."""
    read = read_question(question, archive_speakers)
    assert (read.speakers, read.unknown_person) == (None, None)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("According to the White House, how soon could vaccines be ready?", ("White House",)),
        ("What did the State Department say about the strike?", ("State Department",)),
        ("How did the National Park Service respond to the fire?", ("National Park Service",)),
    ],
)
def test_organisations_speak_through_the_same_frames(
    archive_speakers: SpeakerIndex, question: str, expected: tuple[str, ...]
) -> None:
    assert read_question(question, archive_speakers).speakers == expected


def _history(question: str, answer: str) -> list[HistoryTurn]:
    return [HistoryTurn(question=question, answer=answer)]


_TRAINING = '"These joint training exercises are key," the Russian leader pointed out.'
_TRADITIONS = "Moscow highly values the traditions, Putin stressed."


def test_what_else_did_he_say_continues_with_the_last_speaker(speakers: SpeakerIndex) -> None:
    segments = [Segment(text=_TRAINING, citation=1), Segment(text=_TRADITIONS, citation=2)]
    history = [
        HistoryTurn(
            question="What did Putin say about training?",
            answer=f"{_TRAINING} [1] {_TRADITIONS} [2]",
            segments=segments,
        )
    ]
    read = read_question("What else did he say?", speakers, history)
    assert read.speakers == (PUTIN,)
    assert read.topic == PUTIN  # anything else of his, not only training
    assert read.exclude_quotes == (_TRAINING, _TRADITIONS)


def test_an_answer_sent_back_without_segments_is_excluded_whole(speakers: SpeakerIndex) -> None:
    answer = f"{_TRAINING} [1] {_TRADITIONS} [2]"
    history = _history("What did Putin say about training?", answer)
    assert read_question("What else did he say?", speakers, history).exclude_quotes == (answer,)


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


def test_his_remarks_continue_with_the_last_speaker(speakers: SpeakerIndex) -> None:
    history = _history("What did Putin say about training?", '"..." Putin said. [1]')
    read = read_question("What were his remarks on peacekeeping?", speakers, history)
    assert read.speakers == (PUTIN,)


def test_a_pronoun_outside_a_frame_is_about_them_not_by_them(speakers: SpeakerIndex) -> None:
    """ "Who told him to go?" asks about Putin; his own words need not answer it."""
    history = _history("What did Putin say about training?", '"..." Putin said. [1]')
    for question in ("Where was he born?", "Who told him to resign?"):
        read = read_question(question, speakers, history)
        assert read.speakers is None and read.unknown_person is None
        assert PUTIN in read.topic


def test_names_inside_quotes_are_not_the_speaker(speakers: SpeakerIndex) -> None:
    history = _history(
        "What was said about the CSTO?", '"Shoigu was right about the CSTO," Putin said. [1]'
    )
    assert read_question("What else did he say?", speakers, history).speakers == (PUTIN,)


def test_tell_me_more_after_a_topic_continues_the_topic(speakers: SpeakerIndex) -> None:
    """The last answer happened to quote Putin; the conversation was about peacekeeping."""
    history = _history(
        "What was said about peacekeeping?",
        '"Joint peacekeeping missions are significant," the Russian leader stressed. [1]',
    )
    read = read_question("Tell me more", speakers, history)
    assert read.speakers is None and read.topic == "What was said about peacekeeping?"


def test_tell_me_more_goes_back_over_bare_follow_ups(speakers: SpeakerIndex) -> None:
    history = [
        HistoryTurn(question="What did Shoigu say about the CSTO?", answer="a [1]"),
        HistoryTurn(question="What else did he say?", answer="b [1]"),
        HistoryTurn(question="Tell me more", answer="c [1]"),
    ]
    read = read_question("Anything else?", speakers, history)
    assert read.speakers == (SHOIGU,) and read.exclude_quotes == ("a [1]", "b [1]", "c [1]")


_LONG = 20_000
_ADVERSARIAL = [
    "a" * _LONG,
    "a " * (_LONG // 2),
    "'" * _LONG,
    "’s " * (_LONG // 3),
    "a's " * (_LONG // 4),
    "." * _LONG,
    " " * (_LONG - 1) + "x",
    "what " + "a " * (_LONG // 2) + "say",
    "did " * (_LONG // 4),
    "What did " * (_LONG // 9),
    "What Did Putin " * (_LONG // 15),
    "according to " * (_LONG // 13),
    "Putin's remarks " * (_LONG // 16),
    "a-a.a&a" * (_LONG // 7),
    "[1" * (_LONG // 2),
    '"' * _LONG,
]


@pytest.mark.parametrize("text", _ADVERSARIAL, ids=range(len(_ADVERSARIAL)))
def test_reading_takes_time_linear_in_the_text(speakers: SpeakerIndex, text: str) -> None:
    """Questions and history answers are user input: no pattern may backtrack over them (a
    run of 20,000 letters once took seconds). Reading takes up to ~50 ms; a call gets three
    tries at 0.2 s, so a busy machine does not fail the test."""
    history = [HistoryTurn(question=text[:1000], answer=text[:_LONG]) for _ in range(20)]
    for question, turns in ((text, []), ("What else did he say?", history), (text, history)):
        assert any(_seconds(question, speakers, turns) < 0.2 for _ in range(3))


def _seconds(question: str, speakers: SpeakerIndex, history: list[HistoryTurn]) -> float:
    started = time.perf_counter()
    read_question(question, speakers, history)
    return time.perf_counter() - started


def test_the_asking_sentence_is_read_apart_from_background(speakers: SpeakerIndex) -> None:
    background = "Grocery prices rose more than 13% over the last 12 months."
    read = read_question(
        f"{background} Which item showed one of the largest price spikes?", speakers
    )
    assert read.asking == "Which item showed one of the largest price spikes?"
    assert read_question("Which item showed the largest price spike?", speakers).asking is None
