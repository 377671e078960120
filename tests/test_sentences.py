"""Sentence spans: the sentences blingfire finds, at blingfire's own offsets, verbatim."""

from __future__ import annotations

import blingfire
import pytest

from qa.sentences import sentence_spans

from .conftest import SEED_LINES

AWKWARD = [
    "Shoigu said. He added: “No.”  Then left.",
    "A line\nbreak inside. And a second sentence.",
    "Tabs\tbetween. Words  with   runs of spaces.  ",
    "  Leading spaces. Non\u00a0breaking space. Über die Grenze. Ça va. 😀 Emoji.",
    "U.S. officials said 4.5 pct. Mr. Smith agreed.",
    "Line\u2028separator. End",
    "…",
    "No full stop at all",
]


@pytest.mark.parametrize("text", [line for line in [*SEED_LINES, *AWKWARD] if line.strip()])
def test_spans_are_blingfires_own(text: str) -> None:
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    expected = [(start, end) for start, end in offsets if end > start]
    spans = sentence_spans(text)
    assert spans == (expected or [(0, len(text))])
    assert all(text[start:end].strip() for start, end in spans)


def test_blank_text_has_no_sentences() -> None:
    assert sentence_spans(" \t ") == []
