"""Who is quoted: speaker attribution for the paragraphs and sentences of one article.

Rules, in order: an explicit cue ("Shoigu said", "said Putin", "according to X",
"the head of state stressed") names the speaker; "he/she" cues refer to the last named
speaker; role phrases ("the Russian leader") resolve to the person whose title fits, else to the
last speaker; a paragraph that is only a quote continues the previous paragraph's speaker;
narration without a cue has no speaker. Cues inside quotation marks are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["ArticleSpeakers", "Person", "attribute_speakers", "mask_quotes"]

_VERBS = (
    "said|says|say|added|adds|stressed|stresses|stated|states|noted|notes|pointed out|points out|"
    "pointed to|emphasized|emphasised|emphasizes|underlined|underscored|explained|told|tells|"
    "declared|warned|warns|announced|suggested|proposed|argued|argues|insisted|urged|remarked|"
    "continued|recalled|believes|wrote|writes|asserted|claimed|claims|acknowledged|admitted|"
    "observed|commented|reiterated|replied|responded|affirmed|concluded|predicted|vowed|promised|"
    "complained|confirmed|denied|revealed|assured|cautioned|reported|added that|went on"
)
# Case-sensitive on purpose: "Independent States" is a name, "states" a verb.
_CUE = re.compile(rf"\b(?:{_VERBS})\b|\b[Aa]ccording to\b")
_ROLE_NOUNS = (
    "head of state|head of government|prime minister|leader|president|minister|secretary|"
    "chancellor|premier|spokesman|spokeswoman|spokesperson|official|ambassador|envoy|general|"
    "commander|senator|governor|mayor|director|chairman|chairwoman|chief|diplomat|lawmaker|"
    "king|queen|pope|ceo|representative|adviser|advisor|deputy"
)
_ROLE = re.compile(
    rf"^(?:the|a|an)\s+(?P<role>(?:[\w-]+\s+){{0,4}}?(?P<noun>{_ROLE_NOUNS}))$", re.I
)
_LEADER_ROLES = {"leader", "head of state", "head of government"}
_LEADER_TITLES = ("president", "prime minister", "chancellor", "premier", "king", "queen", "leader")
_TITLE_WORDS = {w.lower() for w in re.split(r"\||\s", _ROLE_NOUNS)} | {
    "defense",
    "defence",
    "foreign",
    "vice",
    "prime",
    "state",
    "first",
    "former",
    "acting",
}
_NAME = re.compile(r"(?:^|\s)(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,5})$")
_LEADING_NAME = re.compile(r"^(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,5})")
_PRONOUN = re.compile(r"^(?:he|she)$", re.IGNORECASE)
_AUXILIARIES = re.compile(
    r"(?:\s+(?:has|have|had|also|further|then|later|again|earlier|once|previously|[a-z]+ly))+$"
)
_NOT_NAMES = {"it", "this", "that", "they", "we", "i", "there", "these", "those", "you", "the"}
_QUOTE_PAIRS = {"“": "”", "«": "»", "„": "“"}
_MASK = "\x00"


@dataclass
class Person:
    """A speaker: the fullest name seen, the title it came with and every phrase that named it."""

    name: str
    title: str | None = None
    aliases: set[str] = field(default_factory=set)

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
    position = 0
    while position < len(text):
        char = text[position]
        closer = '"' if char == '"' else _QUOTE_PAIRS.get(char)
        if closer is None:
            position += 1
            continue
        end = text.find(closer, position + 1)
        end = len(text) if end < 0 else end + 1
        spans.append((position, end))
        position = end
    masked = list(text)
    for start, end in spans:
        masked[start:end] = _MASK * (end - start)
    return "".join(masked), spans


class _Resolver:
    """Turns subject phrases into people, remembering the last speaker for pronouns."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.last: Person | None = None

    def name(self, phrase: str) -> Person | None:
        tokens = phrase.split()
        split = len(tokens)
        while split > 0 and tokens[split - 1].lower().strip(".") not in _TITLE_WORDS:
            split -= 1
        title, name = " ".join(tokens[:split]) or None, " ".join(tokens[split:])
        if not name:
            return self.role(phrase, phrase.split()[-1].lower())
        if name.lower() in _NOT_NAMES:
            return None
        person = self._person_named(name)
        if title:
            person.title = person.title or title
            person.add_alias(title)
        return person

    def _person_named(self, name: str) -> Person:
        surname = name.split()[-1].lower()
        for person in self.people.values():
            known = person.name.split()
            if person.name.lower() == name.lower() or (
                len(name.split()) == 1 and known[-1].lower() == surname
            ):
                return person
            if len(known) == 1 and known[0].lower() == surname:  # "Putin" first, full name later
                del self.people[person.name]
                person.name = name
                self.people[name] = person
                return person
        person = self.people[name] = Person(name)
        person.add_alias(name)
        person.add_alias(surname)
        return person

    def role(self, phrase: str, noun: str) -> Person | None:
        noun = noun.lower()
        words = set(phrase.lower().split())
        titled = [p for p in self.people.values() if p.title]
        fitting = [p for p in titled if noun in p.title.lower()]  # type: ignore[union-attr]
        if noun in _LEADER_ROLES:
            fitting = [p for p in titled if any(t in p.title.lower() for t in _LEADER_TITLES)]  # type: ignore[union-attr]
        if fitting:
            best = max(fitting, key=lambda p: len(words & set(p.title.lower().split())))  # type: ignore[union-attr]
        elif self.last is not None:
            best = self.last
        else:
            return None
        best.add_alias(phrase)
        return best

    def subject(self, phrase: str) -> Person | None:
        phrase = phrase.strip(" ,")
        if not phrase:
            return None
        if _PRONOUN.match(phrase):
            return self.last
        role = _ROLE.match(phrase)
        if role:
            return self.role(role["role"], role["noun"])
        name = _NAME.search(phrase)
        return self.name(name["name"]) if name else None


def _cue_subject(masked: str, cue: re.Match[str], start: int, end: int) -> str:
    """The phrase naming who speaks: before the cue ("Shoigu said"), or after it ("said Putin")."""
    before = _AUXILIARIES.sub("", masked[start : cue.start()].rstrip()).rstrip(" ,")
    clause = re.split(r"[.;:()\x00,]", before)[-1].strip()
    inverted = cue.group(0).lower() == "according to" or (
        not clause and re.search(r"[\x00,]\s*$", masked[start : cue.start()]) is not None
    )
    if not inverted:
        return clause
    after = re.split(r"[,.;:\x00]", masked[cue.end() : end], maxsplit=1)[0].strip()
    role = re.match(rf"^(?:the|a|an)\s+(?:[\w-]+\s+){{0,4}}?(?:{_ROLE_NOUNS})\b", after, re.I)
    if role:
        return role.group(0)
    name = _LEADING_NAME.match(after)
    return name["name"] if name else ""


def attribute_speakers(
    paragraphs: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
) -> ArticleSpeakers:
    """Speakers of each paragraph and of each of its sentences, in article order."""
    resolver = _Resolver()
    paragraph_speakers: list[Person | None] = []
    sentence_speakers: list[list[Person | None]] = []
    for text, spans in zip(paragraphs, sentence_spans, strict=True):
        masked, quotes = mask_quotes(text)
        cued: list[Person | None] = []
        for start, end in spans:
            speaker = None
            for cue in _CUE.finditer(masked, start, end):
                speaker = resolver.subject(_cue_subject(masked, cue, start, end))
                if speaker is not None:
                    resolver.last = speaker
                    break
            cued.append(speaker)
        continues_quote = bool(quotes) and quotes[0][0] == 0 and bool(paragraph_speakers)
        speaker = next((p for p in cued if p is not None), None)
        if speaker is None and continues_quote:
            speaker = paragraph_speakers[-1]
        paragraph_speakers.append(speaker)
        sentence_speakers.append(
            [
                own or (speaker if _overlaps(span, quotes) else None)
                for own, span in zip(cued, spans, strict=True)
            ]
        )
    # Names are read at the end: "Putin" seen first becomes "Vladimir Putin" once the full name is.
    return ArticleSpeakers(
        paragraphs=[p.name if p else None for p in paragraph_speakers],
        sentences=[[p.name if p else None for p in row] for row in sentence_speakers],
        people={p.name: p for p in resolver.people.values()},
    )


def _overlaps(span: tuple[int, int], quotes: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in quotes)
