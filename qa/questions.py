"""Reading a question: who it asks about, what it is about, and what a follow-up refers to.

A question is restricted to one speaker's words only on an attribution frame whose subject is
a name: "what did X say/think/announce", "how did X respond", "according to X", "X's remarks on
Y", "did X say anything about Y". "Which company said", "who said" or "what does X mean" ask
about the world, not about X's words, and a wrong restriction costs more than none.

Questions and the earlier answers a client sends back are user input of any length: they are
cut into words once, by a pattern that cannot backtrack, and frames are matched on that word
list a few words at a time, so reading costs time linear in the text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from qa.answer_types import asking_sentence
from qa.errors import EmptyQuestionError
from qa.lexical import content_terms
from qa.lexicon import (
    FRAME_ADVERBS,
    GROUP_WORDS,
    IRREGULAR_PAST,
    NOT_NAME_OPENERS,
    ORGANISATION_WORDS,
    PARTICLES,
    QUESTION_AUXILIARIES,
    RESPONSE_VERBS,
    SPEECH_NOUNS,
    SPEECH_VERBS,
    SUBJECT_ENDS,
    TALK_VERBS,
)
from qa.schema import HistoryTurn
from qa.speakers import mask_quotes
from qa.timeframe import TimeWindow, read_time

__all__ = [
    "BLANK",
    "CleanQuestion",
    "Question",
    "SpeakerIndex",
    "clean_question",
    "read_question",
]

# The white space trimmed from questions: JSON Schema's \s, not Python's wider str.strip()
# (which also drops U+001C..U+001F), so the API's schema and its validation agree.
BLANK = " \t\n\r\f\v"


class CleanQuestion(str):
    """A question's text as read: without surrounding white space, never empty."""

    __slots__ = ()


def clean_question(text: str) -> CleanQuestion:
    """The question without surrounding white space; an empty one is an error.

    Whichever door a question comes in by (the HTTP model, the CLI, a Python call) cleans it;
    a question already clean passes through as it is, so the work is done once.
    """
    if isinstance(text, CleanQuestion):
        return text
    text = text.strip(BLANK)
    if not text:
        raise EmptyQuestionError
    return CleanQuestion(text)


# Speech words carry no topic: "what else did he say" asks about nothing new.
_SPEECH = re.compile(
    r"\b(?:say|said|says|saying|tell|told|think|thinks|thought|remarks?|comments?|words|"
    r"statements?|according to|quotes?|quoted|stress(?:ed)?|views?|position|speech|address|"
    r"claim(?:ed)?|believe[sd]?|argue[sd]?|warn(?:ed)?|propose[sd]?|suggest(?:ed)?)\b",
    re.IGNORECASE,
)
_PRONOUNS = {"he", "she", "they", "him", "her", "them", "his", "hers", "their"}
_PRONOUN = re.compile(rf"\b(?:{'|'.join(sorted(_PRONOUNS))})\b", re.IGNORECASE)
_POSSESSIVE_PRONOUNS = {"his": "he", "her": "she", "their": "they"}
_ELSE = re.compile(r"\b(?:else|more|other|another|again|anything|something)\b", re.IGNORECASE)
_NOT_PERSON = NOT_NAME_OPENERS | _PRONOUNS | GROUP_WORDS
_MAX_SUBJECT = 5  # words: "the Russian defense minister", "Putin and Shoigu"
_RECENT_TURNS = 3

# One word or one other character; the class holds no alternatives, so it never backtracks.
_TOKEN = re.compile(r"[\w'’.&-]+|[^\w\s]")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_JOINER = re.compile(r",|&|\band\b", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an) ")
_WORD_RE = re.compile(r"\w+(?:[.-]\w+)*")


def _words_key(text: str) -> str:
    return " ".join(w.lower() for w in _WORD_RE.findall(text))


@dataclass(frozen=True)
class Question:
    """A question as every later step needs it, read once where it comes in."""

    text: str  # as asked, trimmed
    topic: str  # what to search for: the question without its dates, pronouns resolved
    terms: frozenset[str]  # the topic's content words, without the name of whom it asks
    speakers: tuple[str, ...] | None  # whose words it asks for; None: anyone's
    unknown_person: str | None  # asked for by name, but never quoted in the archive
    exclude_quotes: tuple[str, ...]  # quoted earlier in the conversation: not again
    window: TimeWindow  # the dates it names, read against the asker's today
    asking: str | None  # the topic's sentence that asks, after background; None: one sentence

    def widened(self) -> Question:
        """The same question over its window's start up to the day it was asked."""
        return replace(self, window=replace(self.window, end=self.window.as_of))

    def among_undated(self) -> Question:
        """The same question over the articles of no date, its window set aside: an undated
        article may tell of any day, as a CMS export or an encyclopaedia's may."""
        window = replace(self.window, start=None, end=None, undated=True)
        return replace(self, window=window)


class _Reading(NamedTuple):
    """What the words of a question (or a follow-up with its conversation) ask for."""

    topic: str
    speakers: tuple[str, ...] | None = None
    unknown_person: str | None = None
    exclude_quotes: tuple[str, ...] = ()


class SpeakerIndex:
    """Every alias of every quoted speaker in the archive (names, surnames, titles)."""

    def __init__(self, aliases: Iterable[tuple[str, str]]) -> None:
        by_words: dict[str, set[str]] = defaultdict(set)
        for alias, name in aliases:
            by_words[_words_key(alias)].add(name)
        # Aliases as word sequences, so a question is looked up one word n-gram at a time: one
        # regex alternation of every alias costs milliseconds once an archive has thousands.
        self._by_words = {key: tuple(sorted(found)) for key, found in by_words.items() if key}
        # Every alias's leading words: a look-up stops at the first word no alias goes on with,
        # so a long answer costs one dictionary probe or two per word.
        self._prefixes = {
            tuple(words[:size])
            for words in (key.split() for key in self._by_words)
            for size in range(1, len(words) + 1)
        }
        self._first_words = {prefix[0] for prefix in self._prefixes}

    def find(self, text: str) -> tuple[str, tuple[str, ...]] | None:
        """The first alias in ``text`` (the longest one starting there) and whom it names."""
        words = list(_WORD_RE.finditer(text))
        lowered = [w.group(0).lower() for w in words]
        for start in range(len(words)):
            if lowered[start] not in self._first_words:
                continue
            best: tuple[int, tuple[str, ...]] | None = None
            end = start + 1
            while end <= len(words) and tuple(lowered[start:end]) in self._prefixes:
                found = self._by_words.get(" ".join(lowered[start:end]))
                if found is not None:
                    best = (end, found)
                end += 1
            if best is not None:
                return text[words[start].start() : words[best[0] - 1].end()], best[1]
        return None

    def named(self, name: str) -> tuple[str, ...]:
        found = self.find(name)
        return found[1] if found else ()

    def people(self, phrase: str) -> tuple[str, ...]:
        """Speakers a phrase names, one or several ("Putin and Shoigu"); () if it names none.

        Each part must be an alias as a whole (after "the"), so "the report" or "Merkel" never
        match a speaker merely by sharing a word with a title.
        """
        found: set[str] = set()
        for part in _JOINER.split(phrase):
            names = self._by_words.get(_ARTICLE.sub("", _words_key(part)))
            if names is None:
                return ()
            found.update(names)
        return tuple(sorted(found))


class _Word(NamedTuple):
    text: str
    key: str  # lower case, without a closing full stop
    start: int
    end: int
    is_word: bool  # not a mark of punctuation


@dataclass(frozen=True)
class _Asked:
    """The subject of a speech frame, as the question writes it."""

    subject: str
    strong: bool  # "what did X say": X is a speaker even in a question typed in lower case
    cased: bool = True  # capitals in the question mark names


def _words(text: str) -> list[_Word]:
    words = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        key = token.lower().rstrip(".")
        start = key[:1]
        words.append(_Word(token, key, match.start(), match.end(), start.isalnum() or start == "_"))
    return words


def _cased(words: Sequence[_Word]) -> bool:
    """Whether capitals can mark names: neither all lower case nor all Title Case."""
    initials = [w.text[0] for w in words if w.text[:1].isalpha()]
    return any(c.isupper() for c in initials) and any(c.islower() for c in initials)


def _is_subject_word(word: _Word) -> bool:
    return word.is_word and word.key not in SUBJECT_ENDS


def _phrase(text: str, words: Sequence[_Word]) -> str:
    return text[words[0].start : words[-1].end].rstrip(".")


def _after_auxiliary(text: str, words: list[_Word], at: int, cased: bool) -> _Asked | None:
    """ "what did X say", "how did X respond", "did X comment on Y": X between the auxiliary
    at ``at`` and a speech verb; "what does X mean" and "when did X claim Y" ask no words."""
    before = [w.key for w in words[max(at - 2, 0) : at]]
    if before[-1:] == ["what"] or before == ["what", "else"] or before == ["what", "exactly"]:
        verbs = SPEECH_VERBS
    elif before[-1:] == ["how"]:
        verbs = RESPONSE_VERBS
    elif at == 0 or not words[at - 1].is_word:  # a yes-or-no question
        verbs = TALK_VERBS
    else:
        return None
    end = at + 1
    while end < len(words) and end - at <= _MAX_SUBJECT + 2:
        word = words[end]
        if word.key == "have" and end + 2 < len(words) and words[end + 1].key == "to":
            word = words[end + 2]  # "what did X have to say"
        if word.key in verbs and not (cased and word.text[:1].isupper()):  # "Edward Said"
            subject = words[at + 1 : end]
            while subject and subject[-1].key in FRAME_ADVERBS:
                subject = subject[:-1]
            if not subject or len(subject) > _MAX_SUBJECT:
                return None
            return _Asked(_phrase(text, subject), strong=True)
        if not _is_subject_word(words[end]):
            return None
        end += 1
    return None


def _embedded(text: str, words: list[_Word], at: int, cased: bool) -> _Asked | None:
    """ "Tell me what X said about Y": "what" at ``at``, then X and a verb in the past; not
    "what company said", where "what" picks a kind of thing."""
    if at + 1 < len(words) and cased and words[at + 1].text[:1].islower():
        if words[at + 1].key != "the":
            return None
    end = at + 1
    while end < len(words) and end - at <= _MAX_SUBJECT + 1:
        word = words[end]
        past = word.key in IRREGULAR_PAST or word.key.endswith(("s", "d"))
        if end > at + 1 and word.key in SPEECH_VERBS and past and word.text[:1].islower():
            return _Asked(_phrase(text, words[at + 1 : end]), strong=False)
        if not _is_subject_word(word):
            return None
        end += 1
    return None


def _according_to(text: str, words: list[_Word], at: int) -> _Asked | None:
    """ "according to X, ...": X runs to a comma, a question word or the end."""
    end = at + 2
    while end < len(words) and _is_subject_word(words[end]):
        end += 1
        if end - at - 2 > _MAX_SUBJECT:
            return None
    return _Asked(_phrase(text, words[at + 2 : end]), strong=False) if end > at + 2 else None


def _possessor(text: str, words: list[_Word], at: int, speakers: SpeakerIndex) -> _Asked:
    """Whose remarks: "Shoigu's remarks", "Xi Jinping's comments", "the Russian leader's"."""
    first = at
    while first > 0 and at - first < _MAX_SUBJECT - 1 and _is_subject_word(words[first - 1]):
        first -= 1
    phrases = [_POSSESSIVE.sub("", _phrase(text, words[s : at + 1])) for s in range(first, at + 1)]
    for phrase in phrases:  # the longest alias that ends here
        if speakers.people(phrase):
            return _Asked(phrase, strong=False)
    start = first
    while start < at and not words[start].text[:1].isupper():
        start += 1  # "give me Xi Jinping's": the name is the capitalised words
    return _Asked(phrases[start - first], strong=False)


def _asked(text: str, speakers: SpeakerIndex) -> _Asked | None:
    """The first speech frame of a question and its subject, if it has one."""
    words = _words(text)
    cased = _cased(words)
    for at, word in enumerate(words):
        asked: _Asked | None = None
        following = words[at + 1].key if at + 1 < len(words) else ""
        if word.key in QUESTION_AUXILIARIES:
            asked = _after_auxiliary(text, words, at, cased)
        elif word.key == "what" and following not in QUESTION_AUXILIARIES:
            asked = _embedded(text, words, at, cased)
        elif word.key == "according" and following == "to":
            asked = _according_to(text, words, at)
        elif following in SPEECH_NOUNS and word.key in _POSSESSIVE_PRONOUNS:
            asked = _Asked(_POSSESSIVE_PRONOUNS[word.key], strong=True)
        elif following in SPEECH_NOUNS and _POSSESSIVE.search(word.text):
            asked = _possessor(text, words, at, speakers)
        if asked is not None:
            return _Asked(asked.subject, asked.strong, cased)
    return None


def _names_someone(phrase: str, cased: bool) -> bool:
    """Whether a frame's subject reads as a name: capitalised ("Angela Merkel", "Joe Biden"),
    or in a question typed all in lower case, one that is not a plural ("merkel", not
    "analysts"); never a group, a kind of organisation or a title ("the company")."""
    words = phrase.split()
    if not 0 < len(words) <= 4 or words[0].lower() in _NOT_PERSON:
        return False
    if len(words) == 1 and words[0].lower() in ORGANISATION_WORDS:
        return False
    if any(_POSSESSIVE.search(w) for w in words):  # "Black's Law Dictionary" is a book
        return False
    if cased:
        return all(w[:1].isupper() or w.lower() in PARTICLES | {"and", "of"} for w in words)
    return not words[-1].endswith("s")


def _display(phrase: str) -> str:
    return phrase.title() if phrase == phrase.lower() else phrase


def _quoted(turn: HistoryTurn) -> tuple[str, ...]:
    """What an earlier answer quoted: its segments' texts; from a client that sends none, the
    answer's text, which holds every quote."""
    if turn.segments is not None:
        return tuple(segment.text for segment in turn.segments)
    return (turn.answer,)


def _named_in_question(question: str, speakers: SpeakerIndex) -> tuple[str, ...] | None:
    """Whom an earlier question asked about: () for none, None for "he/she/they"."""
    asked = _asked(question, speakers)
    if asked is None:
        return ()
    if asked.subject.lower() in _PRONOUNS:
        return None
    return speakers.people(asked.subject) or speakers.named(asked.subject)


def _last_speakers(speakers: SpeakerIndex, history: Sequence[HistoryTurn]) -> tuple[str, ...]:
    """Whom "he/she/they" refers to: the latest question naming a speaker, else the speaker
    the latest answer quotes ("..., Putin said"; names inside the quotes do not count).

    Only the latest turns are read: a pronoun refers to someone just mentioned, and a client
    may send twenty answers of 20,000 characters each.
    """
    for turn in reversed(history[-_RECENT_TURNS:]):
        named = _named_in_question(turn.question, speakers)
        if named:
            return named
        for text in (turn.question, mask_quotes(turn.answer)[0]):
            found = speakers.find(text)
            if found is not None:
                return found[1]
    return ()


def _conversation_speakers(
    speakers: SpeakerIndex, history: Sequence[HistoryTurn]
) -> tuple[str, ...]:
    """Whom "tell me more" continues with: the speaker the latest question with a subject
    asked about, through "what else did he say"; none once a question asked about a topic."""
    for turn in reversed(history):
        named = _named_in_question(turn.question, speakers)
        if named is None or (not named and not _topic_words(turn.question)):
            continue  # "what else did he say", "tell me more": look further back
        return named
    return ()


def _last_topic(history: Sequence[HistoryTurn]) -> str:
    """The latest earlier question that was about something ("tell me more" is not)."""
    return next(
        (turn.question for turn in reversed(history) if _topic_words(turn.question)),
        history[-1].question,
    )


def _follow_up(
    text: str, asked: _Asked | None, speakers: SpeakerIndex, history: Sequence[HistoryTurn]
) -> _Reading | None:
    """A question that leans on the conversation: "what else did he say?", "tell me more",
    "where was she born?"; None for a question that stands on its own."""
    has_topic = bool(_topic_words(text))
    by_pronoun = asked is not None and asked.subject.lower() in _PRONOUNS
    bare = asked is None and not has_topic and _ELSE.search(text) is not None
    mentions = asked is None and _PRONOUN.search(text) is not None
    if not (by_pronoun or bare or mentions):
        return None
    exclude = tuple(quote for turn in history for quote in _quoted(turn))
    if by_pronoun:  # "what did he say about X": their words only
        named = _last_speakers(speakers, history)
        if not named:
            return _Reading(text if has_topic else _last_topic(history), exclude_quotes=exclude)
        topic = _PRONOUN.sub(" and ".join(named), text) if has_topic else " ".join(named)
        return _Reading(topic, named, exclude_quotes=exclude)
    if not has_topic:  # "tell me more", "what else?": whoever or whatever came last
        named = _conversation_speakers(speakers, history)
        if named:
            return _Reading(" ".join(named), named, exclude_quotes=exclude)
        return _Reading(_last_topic(history), exclude_quotes=exclude)
    named = _last_speakers(speakers, history)  # "where was he born": about them, not by them
    topic = _PRONOUN.sub(" and ".join(named), text) if named else text
    return _Reading(topic, exclude_quotes=exclude)


def read_question(
    text: str,
    speakers: SpeakerIndex,
    history: Sequence[HistoryTurn] = (),
    as_of: date | None = None,
) -> Question:
    """Who the question asks about, what about, when, and what a follow-up must not repeat.

    Its dates ("this week", "in June 2022") are read first, against ``as_of`` (default:
    today), then the words left for whom and what it asks. A speech frame ("what did X say",
    "according to X", "X's remarks on Y") restricts the answer to X's words; an X who is named
    but never quoted in the archive is reported as unknown, so the answer can say so instead of
    quoting someone else. "he/she/they" and bare follow-ups ("what else did he say?") refer to
    the person the conversation was last about, and skip what was quoted.
    """
    window = read_time(text, as_of or date.today())
    reading = _read_words(window.rest, speakers, history)
    asking = asking_sentence(reading.topic)
    return Question(
        text=text,
        topic=reading.topic,
        terms=_terms(reading, speakers),
        speakers=reading.speakers,
        unknown_person=reading.unknown_person,
        exclude_quotes=reading.exclude_quotes,
        window=window,
        asking=asking if asking.strip() != reading.topic.strip() else None,
    )


def _read_words(text: str, speakers: SpeakerIndex, history: Sequence[HistoryTurn]) -> _Reading:
    asked = _asked(text, speakers)
    if history:
        follow_up = _follow_up(text, asked, speakers, history)
        if follow_up is not None:
            return follow_up
    if asked is None:
        return _Reading(text)
    named = speakers.people(asked.subject)
    if named:
        return _Reading(text, named)
    if not _names_someone(asked.subject, asked.cased):  # "what did the report say", "which company"
        return _Reading(text)
    found = speakers.find(asked.subject)  # "President Biden", "Mr. Putin"
    if found is not None:
        return _Reading(text, found[1])
    if asked.cased or asked.strong:
        return _Reading(text, unknown_person=_display(asked.subject))
    return _Reading(text)


def _terms(reading: _Reading, speakers: SpeakerIndex) -> frozenset[str]:
    """Content words of the topic, without the name of the person whose words it asks for (a
    name the question merely mentions is part of its topic)."""
    terms = content_terms(reading.topic)
    if reading.speakers is None:
        return terms
    for name in reading.speakers:
        terms -= content_terms(name)
    found = speakers.find(reading.topic)
    if found is not None:
        terms -= content_terms(found[0])
    return terms


def _topic_words(text: str) -> frozenset[str]:
    """Content words of a question besides pronouns, speech verbs and "else"/"more"."""
    return content_terms(_SPEECH.sub(" ", _PRONOUN.sub(" ", _ELSE.sub(" ", text))))
