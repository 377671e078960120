"""Sentence boundaries as character spans, from blingfire's trained splitter."""

from __future__ import annotations

import blingfire

__all__ = ["sentence_spans"]

# blingfire holds many bytes for each character it is given, so a longer text is given to it
# in pieces of about this many characters.
_PIECE_CHARS = 100_000


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of each sentence in ``text``; their slices are verbatim text.

    A text longer than a piece is read a piece at a time; the last sentence found in a piece
    may run on past its end, so it is read again at the start of the next piece. Only a
    sentence longer than a whole piece is cut, at the last space in it.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    while len(text) - position > _PIECE_CHARS:
        end = position + _PIECE_CHARS
        found = _piece_spans(text[position:end])
        if len(found) > 1:
            spans.extend((position + a, position + b) for a, b in found[:-1])
            position += found[-1][0]
            continue
        cut = text.rfind(" ", position, end)
        end = cut if cut > position else end
        spans.extend((position + a, position + b) for a, b in _piece_spans(text[position:end]))
        position = end
    spans.extend((position + a, position + b) for a, b in _piece_spans(text[position:]))
    return spans


def _piece_spans(text: str) -> list[tuple[int, int]]:
    """The sentence spans of one piece of text.

    blingfire's own offsets map UTF-8 bytes to characters in a Python loop over every byte,
    which costs several times more than splitting and finding the sentences here.
    Its sentences of a line are slices of it, so each is found where the last one ended; a
    text it reshaped (line breaks, odd spaces) gets its offsets instead.
    """
    if not text.strip():
        return []
    spans: list[tuple[int, int]] = []
    position = 0
    for sentence in blingfire.text_to_sentences(text).split("\n"):
        start = text.find(sentence, position) if sentence else -1
        if start < 0 or text[position:start].strip():
            return _spans_from_offsets(text)
        position = start + len(sentence)
        spans.append((start, position))
    return spans


def _spans_from_offsets(text: str) -> list[tuple[int, int]]:
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans = [(int(start), int(end)) for start, end in offsets if end > start]
    return spans or [(0, len(text))]
