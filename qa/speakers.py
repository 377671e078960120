"""Who is quoted: speaker attribution for the paragraphs and sentences of one article.

Rules, in order: an explicit cue names the speaker, before the verb ("Shoigu said", "Rep. Jim
Clyburn (D-S.C.), the assistant leader, added"), after it ("said Putin", "according to X"), as a
dash after a quote ("... ― Jane Doe") or as a transcript label ("PENCE: ..."); a participle
("..., saying") takes the subject of its clause; "he/she" cues refer to the most recent person
of that gender who spoke or was the subject of a sentence; role phrases ("the Russian leader")
resolve to the person whose title fits; a paragraph that is only a quote continues the previous
paragraph's speaker; narration without a cue has no speaker. Cues inside quotation marks are
ignored. A paragraph's speaker is the speaker of its first quote.

qa.people reads the names a cue points to and keeps one Person for each person; the words
these rules read are in qa.attribution_lexicon. bench/polnear.py measures the rules on PolNeAR
(news articles with annotated quote sources).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.attribution_lexicon import (
    AFTER_SUBJECT_ENDS,
    ARTICLES,
    CLAUSE_OPENERS,
    CUE_PARTICIPLES,
    CUE_VERBS,
    CUE_WORDS,
    PREPOSITIONS,
    PRONOUNS,
    ROLE_NOUNS,
    SPLIT_WORDS,
    STOPWORDS,
    SUBJECT_FILLERS,
    TITLE_WORDS,
    WEEKDAYS,
    alternation,
)
from qa.people import NAME_RUN, Cast, Person, bare_word

__all__ = ["ArticleSpeakers", "Person", "attribute_speakers", "is_attribution", "mask_quotes"]


# Case-sensitive on purpose: "Independent States" is a name, "states" a verb.
_CUE = re.compile(
    rf"\b(?:(?P<verb>{alternation(CUE_VERBS)})|(?P<ing>{alternation(CUE_PARTICIPLES)})"
    r"|[Aa]ccording to)\b"
)
_ROLE = re.compile(
    rf"(?:^|\s)(?P<phrase>(?P<article>the|a|an)\s+(?P<role>(?:[\w-]+\s+){{0,4}}?"
    rf"(?P<noun>{alternation(ROLE_NOUNS)})))$",
    re.I,
)
# Lower-case words that end a title before a name ("campaign manager Robby Mook").
_TITLE_NOUN = re.compile(r"(?:er|or|ist|ee|ian|man|woman|person|ant)$")
_TRAILING_NAME = re.compile(rf"(?:^|(?<=\s))(?P<name>{NAME_RUN})$")
# "Democratic presidential nominee Hillary Clinton chimed in": a clause opening with a name.
_LEADING_NAME = re.compile(
    rf"^(?P<phrase>(?:{NAME_RUN}(?P<middle>(?:\s+[a-z][\w'’-]*){{1,3}})\s+)?{NAME_RUN})"
    r"\s+[a-z]"
)
_LEADING_BARE_NAME = re.compile(rf"^(?P<phrase>{NAME_RUN})\s+[a-z]")
_TRAILING_PRONOUN = re.compile(r"(?:^|\s)(?P<pronoun>[Hh]e|[Ss]he)$")
_DAYS = alternation(WEEKDAYS)
_FILLERS = re.compile(
    rf"(?:\s+(?:{alternation(SUBJECT_FILLERS)}|(?:on|last|this)\s+(?:{_DAYS}|week|month|year)"
    rf"|{_DAYS}|[a-z]+ly))+$"
)
# A subject's title holds a few words ("Democratic presidential nominee X"); more, or a
# preposition right before the name ("footage of X"), means X is not the subject.
_MAX_TITLE_WORDS = 4
# Where the subject after an inverted cue ends: "said Rep. Jane Roe of Ohio, the ...".
_AFTER_END = re.compile(rf"[,;:()\x00]|\s(?:{alternation(AFTER_SUBJECT_ENDS)})\s")
# Pieces between a name and its verb: "X, the party's chairman, said", "X (R-Ky.) said".
_APPOSITIVE = re.compile(
    r"^(?:[a-z0-9]|(?:the|a|an|one|who|which|whose)\s|[RDI]-|[A-Z][a-z]{1,3}\.$|[RDI]\.?$|[A-Z]{2}$)"
)
_DASH_SOURCE = re.compile(rf"(?<![^\x00\s])[―—–]+\s*(?P<name>{NAME_RUN})\.?\s*$")
_TRANSCRIPT = re.compile(r"^[\"“]?(?P<name>[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+){0,2}):\s")
_QUOTE_CLOSERS = {'"': '"', "“": "”", "«": "»", "„": "“"}
_QUOTE_OPENER = re.compile("[" + "".join(_QUOTE_CLOSERS) + "]")
_MASK = "\x00"


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


# -- clauses -----------------------------------------------------------------------------------


def _is_title_noun(word: str) -> bool:
    word = word.lower()
    if word in STOPWORDS or word in CUE_WORDS:
        return False
    return word in SPLIT_WORDS or _TITLE_NOUN.search(word) is not None


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
    if not words or bare_word(words[0]) in PREPOSITIONS or words[0].endswith("ing"):
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


# -- cues --------------------------------------------------------------------------------------


class _CueReader:
    """Reads the speech cues of an article's sentences in order, naming the person each cue
    points to among the article's cast."""

    def __init__(self, cast: Cast) -> None:
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
                words = [w for w in subject.split() if bare_word(w) not in TITLE_WORDS]
                person = self.cast.name(subject, create=len(words) > 1)
                if person is not None:
                    self.cast.touch(person)
            return


def attribute_speakers(
    paragraphs: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
) -> ArticleSpeakers:
    """Speakers of each paragraph and of each of its sentences, in article order."""
    cast = Cast("\n".join(paragraphs))
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
