"""What a question asks for (a person, a time, a quantity, a place, a name) and whether a
sentence supplies it: something of that kind that the question does not already say.

A quote that restates the question ("the wildly popular show is green lit") is close to it in
meaning but answers nothing; the sentence that adds the missing name, date or number does. These
are English surface cues, as cheap as the model that reads the sentences is English-only: a
question of no recognised kind expects nothing, and every sentence then supplies it. A place
must be a known one or follow "in", "near" and the like (``qa.places``), since taking every
capitalised word for a place or a name let the restating sentence pass for an answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from qa.attribution_lexicon import STOPWORDS, TITLE_WORDS
from qa.lexicon import GROUP_WORDS, OPENING_WORDS, ORGANISATION_WORDS
from qa.people import NAME_RUN, bare_word, is_acronym
from qa.places import is_place
from qa.sentences import sentence_spans

__all__ = [
    "Expectation",
    "Kind",
    "asking_sentence",
    "expectation",
    "name_runs",
    "negates",
    "people",
    "places",
    "words",
]


class Kind(Enum):
    PERSON = "person"
    TIME = "time"
    QUANTITY = "quantity"
    PLACE = "place"
    NAME = "name"  # a proper name or title: "which company", "what show"
    ANY = "any"


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|"
    "dozens|half|quarter|double|twice|triple"
)
_TIME = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?|{_DAYS}|(?:1[5-9]|20)\d\d|\d{{1,2}}(?:st|nd|rd|th)|yesterday|"
    r"today|tomorrow|tonight|(?:last|next|this|past|coming)\s+(?:week|month|year|spring|summer|"
    r"fall|autumn|winter|weekend)|ago|century|decade|(?:\d+|a|an|one|two|three|few)\s+"
    r"(?:days?|weeks?|months?|years?|hours?|minutes?))\b",
    re.IGNORECASE,
)
# A capitalised word; "’s" and the like stay outside, and sentence starts are judged apart.
_CAPITALISED = re.compile(r"\b[A-Z][\w&.-]*[\w&]|\b[A-Z]\b")
# "the" or "this" and a word of the question's description within the next four words.
_DEFINITE = frozenset({"the", "this", "that", "its"})
_DESCRIPTION_WORDS = 4
_PRONOUNS = frozenset({"it", "he", "she", "they", "this", "these", "its", "his", "her", "their"})
_NEGATION = re.compile(
    r"\b(?:not|never|no|none|neither|nor|without|cannot)\b|n[’']t\b", re.IGNORECASE
)
_NUMBER = re.compile(r"\d[\d,.]*")
_NUMBER_WORD_SET = frozenset(_NUMBER_WORDS.split("|"))
# A figure ("13.1", "4,000") or a word: how a sentence's amounts are read with their units.
_AMOUNT_TOKEN = re.compile(r"\b\d(?:[\d,.]*\d)?\b|[^\W\d]+")
# "Millions of baby swings" is no figure for "how many".
_VAGUE_NUMBERS = frozenset("hundreds thousands millions billions trillions dozens".split())
# Units a figure must name to answer "how many minutes": "three hours" does not.
_DURATIONS = frozenset("second minute hour day week month year decade century".split())
_UNIT_WORDS = 3
_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
_COUNTING_QUESTION = re.compile(r"\bhow\s+(?:many|much)((?:\s+\w+){1,4})", re.IGNORECASE)
_QUOTED_TITLE = re.compile(r"[“\"][^”\"]{1,80}[”\"]")
_NAME_RUNS = re.compile(NAME_RUN)
_POSSESSIVE = re.compile(r"[’']s?$")
_EDGE_PUNCTUATION = ",.;:!?“”\"‘’'()"
_CALENDAR_WORDS = frozenset(f"{_MONTHS}|{_DAYS}".split("|"))
_NO_PLACE = ORGANISATION_WORDS | _CALENDAR_WORDS  # "in the Commerce Department", "in May"
_NO_PERSON = ORGANISATION_WORDS | GROUP_WORDS
# Places are named in at most this many words ("Democratic Republic of the Congo" aside).
_PLACE_WORDS = 3
# "in Whitewood", "near Yosemite": a name after these is a place unless it is an organisation.
_LOCATIVE = re.compile(rf"\b(?:in|near|at|from|across|into|outside|off)\s+(?:the\s+)?({NAME_RUN})")
_WORD = re.compile(r"\w+")

# Head nouns after "which"/"what" that ask for each kind (singular; a final "s" is dropped).
_HEADS = {
    Kind.PLACE: (
        "country nation state city town village continent region area place island county "
        "province territory capital park location destination border coast river lake "
        "mountain airport port neighborhood district site"
    ),
    Kind.TIME: "year date day month week time decade century season era",
    Kind.QUANTITY: (
        "number percentage percent amount price cost total rate share sum figure age count "
        "temperature magnitude distance weight height size speed score"
    ),
    # Things known by a proper name or title; any other noun ("which product", "what change")
    # may be answered by a common one ("baby formula"), and expects nothing in particular.
    Kind.NAME: (
        "company firm brand team club band airline carrier network channel show series movie "
        "film book novel song album game app platform website organization organisation agency "
        "party newspaper magazine ship university college school tournament award prize mission "
        "storm hurricane virus disease variant vaccine drug bill law treaty festival holiday "
        "summit retailer automaker manufacturer startup studio streamer league franchise "
        "character"
    ),
    Kind.PERSON: (
        "person man woman actor actress singer player athlete leader official politician "
        "senator lawmaker judge author writer director ceo founder president minister governor "
        "mayor star celebrity rapper artist musician candidate executive justice representative "
        "rep lawyer doctor scientist astronaut coach chef king queen prince princess pope member "
        "head chief"
    ),
}
_HEAD_KIND = {word: kind for kind, words in _HEADS.items() for word in words.split()}
_QUANTITY_QUESTION = re.compile(
    r"\bhow\s+(?:many|much|long|old|far|big|large|tall|high|fast|often|deep|wide|heavy)\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(r"\bwhen\b|\bwhat\s+time\b|\bhow\s+soon\b", re.IGNORECASE)
# "which"/"what" and the three words after it, where the head noun of the asked thing is.
_WHICH = re.compile(r"\b(which|what|whose)((?:\s+\w+){1,3})", re.IGNORECASE)
# Words after which/what that open no noun phrase ("what did", "which is", "what this
# week"), and that end one: the head noun is before them ("which head of state", "which measure
# did lawmakers").
_NOT_HEADS = frozenset(
    "is are was were did does do has have had will would can could should may might must "
    "the a an of to in on for about kind type sort this that these those".split()
)
# "What is the mission called?": a name, whatever the noun.
_NAMING_QUESTION = re.compile(r"\b(?:called|named|titled|nicknamed)\W*$", re.IGNORECASE)
# Capitalised words that name no answer: sentence openers, titles, weekdays and months alike.
_NOT_NAMES = frozenset(
    "the a an this that these those it its he she they we i you his her their our mr mrs ms dr "
    "but and or so yet in on at of for by with from as after before when while if though "
    "although because since until there here what which who how why where".split()
)
_OPENERS = _NOT_NAMES | OPENING_WORDS


@dataclass(frozen=True)
class Expectation:
    """What one question asks for, and its own words (a name it already says is no answer)."""

    kind: Kind
    question_words: frozenset[str]
    described: frozenset[str]  # the words after "which"/"what": how the question describes it
    specifics: frozenset[str]  # its names and numbers, lower case: what a passage must hold
    negated: bool  # "Who did not ...": a sentence can hardly quote an absence
    # "how many baby swings were": what a figure must count, singular ({"baby", "swing"})
    counted: frozenset[str] = frozenset()

    def supplied_by(self, sentence: str) -> bool:
        """Whether ``sentence`` holds something of the asked kind that the question lacks."""
        if self.kind is Kind.ANY:
            return True
        if self.kind is Kind.TIME:
            return self._new(match.group(0) for match in _TIME.finditer(sentence))
        if self.kind is Kind.QUANTITY:
            return self._new(self._amounts(sentence))
        if self._describes(sentence):
            return False
        if self.kind is Kind.PLACE:
            return self._new(places(sentence))
        if self.kind is Kind.PERSON:
            return self._new(people(sentence))
        names = [m.group(0) for m in _QUOTED_TITLE.finditer(sentence)]
        return self._new([*names, *name_runs(sentence)])

    def _amounts(self, sentence: str) -> list[str]:
        """The sentence's figures, digits or number words; "how many minutes" takes only a
        figure followed by minutes, and "millions" alone is no figure for "how many"."""
        tokens = _AMOUNT_TOKEN.findall(sentence)
        found = []
        for i, token in enumerate(tokens):
            lowered = token.lower()
            if not token[0].isdigit() and lowered not in _NUMBER_WORD_SET:
                continue
            if lowered in _VAGUE_NUMBERS:
                continue
            after = {_singular(w.lower()) for w in tokens[i + 1 : i + 1 + _UNIT_WORDS]}
            durations = self.counted & _DURATIONS
            if durations and not durations & after:
                continue
            if self._counts_other(tokens[i + 1 :]):
                continue
            found.append(token)
        return found

    def _counts_other(self, following: Sequence[str]) -> bool:
        """Whether a figure counts a thing the question names as other than what it asks:
        "Nearly 8 million borrowers" answers no "how much forgiveness will borrowers get"."""
        counted = next((t.lower() for t in following if t.lower() not in _NUMBER_WORD_SET), "")
        return (
            counted not in STOPWORDS
            and bool({counted, _singular(counted)} & self.question_words)
            and _singular(counted) not in self.counted
        )

    def refers_back(self, sentence: str) -> bool:
        """Whether the sentence opens with a pronoun ("It will ...") or names the asked-for thing
        only as the question describes it: its answer, if any, is in the sentence before."""
        if self.kind is Kind.ANY:
            return False
        opening = _WORD.match(sentence.lstrip(" “\"'‘("))
        return (opening is not None and opening.group(0).lower() in _PRONOUNS) or self._describes(
            sentence
        )

    def _describes(self, sentence: str) -> bool:
        """Whether the sentence names the asked-for thing as the question describes it ("the
        wildly popular South Korean show"), so that its other names are not the answer."""
        tokens = [w.lower() for w in _WORD.findall(sentence)]
        return any(
            not self.described.isdisjoint(
                map(_singular, tokens[i + 1 : i + 1 + _DESCRIPTION_WORDS])
            )
            for i, token in enumerate(tokens)
            if token in _DEFINITE
        )

    def _new(self, found: Iterable[str]) -> bool:
        return any(
            any(word.lower() not in self.question_words for word in _WORD.findall(text))
            for text in found
        )


def _singular(word: str) -> str:
    """ "shows" is "show": enough to tell that a sentence names the question's thing again."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def name_runs(sentence: str) -> list[str]:
    """The sentence's runs of capitalised words, less what is capitalised but names nothing:
    the word that opens the sentence ("But", "On Monday"), weekdays and months, and the "’s"
    of a possessive."""
    runs: list[list[str]] = []
    for match in _NAME_RUNS.finditer(sentence):
        tokens = match.group(0).split()
        if not sentence[: match.start()].strip(_EDGE_PUNCTUATION + " "):
            while tokens and bare_word(tokens[0]) in _OPENERS:
                tokens = tokens[1:]
        run: list[str] = []
        runs.append(run)
        for token in tokens:
            stripped = token.strip(_EDGE_PUNCTUATION)
            word = _POSSESSIVE.sub("", stripped)
            is_date = bare_word(word) in _CALENDAR_WORDS
            if word and not is_date:
                run.append(word)
            if word != stripped or is_date:
                run = []  # a possessive or a date ends the name: "NFL’s | Cleveland Browns"
                runs.append(run)
    return [" ".join(run) for run in runs if run]


def places(sentence: str) -> list[str]:
    """The places a sentence names: a name run, or up to its first three words, that is a
    known place, and the name run after "in", "near", "from" and the like ("in Whitewood")."""
    found = [
        " ".join(tokens[start:end])
        for tokens in map(str.split, name_runs(sentence))
        for start in range(len(tokens))
        for end in range(start + 1, min(len(tokens), start + _PLACE_WORDS) + 1)
        if is_place(" ".join(tokens[start:end]))
    ]
    for match in _LOCATIVE.finditer(sentence):
        tokens = match.group(1).split()
        if _NO_PLACE.isdisjoint(bare_word(t) for t in tokens):
            found.append(match.group(1))
    return found


def people(sentence: str) -> list[str]:
    """The people a sentence may name: name runs, their titles set aside, that are no place,
    organisation or group ("Rob Gronkowski", "Adele"; not "Ohio", "NFL", "Democrats"). A team
    or a firm named like a person ("Cleveland Browns") passes: no list of names tells them
    apart."""
    found = []
    for run in name_runs(sentence):
        tokens = [t for t in run.split() if bare_word(t) not in TITLE_WORDS]
        bare = {bare_word(t) for t in tokens}
        if tokens and _NO_PERSON.isdisjoint(bare) and not is_place(run):
            if not is_acronym(tokens[-1]):
                found.append(" ".join(tokens))
    return found


def negates(text: str) -> bool:
    """Whether a text says "not", "never", "no" or the like."""
    return _NEGATION.search(text) is not None


def words(text: str) -> frozenset[str]:
    """The words of a text in lower case."""
    return frozenset(w.lower() for w in _WORD.findall(text))


def expectation(question: str) -> Expectation:
    """The kind of answer ``question`` asks for: its wh-word, or the noun after which/what."""
    specifics = [m.group(0) for m in _CAPITALISED.finditer(question) if m.start() > 0]
    specifics += _NUMBER.findall(question)
    described = {
        _singular(word.lower())
        for match in _WHICH.finditer(question)
        for word in match.group(2).split()
        if word.lower() not in _NOT_HEADS
    }
    return Expectation(
        _kind(question),
        words(question),
        frozenset(described),
        frozenset(w.lower() for s in specifics for w in _WORD.findall(s)) - _NOT_NAMES,
        negates(asking_sentence(question)),
        _counted(question),
    )


def _counted(question: str) -> frozenset[str]:
    """The noun after "how many" or "how much", up to its verb: what the figure counts."""
    counting = _COUNTING_QUESTION.search(question)
    if counting is None:
        return frozenset()
    phrase = itertools.takewhile(lambda w: w not in STOPWORDS, counting.group(1).lower().split())
    return frozenset(map(_singular, phrase))


def asking_sentence(question: str) -> str:
    """The sentence that asks, after any background ("A few reforms were not included in the
    deal. Which measure did lawmakers leave out?"): the background's "not" is no question's,
    and the background tells which story, where the asking sentence tells what in it."""
    sentences = [question[start:end] for start, end in sentence_spans(question)]
    return next((s for s in reversed(sentences) if _WH_WORD.search(s)), question)


def _kind(question: str) -> Kind:
    if _QUANTITY_QUESTION.search(question):
        return Kind.QUANTITY
    if _TIME_QUESTION.search(question):
        return Kind.TIME
    lowered = question.lower()
    if re.search(r"\bwhere\b", lowered):
        return Kind.PLACE
    for match in _WHICH.finditer(question):
        following = match.group(2).lower().split()
        if following[0] in _NOT_HEADS:
            continue
        for word in following:
            if word in _NOT_HEADS:
                break
            singular = word[:-1] if word.endswith("s") and word[:-1] in _HEAD_KIND else word
            if singular in _HEAD_KIND:
                return _HEAD_KIND[singular]
        break
    if re.search(r"\bwho(?:m|se)?\b", lowered):
        return Kind.PERSON
    if _NAMING_QUESTION.search(question):
        return Kind.NAME
    return Kind.ANY
