"""Who is quoted: speaker attribution for the paragraphs and sentences of one article.

Rules, in order: an explicit cue names the speaker, before the verb ("Shoigu said", "Rep. Jim
Clyburn (D-S.C.), the assistant leader, added"), after it ("said Putin", "according to X"), as a
dash after a quote ("... ― Jane Doe") or as a transcript label ("PENCE: ..."); a participle
("..., saying") takes the subject of its clause; "he/she" cues refer to the most recent person
of that gender who spoke or was the subject of a sentence; role phrases ("the Russian leader")
resolve to the person whose title fits; a paragraph that is only a quote continues the previous
paragraph's speaker; narration without a cue has no speaker. Cues inside quotation marks are
ignored. A paragraph's speaker is the speaker of its first quote.

A name is the run of capitalised words that ends a subject, after its title ("Avalanche head
coach | Jared Bednar"); possessives, contractions and groups ("Democrats", "Japanese") name
no one, and organisations ("State Department", "NASA") are nobody's "he" or "she". Aliases,
the words a question may name a speaker by, are the full name, a person's surname and a title
that names one person ("Russian Defense Minister"), never a bare role ("president") or kind
of body ("department").

The words these rules read are in qa.attribution_lexicon; bench/quality.py measures the rules
on PolNeAR (news articles with annotated quote sources).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from qa.attribution_lexicon import (
    AFTER_SUBJECT_ENDS,
    ARTICLES,
    CLAUSE_OPENERS,
    CUE_PARTICIPLES,
    CUE_VERBS,
    CUE_WORDS,
    HONORIFICS,
    LEADER_ROLES,
    LEADER_TITLES,
    NAME_ABBREVIATIONS,
    NOT_NAMES,
    NOT_SURNAMES,
    PREPOSITIONS,
    PRONOUNS,
    ROLE_ENDS,
    ROLE_NOUNS,
    SPLIT_WORDS,
    STOPWORDS,
    SUBJECT_FILLERS,
    SUFFIXES,
    SURNAME_TITLES,
    TITLE_GENDERS,
    TITLE_WORDS,
    WEEKDAYS,
)
from qa.lexicon import GROUP_WORDS, ORGANISATION_WORDS, PARTICLES, TITLE_CONNECTORS

__all__ = ["ArticleSpeakers", "Person", "attribute_speakers", "is_attribution", "mask_quotes"]


def _alternation(words: Iterable[str]) -> str:
    """A regular-expression alternation of ``words``, longest first, the same on every run."""
    return "|".join(sorted((re.escape(word) for word in words), key=lambda w: (-len(w), w)))


# Case-sensitive on purpose: "Independent States" is a name, "states" a verb.
_CUE = re.compile(
    rf"\b(?:(?P<verb>{_alternation(CUE_VERBS)})|(?P<ing>{_alternation(CUE_PARTICIPLES)})"
    r"|[Aa]ccording to)\b"
)
_ROLE = re.compile(
    rf"(?:^|\s)(?P<phrase>(?P<article>the|a|an)\s+(?P<role>(?:[\w-]+\s+){{0,4}}?"
    rf"(?P<noun>{_alternation(ROLE_NOUNS)})))$",
    re.I,
)
# Lower-case words that end a title before a name ("campaign manager Robby Mook").
_TITLE_NOUN = re.compile(r"(?:er|or|ist|ee|ian|man|woman|person|ant)$")
# "That’s", "Don’t", "We’re", and possessives ("Biden’s", "Lakers’"): capitalised, but no name.
_CONTRACTION = re.compile(r"['’](?:s|t|m|re|ve|ll|d)?$")
_ACRONYM = re.compile(r"(?:[A-Z]\.?){2,}|[A-Z]+&[A-Z]+")
_ABBREVIATION = rf"(?:{_alternation(w.capitalize() for w in NAME_ABBREVIATIONS)})\."
_NAME_WORD = rf"(?:{_ABBREVIATION}|(?:[A-Z]\.){{1,3}}|[A-Z][\w'’-]*)"
# The particles a run of capitalised words reads across ("Ludwig van Beethoven"); "du" and "&"
# are read only where a name's words are counted back from its end.
_PARTICLE = rf"(?:{_alternation(PARTICLES - {'du', '&'})})"
_NAME_RUN = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD})*"
_NAME_RUNS = re.compile(_NAME_RUN)
# A token ending in a capitalised word ("Bernie", "(Sen. Bernie"): read in its last characters
# only, and a name word's start, which no name is longer than.
_ENDS_CAPITALISED = re.compile(r"[A-Z][\w.'’-]*$")
_LONGEST_NAME_WORD = 64
_WORD_EDGE = re.compile(r"\b")
_TOKEN = re.compile(r"\S+")
_TRAILING_NAME = re.compile(rf"(?:^|(?<=\s))(?P<name>{_NAME_RUN})$")
# "Democratic presidential nominee Hillary Clinton chimed in": a clause opening with a name.
_LEADING_NAME = re.compile(
    rf"^(?P<phrase>(?:{_NAME_RUN}(?P<middle>(?:\s+[a-z][\w'’-]*){{1,3}})\s+)?{_NAME_RUN})"
    r"\s+[a-z]"
)
_LEADING_BARE_NAME = re.compile(rf"^(?P<phrase>{_NAME_RUN})\s+[a-z]")
_TRAILING_PRONOUN = re.compile(r"(?:^|\s)(?P<pronoun>[Hh]e|[Ss]he)$")
_DAYS = _alternation(WEEKDAYS)
_FILLERS = re.compile(
    rf"(?:\s+(?:{_alternation(SUBJECT_FILLERS)}|(?:on|last|this)\s+(?:{_DAYS}|week|month|year)"
    rf"|{_DAYS}|[a-z]+ly))+$"
)
# A subject's title holds a few words ("Democratic presidential nominee X"); more, or a
# preposition right before the name ("footage of X"), means X is not the subject.
_MAX_TITLE_WORDS = 4
# Where the subject after an inverted cue ends: "said Rep. Jane Roe of Ohio, the ...".
_AFTER_END = re.compile(rf"[,;:()\x00]|\s(?:{_alternation(AFTER_SUBJECT_ENDS)})\s")
# Pieces between a name and its verb: "X, the party's chairman, said", "X (R-Ky.) said".
_APPOSITIVE = re.compile(
    r"^(?:[a-z0-9]|(?:the|a|an|one|who|which|whose)\s|[RDI]-|[A-Z][a-z]{1,3}\.$|[RDI]\.?$|[A-Z]{2}$)"
)
_DASH_SOURCE = re.compile(rf"(?<![^\x00\s])[―—–]+\s*(?P<name>{_NAME_RUN})\.?\s*$")
_TRANSCRIPT = re.compile(r"^[\"“]?(?P<name>[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+){0,2}):\s")
_QUOTE_CLOSERS = {'"': '"', "“": "”", "«": "»", "„": "“"}
_QUOTE_OPENER = re.compile("[" + "".join(_QUOTE_CLOSERS) + "]")
_MASK = "\x00"


@dataclass
class Person:
    """A speaker: the fullest name seen, the title it came with and every phrase that named it."""

    name: str
    title: str | None = None
    aliases: set[str] = field(default_factory=set)
    gender: str = ""  # "m", "f", "n" (an organisation) or unknown; resolves "he" and "she"

    def add_alias(self, phrase: str) -> None:
        self.aliases.add(re.sub(r"^(?:the|a|an)\s+", "", phrase.strip(), flags=re.I).lower())


@dataclass(frozen=True)
class ArticleSpeakers:
    paragraphs: list[str | None]
    sentences: list[list[str | None]]
    people: dict[str, Person]


def mask_quotes(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Blank out quoted text (marks included) so cues inside quotes are not read as attribution.

    An opening mark without its closing one quotes to the end of the paragraph, as wire copy
    does when a quote runs on into the next paragraph.
    """
    spans: list[tuple[int, int]] = []
    pieces: list[str] = []
    position = 0
    while opener := _QUOTE_OPENER.search(text, position):
        start = opener.start()
        end = text.find(_QUOTE_CLOSERS[opener[0]], start + 1)
        end = len(text) if end < 0 else end + 1
        spans.append((start, end))
        pieces += [text[position:start], _MASK * (end - start)]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), spans


def is_attribution(text: str) -> bool:
    """Whether ``text`` holds a speech cue outside quotation marks ("he said.", "said Putin")."""
    masked, quotes = mask_quotes(text)
    return not quotes and _CUE.search(masked) is not None


# -- names -------------------------------------------------------------------------------------


def _bare(token: str) -> str:
    return token.lower().strip(".,")


def _surname(name: str) -> str:
    """The last word of a name that is not a suffix ("Jr.", "II")."""
    words = [w for w in name.split() if _bare(w) not in SUFFIXES] or name.split()
    return _bare(words[-1])


def _is_organisation(name: str) -> bool:
    """ "Commerce Department", "Washington Post", "NASA": no "he" or "she", no surname."""
    return _surname(name) in ORGANISATION_WORDS or _ACRONYM.fullmatch(name) is not None


def _title_end(tokens: Sequence[str]) -> int:
    """How many leading tokens are a title: up to the last title word ("Russian President |
    Vladimir Putin"), unless that word is the surname ("Charlie King", "Martin Luther King Jr.")."""
    core = len(tokens)
    while core > 1 and _bare(tokens[core - 1]) in SUFFIXES:
        core -= 1
    split = core
    while split > 0 and _bare(tokens[split - 1]) not in SPLIT_WORDS:
        split -= 1
    if split == core and core > 1 and _bare(tokens[core - 1]) in SURNAME_TITLES:
        split = next((i for i in range(core - 1, 0, -1) if _bare(tokens[i - 1]) in SPLIT_WORDS), 0)
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
    while start < len(tokens) and (tokens[start] in PARTICLES or _bare(tokens[start]) in NOT_NAMES):
        start += 1
    # "Marxist Vladimir Lenin", "Republican Paul Ryan"; not "National Weather Service".
    while (
        start < len(tokens) - 1
        and _bare(tokens[start]) in GROUP_WORDS
        and _bare(tokens[-1]) not in ORGANISATION_WORDS
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
    if start == split == len(tokens) - 1 and _bare(tokens[-1]) in ORGANISATION_WORDS:
        # "the State Department", "Biden’s Justice Department": title words name the body
        while split > 0 and _is_name_word(tokens[split - 1]):
            split -= 1
        start = split
    return list(tokens[:split]), list(tokens[start:])


def _title_alias(tokens: Sequence[str]) -> str | None:
    """A title as an alias, when it names one person: it ends with a role noun and holds a
    proper word besides title words ("Russian Defense Minister", "Japan’s defense minister").
    "President", "Prime Minister" or "head of state" would name everyone who holds the post."""
    words = [w for w in tokens if _bare(w) not in HONORIFICS]
    while words and words[0].lower() in ARTICLES:
        words = words[1:]
    if not words or _bare(words[-1]) not in ROLE_ENDS:
        return None
    specific = False
    for before, word in zip(["", *words], words, strict=False):
        bare = _bare(word)
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
        person.gender = person.gender or TITLE_GENDERS.get(_bare(word), "")


def _is_title_noun(word: str) -> bool:
    word = word.lower()
    if word in STOPWORDS or word in CUE_WORDS:
        return False
    return word in SPLIT_WORDS or _TITLE_NOUN.search(word) is not None


# -- clauses -----------------------------------------------------------------------------------


def _opens_clause(prefix: str) -> bool:
    words = prefix.split()
    return not words or words[-1].lower() in CLAUSE_OPENERS


def _is_title(prefix: str) -> bool:
    """Whether the words before a name can be its title ("Ohio's top election official")."""
    words = prefix.split()
    opener = max((i for i, w in enumerate(words) if w.lower() in CLAUSE_OPENERS), default=-1)
    words = words[opener + 1 :]
    if words and words[-1].lower() in PREPOSITIONS:
        return False
    return len(words) <= _MAX_TITLE_WORDS


def _leading_subject(clause: str) -> str | None:
    """The subject a clause opens with ("Trump unleashed ...", "He then defended ..."), if any."""
    words = clause.split()
    while words and words[0].lower() in CLAUSE_OPENERS:
        words = words[1:]
    if not words or _bare(words[0]) in PREPOSITIONS or words[0].endswith("ing"):
        return None
    if words[0].lower() in PRONOUNS:
        return words[0]
    clause = " ".join(words).lstrip("―—–- ")
    found = _LEADING_NAME.match(clause)
    middle = (found["middle"] or "").split() if found else []
    if middle and not _is_title_noun(middle[-1]):
        found = _LEADING_BARE_NAME.match(clause)  # "Trump met Anna Berg", not a title
    return found["phrase"] if found else None


def _pieces(before: str) -> list[tuple[str, str]]:
    """Comma-separated pieces of the text before a cue, each with the delimiter that ends it."""
    parts = re.split(r"(\x00+|[,;:()]|\s[―—–]\s?|\s?--\s)", before)
    pieces: list[tuple[str, str]] = []
    for i in range(0, len(parts), 2):
        delimiter = parts[i + 1] if i + 1 < len(parts) else ""
        pieces.append((parts[i], "quote" if delimiter.startswith(_MASK) else delimiter))
    return pieces


def _overlaps(span: tuple[int, int], quotes: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in quotes)


# -- the people of an article ------------------------------------------------------------------


class _Cast:
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
            return self.role(phrase, _bare(tokens[-1]), definite=True) if create else None
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
            person.gender = TITLE_GENDERS.get(_bare(name.split()[0]), "")
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


# -- cues --------------------------------------------------------------------------------------


class _CueReader:
    """Reads the speech cues of an article's sentences in order, naming the person each cue
    points to among the article's cast."""

    def __init__(self, cast: _Cast) -> None:
        self.cast = cast

    def speakers(
        self, text: str, masked: str, spans: Sequence[tuple[int, int]]
    ) -> list[Person | None]:
        """The speaker each sentence of a paragraph names (``masked``: its quotes blanked out);
        a sentence that names none may still say whom it is about, for a later "he" or "she"."""
        cued: list[Person | None] = []
        for start, end in spans:
            speaker = self._sentence_speaker(text, masked, start, end)
            if speaker is not None:
                self.cast.touch(speaker)
            else:
                self._note_subject(masked, start, end)
            cued.append(speaker)
        return cued

    def _sentence_speaker(self, text: str, masked: str, start: int, end: int) -> Person | None:
        """The speaker a sentence names, by the first cue that names someone."""
        if start == 0:
            label = _TRANSCRIPT.match(text)
            if label:
                return self.cast.name(label["name"].title())
        for cue in _CUE.finditer(masked, start, end):
            speaker = self._cue_subject(masked, cue, start, end)
            if speaker is not None:
                return speaker
        dash = _DASH_SOURCE.search(masked, start, end)
        if dash and masked[: dash.start() + 1].rstrip(" ―—–").endswith(_MASK):  # "..." ― Jane Roe
            return self.cast.name(dash["name"])
        return None

    def _cue_subject(self, masked: str, cue: re.Match[str], start: int, end: int) -> Person | None:
        """Who speaks at this cue: before it ("Shoigu said"), or after it ("said Putin")."""
        after = masked[cue.end() : end]
        if cue.group(0).lower() == "according to":
            return self._after_subject(after)
        pieces = _pieces(_FILLERS.sub("", masked[start : cue.start()].rstrip()))
        subject = pieces[-1][0].strip()
        participle = cue["ing"] is not None
        if subject.lower() in CLAUSE_OPENERS:  # "X stood up and said"
            return self._clause_subject(pieces[:-1])
        if subject:
            found = self._subject(subject)
            if found is None and participle:  # "X posted a video on Friday saying"
                found = self._clause_subject(pieces)
            return found
        if participle:  # "X mocked the complaint, saying"
            return self._clause_subject(pieces[:-1])
        return self._subject_before_break(pieces[:-1], after)

    def _subject_before_break(self, pieces: list[tuple[str, str]], after: str) -> Person | None:
        """For a cue right after a break: a quote or the sentence start before it means the
        subject follows ('"...," said X'); else step back over appositives ("X, the chief,
        said")."""
        skipped = False
        for text, ending in reversed(pieces):
            if ending == "quote":
                break
            text = text.strip()
            if text and not _APPOSITIVE.match(text):
                found = self._subject(text)
                if found is not None or not text.split()[-1][:1].islower():
                    return found
                # A title with no name ("Sanders' senior media adviser") is an appositive too.
            skipped = skipped or bool(text)
        return None if skipped else self._after_subject(after)

    def _clause_subject(self, pieces: list[tuple[str, str]]) -> Person | None:
        """For "..., saying" and "... and said": the subject of the nearest clause that has one."""
        for text, _ in reversed(pieces):
            subject = _leading_subject(text)
            if subject is not None:
                if subject.lower() in PRONOUNS:
                    return self.cast.pronoun(subject)
                return self._subject(subject)
        return None

    def _after_subject(self, after: str) -> Person | None:
        """The subject of an inverted cue: "said the Rev. Jane Roe of Ohio" -> Jane Roe."""
        phrase = _AFTER_END.split(after.strip(), maxsplit=1)[0].strip().rstrip(".")
        if not phrase:
            return None
        first = phrase.split()[0]
        if first.lower() in PRONOUNS:
            return self.cast.pronoun(first)
        return self._subject(phrase)

    def _subject(self, phrase: str) -> Person | None:
        """The person a subject phrase names at its end: "... when she", "the Russian leader",
        "Democratic presidential nominee Hillary Clinton"."""
        phrase = re.sub(r"\s+", " ", phrase).strip(" ,.―—–-")
        if not phrase:
            return None
        pronoun = _TRAILING_PRONOUN.search(phrase)
        if pronoun and _opens_clause(phrase[: pronoun.start()]):
            return self.cast.pronoun(pronoun["pronoun"])
        role = _ROLE.search(phrase)
        if role and _opens_clause(phrase[: role.start("phrase")]):
            definite = role["article"].lower() == "the"
            return self.cast.role(role["role"], role["noun"], definite=definite)
        name = _TRAILING_NAME.search(phrase)
        if name is None or not _is_title(phrase[: name.start()]):
            return None
        title: list[str] = []
        for word in phrase[: name.start()].split():
            if word.lower() in CLAUSE_OPENERS:  # "Liberal John A. Hobson and | Marxist ..."
                title = []
            elif word.lower() not in ARTICLES:
                title.append(word)
        return self.cast.name(" ".join([*title[-_MAX_TITLE_WORDS:], name["name"]]))

    def _note_subject(self, masked: str, start: int, end: int) -> None:
        """Remember the person a sentence is about ("Trump blamed officials."), so that a later
        "he wrote" finds them; only people already known or named in full count."""
        for text, _ in _pieces(masked[start:end]):
            subject = _leading_subject(text)
            if subject is None:
                continue
            if subject.lower() not in PRONOUNS:
                words = [w for w in subject.split() if _bare(w) not in TITLE_WORDS]
                person = self.cast.name(subject, create=len(words) > 1)
                if person is not None:
                    self.cast.touch(person)
            return


def attribute_speakers(
    paragraphs: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
) -> ArticleSpeakers:
    """Speakers of each paragraph and of each of its sentences, in article order."""
    cast = _Cast("\n".join(paragraphs))
    reader = _CueReader(cast)
    paragraph_speakers: list[Person | None] = []
    sentence_speakers: list[list[Person | None]] = []
    for text, spans in zip(paragraphs, sentence_spans, strict=True):
        masked, quotes = mask_quotes(text)
        cued = reader.speakers(text, masked, spans)
        quoting = [p for p, span in zip(cued, spans, strict=True) if p and _overlaps(span, quotes)]
        speaker = next(iter(quoting), None) or next((p for p in cued if p is not None), None)
        if speaker is None and quotes and quotes[0][0] == 0 and paragraph_speakers:
            # A paragraph that opens with a quote continues the last one, unless it names its
            # own, unnamed source ('"...," a spokesman said').
            if _CUE.search(masked) is None:
                speaker = paragraph_speakers[-1]
        paragraph_speakers.append(speaker)
        sentence_speakers.append(
            [
                own or (speaker if _overlaps(span, quotes) else None)
                for own, span in zip(cued, spans, strict=True)
            ]
        )
    speaking = {id(p) for p in paragraph_speakers} | {id(p) for r in sentence_speakers for p in r}
    cast.complete_names()
    cast.add_surnames()
    # Names are read at the end: "Putin" seen first becomes "Vladimir Putin" once the full name is.
    return ArticleSpeakers(
        paragraphs=[p.name if p else None for p in paragraph_speakers],
        sentences=[[p.name if p else None for p in row] for row in sentence_speakers],
        people={p.name: p for p in cast.people.values() if id(p) in speaking},
    )
