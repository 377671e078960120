"""Passages: the paragraphs of an article, cut into windows that fit the model whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa.articles import Article
from qa.sentences import sentence_spans
from qa.speakers import Person, attribute_speakers

__all__ = ["Passage", "PassageSentence", "split_article"]


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
    """Cut one over-long sentence at word boundaries into spans of at most ``budget`` tokens."""
    pieces: list[tuple[int, int]] = []
    piece_start, used, position = start, 0, start
    for word in text[start:end].split(" "):
        cost = count_tokens(word) if word else 0
        if used and used + cost > budget:
            pieces.append((piece_start, position - 1))
            piece_start, used = position, 0
        used += cost
        position += len(word) + 1
    pieces.append((piece_start, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def _windows(
    text: str, spans: list[tuple[int, int]], count_tokens: Callable[[str], int], budget: int
) -> list[list[tuple[int, int]]]:
    """Greedy packing of whole sentences, so no window is truncated by the encoder.

    Most paragraphs fit whole: one count of the paragraph then spares one per sentence.
    """
    if spans and count_tokens(text[spans[0][0] : spans[-1][1]]) <= budget:
        return [list(spans)]
    windows: list[list[tuple[int, int]]] = [[]]
    used = 0
    for start, end in spans:
        cost = count_tokens(text[start:end])
        pieces = (
            [(start, end)]
            if cost <= budget
            else _fit_sentence(text, start, end, count_tokens, budget)
        )
        for piece in pieces:
            cost = count_tokens(text[piece[0] : piece[1]]) if len(pieces) > 1 else cost
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
        speaker_at = dict(zip(paragraph_spans, sentence_speakers, strict=True))
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
                        PassageSentence(a - offset, b - offset, _speaker_of(a, speaker_at))
                        for a, b in window
                    ),
                )
            )
    return passages, speakers.people


def _speaker_of(start: int, speaker_at: dict[tuple[int, int], str | None]) -> str | None:
    """Speaker of the sentence a piece was cut from (a piece starts inside its sentence)."""
    return next((who for (a, b), who in speaker_at.items() if a <= start < b), None)
