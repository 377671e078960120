"""Sentence boundaries as character spans, from blingfire's trained splitter."""

from __future__ import annotations

import blingfire

__all__ = ["sentence_spans"]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of each sentence in ``text``; their slices are verbatim text."""
    if not text.strip():
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans = [(int(start), int(end)) for start, end in offsets if end > start]
    return spans or [(0, len(text))]
