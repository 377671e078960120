"""Speaker attribution, paragraph by paragraph on both seed articles, and its rules."""

from __future__ import annotations

from qa.articles import read_article
from qa.sentences import sentence_spans
from qa.speakers import attribute_speakers, mask_quotes

from .conftest import PUTIN_ARTICLE, SEEDS, SHOIGU_ARTICLE


def _speakers(paragraphs: list[str]) -> tuple[list[str | None], list[list[str | None]]]:
    result = attribute_speakers(paragraphs, [sentence_spans(p) for p in paragraphs])
    return result.paragraphs, result.sentences


def _seed(article_id: str) -> list[str]:
    return [p.text for p in read_article(SEEDS / f"{article_id}.txt", 10**6).paragraphs]


def test_every_shoigu_paragraph() -> None:
    paragraphs, sentences = _speakers(_seed(SHOIGU_ARTICLE))
    assert paragraphs == ["Sergey Shoigu"] * 10
    assert all(speaker == "Sergey Shoigu" for row in sentences for speaker in row)


def test_every_putin_paragraph() -> None:
    paragraphs, _ = _speakers(_seed(PUTIN_ARTICLE))
    assert paragraphs == ["Vladimir Putin"] * 8


def test_aliases_collected_from_titles_and_roles() -> None:
    texts = _seed(PUTIN_ARTICLE)
    people = attribute_speakers(texts, [sentence_spans(t) for t in texts]).people
    assert set(people) == {"Vladimir Putin"}
    assert {
        "putin",
        "vladimir putin",
        "russian president",
        "russian leader",
        "head of state",
    } <= people["Vladimir Putin"].aliases


def test_narration_has_no_speaker_and_quotes_continue() -> None:
    paragraphs, _ = _speakers(
        [
            "The meeting was held in Minsk on Friday.",
            '"We will act," Foreign Minister Anna Berg said.',
            '"And we will act fast."',
            "Delegates then left the hall.",
            "She added that talks would resume.",
        ]
    )
    assert paragraphs == [None, "Anna Berg", "Anna Berg", None, "Anna Berg"]


def test_inverted_and_according_to() -> None:
    paragraphs, _ = _speakers(
        [
            '"Prices will rise," said John Smith, the bank\'s chief economist.',
            "Exports fell sharply, according to Maria Lopez.",
            "Smith disagreed, the report states.",
        ]
    )
    assert paragraphs == ["John Smith", "Maria Lopez", None]


def test_cues_inside_quotes_are_ignored() -> None:
    paragraphs, _ = _speakers(['"Nobody said it would be easy," Ivan Petrov stressed.'])
    assert paragraphs == ["Ivan Petrov"]
    masked, spans = mask_quotes('a "b c" d')
    assert spans == [(2, 7)] and masked[2:7] == "\x00" * 5


def test_pronoun_without_antecedent_has_no_speaker() -> None:
    assert _speakers(["He said the plan was ready."])[0] == [None]
