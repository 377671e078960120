"""The people an article names: a name phrase read as title and name, and one Person for each
person however the article names them ("Putin", "Russian President Vladimir Putin", "he").

A name is the run of capitalised words that ends a subject, after its title ("Avalanche head
coach | Jared Bednar"); possessives, contractions and groups ("Democrats", "Japanese") name
no one, and organisations ("State Department", "NASA") are nobody's "he" or "she". Aliases,
the words a question may name a speaker by, are the full name, a person's surname and a title
that names one person ("Russian Defense Minister"), never a bare role ("president") or kind
of body ("department").
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.attribution_lexicon import (
    ARTICLES,
    HONORIFICS,
    LEADER_ROLES,
    LEADER_TITLES,
    NAME_ABBREVIATIONS,
    NOT_NAMES,
    NOT_SURNAMES,
    ROLE_ENDS,
    SPLIT_WORDS,
    STOPWORDS,
    SUFFIXES,
    SURNAME_TITLES,
    TITLE_GENDERS,
    alternation,
)
from qa.lexicon import GROUP_WORDS, ORGANISATION_WORDS, PARTICLES, TITLE_CONNECTORS

__all__ = ["NAME_RUN", "Cast", "Person", "bare_word", "is_acronym"]

# "That’s", "Don’t", "We’re", and possessives ("Biden’s", "Lakers’"): capitalised, but no name.
_CONTRACTION = re.compile(r"['’](?:s|t|m|re|ve|ll|d)?$")
_ACRONYM = re.compile(r"(?:[A-Z]\.?){2,}|[A-Z]+&[A-Z]+")
_ABBREVIATION = rf"(?:{alternation(w.capitalize() for w in NAME_ABBREVIATIONS)})\."
_NAME_WORD = rf"(?:{_ABBREVIATION}|(?:[A-Z]\.){{1,3}}|[A-Z][\w'’&-]*)"
# The particles a run of capitalised words reads across ("Ludwig van Beethoven"); "du" and "&"
# are read only where a name's words are counted back from its end.
_PARTICLE = rf"(?:{alternation(PARTICLES - {'du', '&'})})"
# Capitalised words, initials and particles in a row: a name, perhaps after its title.
NAME_RUN = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD})*"
_NAME_RUNS = re.compile(NAME_RUN)
# A token ending in a capitalised word ("Bernie", "(Sen. Bernie"): read in its last characters
# only, and a name word's start, which no name is longer than.
_ENDS_CAPITALISED = re.compile(r"[A-Z][\w.'’-]*$")
_LONGEST_NAME_WORD = 64
_WORD_EDGE = re.compile(r"\b")
_TOKEN = re.compile(r"\S+")


@dataclass
class Person:
    """A speaker: the fullest name seen, the title it came with and every phrase that named it."""

    name: str
    title: str | None = None
    aliases: set[str] = field(default_factory=set)
    gender: str = ""  # "m", "f", "n" (an organisation) or unknown; resolves "he" and "she"

    def add_alias(self, phrase: str) -> None:
        self.aliases.add(re.sub(r"^(?:the|a|an)\s+", "", phrase.strip(), flags=re.I).lower())


def bare_word(token: str) -> str:
    """A token as the word lists hold it: lower case, no full stop or comma around it."""
    return token.lower().strip(".,")


def _surname(name: str) -> str:
    """The last word of a name that is not a suffix ("Jr.", "II")."""
    words = [w for w in name.split() if bare_word(w) not in SUFFIXES] or name.split()
    return bare_word(words[-1])


def is_acronym(word: str) -> bool:
    """ "NASA", "U.S.", "AT&T": letters of an organisation or a place, never a person's name."""
    return _ACRONYM.fullmatch(word) is not None


def _is_organisation(name: str) -> bool:
    """ "Commerce Department", "Washington Post", "NASA": no "he" or "she", no surname."""
    return _surname(name) in ORGANISATION_WORDS or is_acronym(name)


def _title_end(tokens: Sequence[str]) -> int:
    """How many leading tokens are a title: up to the last title word ("Russian President |
    Vladimir Putin"), unless that word is the surname ("Charlie King", "Martin Luther King Jr.")."""
    core = len(tokens)
    while core > 1 and bare_word(tokens[core - 1]) in SUFFIXES:
        core -= 1
    split = core
    while split > 0 and bare_word(tokens[split - 1]) not in SPLIT_WORDS:
        split -= 1
    if split == core and core > 1 and bare_word(tokens[core - 1]) in SURNAME_TITLES:
        split = next(
            (i for i in range(core - 1, 0, -1) if bare_word(tokens[i - 1]) in SPLIT_WORDS), 0
        )
    return split


def _is_name_word(word: str) -> bool:
    """A capitalised word that can be part of a name: no contraction ("That’s") and no
    possessive, which ends the words before the name ("JetBlue’s Hayes")."""
    return word[:1].isupper() and _CONTRACTION.search(word) is None


def _name_start(tokens: Sequence[str]) -> int:
    """Where the name that ends ``tokens`` begins: its capitalised words, initials and
    particles ("Ludwig van Beethoven"), after any run-in ("0.5% higher against dollar Truss")."""
    start = len(tokens)
    while start > 0 and (
        _is_name_word(tokens[start - 1]) or (start < len(tokens) and tokens[start - 1] in PARTICLES)
    ):
        start -= 1
    while start < len(tokens) and (
        tokens[start] in PARTICLES or bare_word(tokens[start]) in NOT_NAMES
    ):
        start += 1
    # "Marxist Vladimir Lenin", "Republican Paul Ryan"; not "National Weather Service".
    while (
        start < len(tokens) - 1
        and bare_word(tokens[start]) in GROUP_WORDS
        and bare_word(tokens[-1]) not in ORGANISATION_WORDS
    ):
        start += 1
    return start


def _split_name(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """A phrase as title and name: "Democratic presidential nominee | Hillary Clinton",
    "Chancellor of the Exchequer | Nigel Lawson"; run-in words between the two are dropped."""
    split = _title_end(tokens)
    start = split + _name_start(tokens[split:])
    gap = [w.lower() for w in tokens[split:start]]
    if split and gap and set(gap) <= TITLE_CONNECTORS and len(tokens) - start > 2:
        start += 1  # "Secretary of Defense Ash Carter": the word after "of" ends the title
        split = start
    if start == split == len(tokens) - 1 and bare_word(tokens[-1]) in ORGANISATION_WORDS:
        # "the State Department", "Biden’s Justice Department": title words name the body
        while split > 0 and _is_name_word(tokens[split - 1]):
            split -= 1
        start = split
    return list(tokens[:split]), list(tokens[start:])


def _title_alias(tokens: Sequence[str]) -> str | None:
    """A title as an alias, when it names one person: it ends with a role noun and holds a
    proper word besides title words ("Russian Defense Minister", "Japan’s defense minister").
    "President", "Prime Minister" or "head of state" would name everyone who holds the post."""
    words = [w for w in tokens if bare_word(w) not in HONORIFICS]
    while words and words[0].lower() in ARTICLES:
        words = words[1:]
    if not words or bare_word(words[-1]) not in ROLE_ENDS:
        return None
    specific = False
    for before, word in zip(["", *words], words, strict=False):
        bare = bare_word(word)
        if word[:1].isupper():
            specific = specific or bare not in SPLIT_WORDS
        elif bare in STOPWORDS and not (
            bare in TITLE_CONNECTORS and (bare != "the" or before.lower() == "of")
        ):
            return None  # "her spokesman", "letter to President Biden", "AP the first ..."
    return " ".join(words) if specific else None


def _give_title(person: Person, title: Sequence[str]) -> None:
    """Keep the first title a person is named with, the alias it makes and the gender it says."""
    person.title = person.title or " ".join(title)
    alias = _title_alias(title)
    if alias:
        person.add_alias(alias)
    for word in title:
        person.gender = person.gender or TITLE_GENDERS.get(bare_word(word), "")


class Cast:
    """The people an article names, one Person each however they are named, and who spoke or
    acted last, for pronouns and roles."""

    def __init__(self, article_text: str) -> None:
        self.people: dict[str, Person] = {}
        self.recent: list[Person] = []  # most recent last
        self._text = article_text

    @property
    def last(self) -> Person | None:
        return self.recent[-1] if self.recent else None

    def touch(self, person: Person) -> None:
        """``person`` spoke or was the subject of a sentence: the first candidate for a pronoun."""
        if person in self.recent:
            self.recent.remove(person)
        self.recent.append(person)

    def name(self, phrase: str, *, create: bool = True) -> Person | None:
        """The person a name phrase ("Russian President Vladimir Putin") names; titles kept."""
        tokens = phrase.split()
        if _CONTRACTION.search(tokens[-1]):  # "Clinton's plan" names the plan; "That’s" no one
            return None
        if _title_end(tokens) == len(tokens):
            return self.role(phrase, bare_word(tokens[-1]), definite=True) if create else None
        title, words = _split_name(tokens)
        name = " ".join(words)
        if not name or not self._plausible(name):
            return None
        person = self._known(name)
        if person is None and create:
            person = self._add(name)
        if person is not None and title:
            _give_title(person, title)
        return person

    def role(self, phrase: str, noun: str, *, definite: bool) -> Person | None:
        """The person whose title fits a role phrase; else, for "the ...", the last speaker."""
        noun = noun.lower()
        words = set(phrase.lower().split())
        titled = [(p, p.title.lower()) for p in self.people.values() if p.title]
        fitting = [(p, title) for p, title in titled if noun in title]
        if noun in LEADER_ROLES:
            fitting = [(p, t) for p, t in titled if any(lead in t for lead in LEADER_TITLES)]
        if not fitting:  # "the spokesman" is whoever spoke last; "a spokesman", no one named
            return self.last if definite else None
        best = max(fitting, key=lambda fit: len(words & set(fit[1].split())))[0]
        alias = _title_alias(phrase.split())
        if alias:  # only a title that fits what the article calls them names them elsewhere
            best.add_alias(alias)
        return best

    def pronoun(self, word: str) -> Person | None:
        """The most recent person not known to be of the other gender; learns the gender."""
        gender = "f" if word.lower() == "she" else "m"
        for person in reversed(self.recent):
            if person.gender in ("", gender):
                person.gender = gender
                return person
        return None

    def complete_names(self) -> None:
        """Give a speaker known by surname only ("Berg said") the full name the article uses
        most often elsewhere ("Bob Stone met Anna Berg"), so the same person is one speaker
        everywhere."""
        for person in list(self.people.values()):
            if " " in person.name or person.gender == "n":
                continue
            fulls = self._full_names.get(person.name, Counter())
            full = max(fulls, key=fulls.__getitem__, default=None)  # the first of equals
            if full is not None and full not in self.people:
                self._rename(person, full)

    def add_surnames(self) -> None:
        """Questions name people by surname ("What did Putin say?"): a name that reads as a
        person's gets its surname as an alias; "Air Force" or "Bank of Canada" does not."""
        for person in self.people.values():
            words = person.name.split()
            if person.gender != "n" and all(w[:1].isupper() or w in PARTICLES for w in words):
                person.add_alias(_surname(person.name))

    def _plausible(self, name: str) -> bool:
        """Not a group ("Democrats", "U.S. Officials"), a suffix or an initial; a one-word name
        that could be a common word ("Walking") must appear after another capitalised word
        somewhere in the article ("Bernie Sanders")."""
        surname = _surname(name)
        if surname in NOT_SURNAMES or len(surname.strip(".")) < 2:
            return False
        if " " in name:
            return True
        word = name.lower()
        if not (word.endswith(("s", "ing", "ed")) and not word.endswith("ss")):
            return True
        return name in self._after_capitalised

    @functools.cached_property
    def _after_capitalised(self) -> frozenset[str]:
        """Every word-bounded start of a token that follows a capitalised word, gathered in one
        pass over the article (searched for each name, a long article took minutes)."""
        tokens = (match.group(0) for match in _TOKEN.finditer(self._text))  # one at a time
        found: set[str] = set()
        for before, token in itertools.pairwise(tokens):
            if _ENDS_CAPITALISED.search(before[-_LONGEST_NAME_WORD:]):
                head = token[:_LONGEST_NAME_WORD]
                found.update(head[: b.start()] for b in _WORD_EDGE.finditer(head) if b.start())
        return frozenset(found)

    def _known(self, name: str) -> Person | None:
        """The person already named ``name``, or by its surname alone, who takes it as their
        full name ("Putin" first, "Vladimir Putin" later)."""
        surname = _surname(name)
        single = len(name.split()) == 1
        # The most recent person first: "Clinton" after Bill Clinton spoke is Bill Clinton.
        for person in [*reversed(self.recent), *self.people.values()]:
            known = person.name.split()
            if (
                person.name.lower() == name.lower()
                or (single and _surname(person.name) == surname)
                or name.lower().endswith(" " + person.name.lower())  # "Rival Hillary Clinton"
            ):
                return person
            if len(known) == 1 and known[0].lower() == surname:
                self._rename(person, name)
                return person
        return None

    def _add(self, name: str) -> Person:
        person = self.people[name] = Person(name)
        if _is_organisation(name):
            person.gender = "n"
            if name.lower() not in ORGANISATION_WORDS:  # "the Department said" names none
                person.add_alias(name)
        else:
            person.gender = TITLE_GENDERS.get(bare_word(name.split()[0]), "")
            person.add_alias(name)
        return person

    def _rename(self, person: Person, name: str) -> None:
        """``person`` is known by ``name`` from now on, and may be asked about by it."""
        del self.people[person.name]
        person.name = name
        self.people[name] = person
        person.add_alias(name)

    @functools.cached_property
    def _full_names(self) -> dict[str, Counter[str]]:
        """For each last word, the full names the article ends with it ("Bob Stone", "Anna
        Berg"), counted; an acronym before a name is no first name ("NATO Russia")."""
        fulls: dict[str, Counter[str]] = defaultdict(Counter)
        for match in _NAME_RUNS.finditer(self._text):
            words = match.group(0).split()
            if len(words) < 2:
                continue
            _, named = _split_name(words)
            if len(named) > 1 and not any(w.isupper() and w.isalpha() for w in named[:-1]):
                fulls[words[-1]][" ".join(named)] += 1
        return fulls
