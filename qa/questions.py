"""Reading a question: who it asks about, what it is about, and what a follow-up refers to."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.errors import EmptyQuestionError
from qa.lexical import content_terms
from qa.schema import HistoryTurn

__all__ = ["BLANK", "Question", "SpeakerIndex", "clean_question", "read_question"]

# The white space trimmed from questions: JSON Schema's \s, not Python's wider str.strip()
# (which also drops U+001C..U+001F), so the API's schema and its validation agree.
BLANK = " \t\n\r\f\v"


def clean_question(text: str) -> str:
    """The question without surrounding white space; an empty one is an error."""
    text = text.strip(BLANK)
    if not text:
        raise EmptyQuestionError
    return text


_SPEECH = re.compile(
    r"\b(?:say|said|says|saying|tell|told|think|thinks|thought|remarks?|comments?|words|"
    r"statements?|according to|quotes?|quoted|stress(?:ed)?|views?|position|speech|address|"
    r"claim(?:ed)?|believe[sd]?|argue[sd]?|warn(?:ed)?|propose[sd]?|suggest(?:ed)?)\b",
    re.IGNORECASE,
)
_ASKED_PERSON = re.compile(
    r"(?:\b(?:did|does|has|have|had|do|will|would)\s+(?P<a>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})"
    r"\s+(?:say|said|tell|think|believe|stress|claim|argue|warn|propose|suggest)\b)"
    r"|(?:\baccording to\s+(?P<b>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}))"
    r"|(?:(?P<c>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})['’]s\s+(?:remarks?|comments?|words|"
    r"statements?|views?|position|speech|address))",
)
_PRONOUN = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_ELSE = re.compile(r"\b(?:else|more|other|another|again)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    text: str
    topic: str
    speakers: tuple[str, ...] | None
    unknown_person: str | None
    exclude_quotes: tuple[str, ...]


class SpeakerIndex:
    """Every alias of every quoted speaker in the archive (names, surnames, titles)."""

    def __init__(self, aliases: Iterable[tuple[str, str]]) -> None:
        names: dict[str, set[str]] = defaultdict(set)
        for alias, name in aliases:
            names[alias.lower()].add(name)
        self._names = dict(names)
        longest_first = sorted(self._names, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, longest_first)) + r")\b", re.IGNORECASE)
            if longest_first
            else None
        )

    def find(self, text: str) -> tuple[str, tuple[str, ...]] | None:
        """The first alias in ``text`` and the canonical speakers it names."""
        if self._pattern is None:
            return None
        match = self._pattern.search(text)
        if match is None:
            return None
        return match.group(0), tuple(sorted(self._names[match.group(0).lower()]))

    def named(self, name: str) -> tuple[str, ...]:
        found = self.find(name)
        return found[1] if found else ()


def _quoted_sentences(answer: str) -> tuple[str, ...]:
    """The quotes of an earlier answer: the text before each [n] marker."""
    return tuple(part.strip() for part in re.split(r"\s*\[\d+\]\s*", answer) if part.strip())


def read_question(
    text: str, speakers: SpeakerIndex, history: Sequence[HistoryTurn] = ()
) -> Question:
    """Resolve the person asked about (from the question, or a pronoun from the history)."""
    asks_speech = _SPEECH.search(text) is not None
    found = speakers.find(text)
    topic = text
    exclude: tuple[str, ...] = ()
    if found is None and history and _PRONOUN.search(text):
        for turn in reversed(history):
            found = speakers.find(turn.question)
            if found:
                break
        if _ELSE.search(text) or not content_terms(_PRONOUN.sub(" ", text)):
            exclude = tuple(q for turn in history for q in _quoted_sentences(turn.answer))
            if not content_terms(_SPEECH.sub(" ", _PRONOUN.sub(" ", _ELSE.sub(" ", text)))):
                topic = history[-1].question
    if found is not None:
        if asks_speech:
            return Question(text, topic, found[1], None, exclude)
        return Question(text, topic, None, None, exclude)
    asked = _ASKED_PERSON.search(text)
    if asked is not None:
        who = next(group for group in asked.groups() if group)
        return Question(text, topic, None, who, exclude)
    return Question(text, topic, None, None, exclude)
