"""Passages: the paragraphs of an article, cut into windows that fit the model whole."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice

from qa.articles import Article
from qa.sentences import sentence_spans
from qa.speakers import Person, attribute_speakers

__all__ = ["Passage", "PassageSentence", "split_article"]

_WORD = re.compile(r"\S+")
# A text of more characters than this for each token of a window is taken not to fit it, and
# is not counted: news text runs far fewer characters a wordpiece.
_MAX_CHARS_PER_TOKEN = 16


@dataclass(frozen=True)
class PassageSentence:
    """A sentence by its character span in its passage's text."""

    start: int
    end: int
    speaker: str | None


@dataclass(frozen=True)
class Passage:
    paragraph: int
    part: int
    heading: str | None
    text: str
    speaker: str | None
    sentences: tuple[PassageSentence, ...]


def _fit_sentence(
    text: str, start: int, end: int, count_tokens: Callable[[str], int], budget: int
) -> list[tuple[int, int]]:
    """Cut one over-long sentence between words into pieces of at most ``budget`` tokens.

    Each piece is the longest run of the next words that fits, found by bisection over at
    most ``budget`` words (a word is a token or more): counting word by word took minutes for
    a multi-megabyte line without full stops. Only those words are held.
    """
    words = _WORD.finditer(text, start, end)
    ahead: list[tuple[int, int]] = []
    pieces: list[tuple[int, int]] = []
    while True:
        ahead.extend(match.span() for match in islice(words, budget - len(ahead)))
        if not ahead:
            return pieces
        fits, over = 1, len(ahead) + 1  # a word longer than the budget is a piece of its own
        while over - fits > 1:
            middle = (fits + over) // 2
            if count_tokens(text[ahead[0][0] : ahead[middle - 1][1]]) <= budget:
                fits = middle
            else:
                over = middle
        pieces.append((ahead[0][0], ahead[fits - 1][1]))
        del ahead[:fits]


def _cost(text: str, count_tokens: Callable[[str], int], budget: int) -> int:
    """Tokens of ``text``; more than ``budget``, uncounted, for a text too long to fit: the
    tokenizer holds every token of what it counts, gigabytes for a line of megabytes."""
    return count_tokens(text) if len(text) <= _MAX_CHARS_PER_TOKEN * budget else budget + 1


def _windows(
    text: str, spans: list[tuple[int, int]], count_tokens: Callable[[str], int], budget: int
) -> list[list[tuple[int, int]]]:
    """Greedy packing of whole sentences, so no window is truncated by the encoder.

    Most paragraphs fit whole: one count of the paragraph then spares one per sentence.
    """
    if spans and _cost(text[spans[0][0] : spans[-1][1]], count_tokens, budget) <= budget:
        return [list(spans)]
    windows: list[list[tuple[int, int]]] = [[]]
    used = 0
    for start, end in spans:
        cost = _cost(text[start:end], count_tokens, budget)
        pieces = (
            [(start, end)]
            if cost <= budget
            else _fit_sentence(text, start, end, count_tokens, budget)
        )
        for piece in pieces:
            if len(pieces) > 1:
                cost = _cost(text[piece[0] : piece[1]], count_tokens, budget)
            if windows[-1] and used + cost > budget:
                windows.append([])
                used = 0
            windows[-1].append(piece)
            used += cost
    return [window for window in windows if window]


def split_article(
    article: Article, count_tokens: Callable[[str], int], window_tokens: int
) -> tuple[list[Passage], dict[str, Person]]:
    """Passages of every paragraph with their sentences and speakers, and the people quoted."""
    texts = [paragraph.text for paragraph in article.paragraphs]
    spans = [sentence_spans(text) for text in texts]
    speakers = attribute_speakers(texts, spans)
    passages: list[Passage] = []
    for paragraph, text, paragraph_spans, sentence_speakers in zip(
        article.paragraphs, texts, spans, speakers.sentences, strict=True
    ):
        starts = [start for start, _ in paragraph_spans]
        for part, window in enumerate(_windows(text, paragraph_spans, count_tokens, window_tokens)):
            offset = window[0][0]
            passages.append(
                Passage(
                    paragraph=paragraph.number,
                    part=part,
                    heading=paragraph.heading,
                    text=text[offset : window[-1][1]],
                    speaker=speakers.paragraphs[paragraph.number - 1],
                    sentences=tuple(
                        PassageSentence(
                            a - offset,
                            b - offset,
                            _speaker_of(a, starts, paragraph_spans, sentence_speakers),
                        )
                        for a, b in window
                    ),
                )
            )
    return passages, speakers.people


def _speaker_of(
    start: int,
    starts: Sequence[int],
    spans: Sequence[tuple[int, int]],
    speakers: Sequence[str | None],
) -> str | None:
    """Speaker of the sentence a piece was cut from (a piece starts inside its sentence).

    Found by bisection: a scan of the paragraph's sentences for each of its pieces made a
    one-line article of megabytes take minutes.
    """
    index = bisect_right(starts, start) - 1
    return speakers[index] if index >= 0 and start < spans[index][1] else None
