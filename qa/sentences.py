"""Sentence boundaries as character spans, from blingfire's trained splitter."""

from __future__ import annotations

import blingfire

__all__ = ["sentence_spans"]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of each sentence in ``text``; their slices are verbatim text.

    blingfire's own offsets map UTF-8 bytes to characters in a Python loop over every byte,
    which triples the cost (Reuters: 0.048 ms a paragraph, against 0.016 to split and find).
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
