"""What a question asks for (a person, a time, a quantity, a place, a name) and whether a
sentence supplies it: something of that kind that the question does not already say.

A quote that restates the question ("the wildly popular show is green lit") is close to it in
meaning but answers nothing; the sentence that adds the missing name, date or number does. These
are English surface cues, as cheap as the model that reads the sentences is English-only: a
question of no recognised kind expects nothing, and every sentence then supplies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

__all__ = ["Expectation", "Kind", "expectation", "negates", "words"]


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
_QUANTITY = re.compile(
    rf"\d|\b(?:{_NUMBER_WORDS})\b|%|\$|€|£|\bpercent\b|\bper cent\b",
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
_QUOTED_TITLE = re.compile(r"[“\"][^”\"]{1,80}[”\"]")
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
        "storm hurricane"
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


@dataclass(frozen=True)
class Expectation:
    """What one question asks for, and its own words (a name it already says is no answer)."""

    kind: Kind
    question_words: frozenset[str]
    described: frozenset[str]  # the words after "which"/"what": how the question describes it
    specifics: frozenset[str]  # its names and numbers, lower case: what a passage must hold
    negated: bool  # "Who did not ...": a sentence can hardly quote an absence

    def supplied_by(self, sentence: str) -> bool:
        """Whether ``sentence`` holds something of the asked kind that the question lacks."""
        if self.kind is Kind.ANY:
            return True
        if self.kind is Kind.TIME:
            return self._new(match.group(0) for match in _TIME.finditer(sentence))
        if self.kind is Kind.QUANTITY:
            return self._new(match.group(0) for match in _QUANTITY.finditer(sentence))
        if self._describes(sentence):
            return False
        names = [m.group(0) for m in _QUOTED_TITLE.finditer(sentence)]
        names += [m.group(0) for m in _CAPITALISED.finditer(sentence) if m.start() > 0]
        first = _CAPITALISED.match(sentence)
        if first and first.group(0).lower() not in _NOT_NAMES:
            names.append(first.group(0))
        return self._new(n for n in names if n.lower() not in _NOT_NAMES)

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
        negates(question),
    )


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
