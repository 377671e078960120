"""Whether quoted text holds a gold answer: the two matchers the benchmarks' figures rest on.

``contains`` forgives what a reader would (case, punctuation, a word's ending, "six" for "6");
``quoted`` is plain lower-case containment, the rule the SQuAD v1.1 extraction figure has been
measured with from the start, kept so that figure stays comparable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import Stemmer

__all__ = ["contains", "quoted"]

_STEMMER = Stemmer.Stemmer("english")
_NUMBERS = {
    word: str(number)
    for number, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}


def _normalise(text: str) -> str:
    """How answers are matched: lower case, punctuation gone, words stemmed ("nuggets" is
    "nugget") and small numbers as digits ("six" is "6")."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    text = re.sub(r"[^\w%$.]+|(?<!\d)\.|\.(?!\d)", " ", text)
    tokens = [_NUMBERS.get(token, token) for token in text.split()]
    return " ".join(_STEMMER.stemWords(tokens))


def contains(haystack: str, needles: Sequence[str]) -> bool:
    """Any of ``needles``, normalised, as whole words of ``haystack``, normalised."""
    normalised = f" {_normalise(haystack)} "
    return any(f" {_normalise(n)} " in normalised for n in needles if _normalise(n))


def quoted(quotes: Sequence[str], answers: Sequence[str]) -> bool:
    """Any of ``answers`` inside the joined ``quotes``, ignoring case."""
    text = " ".join(quotes).lower()
    return any(answer.strip().lower() in text for answer in answers)
