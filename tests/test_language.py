"""The question language check: surely-foreign questions get a note, English ones an answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.language import ENGLISH_ONLY, question_language
from qa.settings import Settings

from .conftest import run_dateline

QUESTIONS = json.loads(
    (Path(__file__).resolve().parents[1] / "bench" / "language_questions.json").read_text("utf-8")
)
GERMAN = "Was hat Putin über die Ausbildung der Truppen gesagt?"


@pytest.mark.parametrize("question", QUESTIONS["english"])
def test_english_with_foreign_names_is_english(question: str) -> None:
    assert question_language(question) is None


@pytest.mark.parametrize(
    ("language", "question"),
    [(language, q) for language, questions in QUESTIONS["other"].items() for q in questions],
)
def test_other_languages_are_caught(language: str, question: str) -> None:
    assert question_language(question) is not None


@pytest.mark.parametrize(
    ("question", "language"),
    [
        (GERMAN, "de"),
        ("¿Qué dijo Putin sobre el entrenamiento de las tropas?", "es"),
        ("Что сказал Шойгу?", "ru"),
        ("普京对部队训练说了什么？", "zh"),
        ("プーチン大統領は何と言いましたか？", "ja"),
    ],
)
def test_the_language_is_named(question: str, language: str) -> None:
    assert question_language(question) == language


@pytest.mark.parametrize(
    "question",
    ["Wahlen?", "Was sagte?", "2022 2023 2024 2025", "SCO CSTO CIS", "???"],
)
def test_too_short_or_wordless_latin_questions_are_not_judged(question: str) -> None:
    assert question_language(question) is None


def test_a_foreign_question_is_answered_with_the_note(archive: Archive) -> None:
    answer = archive.ask(GERMAN)
    assert answer.abstained and answer.citations == []
    assert answer.answer == ENGLISH_ONLY
    assert answer.language == "de"
    english = archive.ask("What did Putin say about training?")
    assert not english.abstained and english.language is None


@pytest.fixture
def reads(seeded_settings: Settings, encoder: Encoder) -> Iterator[Callable[[list[str]], Archive]]:
    """The seeds archive opened with another list of answered languages per test."""
    opened: list[Archive] = []

    def open_with(languages: list[str]) -> Archive:
        settings = seeded_settings.model_copy(update={"answer_languages": languages})
        opened.append(Archive.open(settings, encoder))
        return opened[-1]

    yield open_with
    for archive in opened:
        archive.close()


def test_answer_languages_lift_the_restriction(reads: Callable[[list[str]], Archive]) -> None:
    unchecked = reads([])
    answer = unchecked.ask(GERMAN)
    assert answer.answer != ENGLISH_ONLY and answer.language is None
    german_too = reads(["en", "de"])
    answer = german_too.ask(GERMAN)
    assert answer.answer != ENGLISH_ONLY and answer.language == "de"
    refused = german_too.ask("Qu'a dit Poutine à propos de l'entraînement militaire ?")
    assert refused.abstained and refused.language == "fr"
    assert refused.answer == "Questions are answered in these languages only: en, de."


def test_answer_languages_setting_takes_codes() -> None:
    with pytest.raises(ValidationError, match="two letters"):
        Settings(answer_languages=["english"])
    assert Settings(answer_languages=["EN", "De"]).answer_languages == ["en", "de"]


def test_cli_ask_prints_the_note(seeded_settings: Settings) -> None:
    done = run_dateline("ask", GERMAN, data_dir=seeded_settings.data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ENGLISH_ONLY
    done = run_dateline("ask", GERMAN, "--json", data_dir=seeded_settings.data_dir)
    assert json.loads(done.stdout)["language"] == "de"
