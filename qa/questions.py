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
# One to four words, none of them a question word: "What were Shoigu's remarks" names Shoigu.
_WORD = (
    r"(?!(?:what|who|whom|how|why|when|where|which|were|was|is|are|did|does|do|has|have|had)\b)"
    r"[\w'’.-]+"
)
_PERSON = rf"{_WORD}(?:\s+{_WORD}){{0,3}}?"
_SPEECH_VERBS = r"say|said|tell|think|believe|stress|claim|argue|warn|propose|suggest|add|mean"
_SPEECH_NOUNS = r"remarks?|comments?|words|statements?|views?|position|speech|address|quotes?"
# "what did X say", "according to X", "X's remarks on Y", "what has X said".
_ASKED_PERSON = re.compile(
    rf"(?:\b(?:did|does|do|has|have|had|will|would|could)\s+(?P<a>{_PERSON})\s+"
    rf"(?:ever\s+|also\s+|else\s+|really\s+)?(?:{_SPEECH_VERBS})\b)"
    rf"|(?:\baccording\s+to\s+(?P<b>{_PERSON})(?=\s*(?:[,?.!;]|$|\s(?:on|about|what|how|why|"
    rf"when|where|who|is|was|are|were|did|does|do|should|will|would|can)\b)))"
    rf"|(?:(?P<c>{_PERSON})['’]s?\s+(?:{_SPEECH_NOUNS})\b)"
    rf"|(?:\bwhat\s+(?P<d>{_PERSON})\s+(?:{_SPEECH_VERBS})(?:s|ed)?\b)",
    re.IGNORECASE,
)
_PRONOUNS = {"he", "she", "they", "him", "her", "them", "his", "hers", "their"}
_PRONOUN = re.compile(rf"\b(?:{'|'.join(sorted(_PRONOUNS))})\b", re.IGNORECASE)
_ELSE = re.compile(r"\b(?:else|more|other|another|again)\b", re.IGNORECASE)
# Words that open a phrase which is not a person's name: "what did the report say".
_NOT_PERSON = {
    "the", "a", "an", "this", "that", "these", "those", "you", "i", "we", "it", "my", "your",
    "our", "its", "people", "anyone", "anybody", "someone", "somebody", "everyone", "they",
    "experts", "officials", "what", "who", "which", "there", "article", "articles", "report",
}  # fmt: skip
_JOINER = re.compile(r"\s*(?:,|\band\b|&)\s*", re.IGNORECASE)


_WORD_RE = re.compile(r"\w+(?:[.-]\w+)*")


def _words_key(text: str) -> str:
    return " ".join(w.lower() for w in _WORD_RE.findall(text))


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
        by_words: dict[str, set[str]] = defaultdict(set)
        for alias, name in aliases:
            by_words[_words_key(alias)].add(name)
        # Aliases as word sequences, so a question is looked up one word n-gram at a time: one
        # regex alternation of every alias costs milliseconds once an archive has thousands.
        self._by_words = {key: tuple(sorted(found)) for key, found in by_words.items() if key}
        self._longest = max((key.count(" ") + 1 for key in self._by_words), default=0)

    def find(self, text: str) -> tuple[str, tuple[str, ...]] | None:
        """The first alias in ``text`` (the longest one starting there) and whom it names."""
        words = list(_WORD_RE.finditer(text))
        lowered = [w.group(0).lower() for w in words]
        for start in range(len(words)):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                found = self._by_words.get(" ".join(lowered[start : start + size]))
                if found is not None:
                    first, last = words[start], words[start + size - 1]
                    return text[first.start() : last.end()], found
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
        for part in _JOINER.split(phrase.strip()):
            part = re.sub(r"^(?:the|a|an)\s+", "", part.strip(" ?.!"), flags=re.IGNORECASE)
            names = self._by_words.get(_words_key(part))
            if names is None:
                return ()
            found.update(names)
        return tuple(sorted(found))


def _quoted_sentences(answer: str) -> tuple[str, ...]:
    """The quotes of an earlier answer: the text before each [n] marker."""
    return tuple(part.strip() for part in re.split(r"\s*\[\d+\]\s*", answer) if part.strip())


def _asked_person(text: str) -> str | None:
    """The phrase a question names as the one who spoke, if it asks who said what."""
    match = _ASKED_PERSON.search(text)
    return next(group for group in match.groups() if group).strip() if match else None


def _looks_like_person(phrase: str, question: str) -> bool:
    """Whether a phrase reads as someone's name: capitalised ("Angela Merkel"), or in a
    question typed all in lower case, one that is not a plural ("merkel", not "analysts")."""
    words = phrase.split()
    if not 0 < len(words) <= 4 or words[0].lower() in _NOT_PERSON | _PRONOUNS:
        return False
    if question != question.lower():
        return words[-1][:1].isupper()
    return not words[-1].endswith("s")


def _display(phrase: str) -> str:
    return phrase.title() if phrase == phrase.lower() else phrase


def _last_speakers(
    speakers: SpeakerIndex, history: Sequence[HistoryTurn]
) -> tuple[str, ...] | None:
    """Who the conversation was last about: the latest question naming a speaker, else the
    speaker the latest answer quotes ("..., Putin said")."""
    for turn in reversed(history):
        for text in (turn.question, turn.answer):
            asked = _asked_person(text)
            named = speakers.people(asked) if asked else ()
            if named:
                return named
            found = speakers.find(text)
            if found is not None:
                return found[1]
    return None


def read_question(
    text: str, speakers: SpeakerIndex, history: Sequence[HistoryTurn] = ()
) -> Question:
    """Who the question asks about, what about, and what a follow-up must not repeat.

    "What did X say (about Y)", "according to X", "X's remarks on Y" restrict the answer to X's
    words; an X who is never quoted in the archive is reported as unknown, so the answer can say
    so instead of quoting someone else. "he/she/they" and bare follow-ups ("what else did he
    say?") refer to the person the conversation was last about, and skip what was quoted.
    """
    asked = _asked_person(text)
    asks_speech = asked is not None or _SPEECH.search(text) is not None
    has_topic = bool(history) and bool(_topic_words(text))  # only follow-ups ask
    refers_back = bool(history) and (
        (asked is not None and asked.lower() in _PRONOUNS)
        or (asked is None and _PRONOUN.search(text) is not None)
        or (_ELSE.search(text) is not None and not has_topic)
    )
    if refers_back:
        named = _last_speakers(speakers, history)
        exclude = tuple(q for turn in history for q in _quoted_sentences(turn.answer))
        if named and not has_topic and (asks_speech or _ELSE.search(text)):
            # "What else did he say?": anything else of theirs, not only the last topic.
            return Question(text, " ".join(named), named, None, exclude)
        if not has_topic:
            return Question(text, history[-1].question, None, None, exclude)
        topic = _PRONOUN.sub(" and ".join(named), text) if named else text
        return Question(text, topic, named if asks_speech else None, None, exclude)
    if asked is not None:
        named = speakers.people(asked)
        if named:
            return Question(text, text, named, None, ())
        if not _looks_like_person(asked, text):  # "what did the report say", "what do you think"
            return Question(text, text, None, None, ())
        found = speakers.find(asked)
        if found is None:
            return Question(text, text, None, _display(asked), ())
        return Question(text, text, found[1], None, ())
    found = speakers.find(text)
    if found is not None and asks_speech:
        return Question(text, text, found[1], None, ())
    return Question(text, text, None, None, ())


def _topic_words(text: str) -> frozenset[str]:
    """Content words of a question besides pronouns, speech verbs and "else"/"more"."""
    return content_terms(_SPEECH.sub(" ", _PRONOUN.sub(" ", _ELSE.sub(" ", text))))
