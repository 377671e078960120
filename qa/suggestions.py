"""Starter questions: a few questions the archive answers, from its latest articles.

A reader facing an empty box does not know what the archive holds. The latest articles say
who has been speaking and about what:

- the speakers quoted most in them, each named as the archive's readers find them (a surname
  that names nobody else, else the full name);
- for each, the words their passages use and the rest of the archive seldom does (a word's
  passages among theirs, weighted by its BM25 inverse document frequency in the whole archive);
- "What did {speaker} say about {word}?" for the most salient words, each one asked: only a
  question answered, from that speaker's words alone, is offered; of those, the most confident;
- and "What happened in {dateline}?" for the latest articles' most frequent dateline, if the
  archive answers it.

Each question is asked before it is offered, so the questions are made once per data
generation of the archive (and day: articles dated after today are not answered from).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from qa.archive import Archive
from qa.lexical import content_terms

__all__ = ["STARTER_QUESTIONS", "StarterQuestions", "starter_questions", "take_turns"]

_RECENT_ARTICLES = 50
_SPEAKERS = 3
_SPEAKER_QUESTIONS = 3
STARTER_QUESTIONS = 4
# Salient words asked about per speaker, and datelines tried.
_TRIED = 5
# Words a topic may be: letters only, in lower case where the text uses them (a proper name
# or a sentence's first word is no topic), and no adverb or past form ("recently", "placed").
_WORD = re.compile(r"\b[^\W\d_A-Z]{4,}\b")
_NOT_TOPIC = re.compile(r"(?:ly|ed)$")
# A topic is a noun ("inflation", not "difficult"). With no tagger at hand, a word counts as one
# where its ending says so, or where the text uses it as one: after a determiner or a
# preposition, and ending the phrase (before punctuation or a word that starts another).
_NOUN_ENDING = re.compile(r"(?:tion|sion|ment|ness|ity|ance|ence|ism|ship|ists?|ers?)$")
_BEFORE_NOUN = frozenset(
    """the a an this that these those his her its their our my your no any some every each
    another such of in on at for about against with from by over after before between""".split()
)
_AFTER_NOUN = frozenset(
    """of in on at for to with from by about against and or but is was are were has have had
    will would could should can may must that which who as than""".split()
)
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _short_name(name: str, aliases: dict[str, set[str]]) -> str:
    """The surname when it names this speaker alone ("Putin"), else the full name."""
    for word in reversed(name.split()):
        if aliases.get(word.lower()) == {name}:
            return word
    return name


def _nouns(texts: Iterable[str]) -> set[str]:
    """The lower-case words the texts use as nouns (see _BEFORE_NOUN)."""
    found = set()
    for text in texts:
        tokens = [*_TOKEN.findall(text), "."]
        for before, word, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
            if before.lower() in _BEFORE_NOUN and (
                not after[0].isalnum() or after.lower() in _AFTER_NOUN
            ):
                found.add(word)
    return found


def _surface_forms(texts: Sequence[str]) -> dict[str, str]:
    """Each stem's most frequent lower-case noun in the texts ("train": "training")."""
    nouns = _nouns(texts)
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for word in _WORD.findall(text):
            if not _NOT_TOPIC.search(word) and (word in nouns or _NOUN_ENDING.search(word)):
                for stem in content_terms(word):
                    forms[stem][word] += 1
    return {stem: counted.most_common(1)[0][0] for stem, counted in forms.items()}


def _salient_words(archive: Archive, texts: Sequence[str], name_terms: frozenset[str]) -> list[str]:
    """The words of a speaker's passages the archive's other passages seldom use, best first."""
    forms = _surface_forms(texts)
    spread = Counter(stem for text in texts for stem in content_terms(text) if stem in forms)
    lexical = archive.indexes.lexical
    weighted = []
    for stem, passages in spread.items():
        if stem in name_terms:
            continue
        word = forms[stem]
        found_in = int((lexical.scores(word) > 0).sum())
        idf = math.log(1 + (lexical.count - found_in + 0.5) / (found_in + 0.5))
        weighted.append((-passages * idf, word))
    return [word for _, word in sorted(weighted)[:_TRIED]]


def _answered(archive: Archive, question: str, speaker: str | None = None) -> float | None:
    """The answer's confidence, when it answers (with ``speaker``'s words alone, if given)."""
    answer = archive.ask(question)
    if answer.abstained:
        return None
    if speaker is not None and (
        answer.speakers != [speaker] or any(c.speaker != speaker for c in answer.citations)
    ):
        return None
    return answer.confidence


def _speaker_questions(archive: Archive, quotes: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Per speaker quoted most, their answered questions, the most confident first."""
    by_speaker: dict[str, list[str]] = defaultdict(list)
    for speaker, text in quotes:
        by_speaker[speaker].append(text)
    aliases: dict[str, set[str]] = defaultdict(set)
    for alias, name in archive.store.reads.speaker_aliases():
        aliases[alias].add(name)
    named: dict[str, set[str]] = defaultdict(set)
    for alias, names in aliases.items():
        for name in names:
            named[name].add(alias)
    found = []
    # Ties go to the speaker quoted first, in the newest article.
    for speaker in sorted(by_speaker, key=lambda s: -len(by_speaker[s]))[:_SPEAKERS]:
        short = _short_name(speaker, aliases)
        name_terms = frozenset().union(*(content_terms(a) for a in named[speaker] | {speaker}))
        asked = []
        for word in _salient_words(archive, by_speaker[speaker], name_terms):
            question = f"What did {short} say about {word}?"
            confidence = _answered(archive, question, speaker)
            if confidence is not None:
                asked.append((-confidence, question))
        found.append([question for _, question in sorted(asked)])
    return found


def _dateline_question(archive: Archive) -> list[str]:
    """ "What happened in X?" for the latest articles' most frequent dateline it answers."""
    latest = archive.store.catalogue.list_articles(0, _RECENT_ARTICLES)
    places = Counter(a.dateline for a in latest if a.dateline)
    for place, _ in places.most_common(_TRIED):
        question = f"What happened in {place.title() if place.isupper() else place}?"
        if _answered(archive, question) is not None:
            return [question]
    return []


def take_turns(lists: Sequence[Sequence[str]]) -> list[str]:
    """The first of each list, then the second of each, and so on."""
    longest = max((len(found) for found in lists), default=0)
    return [found[i] for i in range(longest) for found in lists if i < len(found)]


def starter_questions(archive: Archive) -> list[str]:
    """Up to four questions the archive answers, from its latest articles; none when empty."""
    quotes = archive.store.reads.recent_quotes(_RECENT_ARTICLES)
    spoken = take_turns(_speaker_questions(archive, quotes))
    chosen = spoken[:_SPEAKER_QUESTIONS] + _dateline_question(archive)
    return (chosen + spoken[_SPEAKER_QUESTIONS:])[:STARTER_QUESTIONS]


class StarterQuestions:
    """Starter questions, made again when the data (its generation) or the day changes.

    ``make`` gives the questions and whether they are whole: questions made while part of a
    cluster did not answer are offered, but made again at the next request."""

    def __init__(
        self, generation: Callable[[], int], make: Callable[[], tuple[list[str], bool]]
    ) -> None:
        self._generation = generation
        self._make = make
        self._lock = threading.Lock()
        self._made: tuple[tuple[int, date], list[str]] | None = None

    @classmethod
    def of(cls, archive: Archive) -> StarterQuestions:
        """The starter questions of one archive."""
        return cls(lambda: archive.indexes.generation, lambda: (starter_questions(archive), True))

    def current(self) -> list[str]:
        with self._lock:  # asked at once, they are made once
            key = (self._generation(), date.today())
            if self._made is not None and self._made[0] == key:
                return list(self._made[1])
            made, whole = self._make()
            if whole:
                self._made = (key, made)
            return list(made)
