"""Starter questions: made from the latest articles' speakers, each one answered by the archive."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from embeddings.encoder import Encoder
from qa.api import create_app
from qa.archive import Archive
from qa.settings import Settings
from qa.store import Store
from qa.suggestions import StarterQuestions, starter_questions

from .conftest import PUTIN_ARTICLE, SHOIGU_ARTICLE

SPEAKER_QUESTION = re.compile(r"^What did (.+) say about ([a-z]+)\?$")
# A later article quoting someone the seeds never quote, three times.
BERGEN_ARTICLE = (
    "date 2024-05-02 BERGEN, May 2. /NTB/. The city will open a new fish market by the harbour"
    " in June, mayor Ola Hansen said on Thursday.\n"
    '"The fish market will sell cod and salmon caught the same morning," Hansen said.\n'
    '"Fishermen from the whole coast will bring their catch to the harbour market," Hansen'
    " added.\n"
)


@pytest.fixture(scope="module")
def suggested(seeded_settings: Settings) -> list[str]:
    with TestClient(create_app(seeded_settings)) as client:
        response = client.get("/api/suggestions")
        while response.status_code == 503:  # the archive is still loading
            response = client.get("/api/suggestions")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"suggestions"}
        return list(body["suggestions"])


def test_three_or_four_distinct_questions(suggested: list[str]) -> None:
    assert 3 <= len(suggested) <= 4 and len(set(suggested)) == len(suggested)


def test_the_latest_speakers_are_asked_about(suggested: list[str]) -> None:
    named = {m.group(1) for q in suggested if (m := SPEAKER_QUESTION.match(q))}
    assert named == {"Putin", "Shoigu"}  # the seeds quote these two, by these surnames


def test_each_suggestion_is_answered_by_the_real_archive(
    suggested: list[str], archive: Archive
) -> None:
    for question in suggested:
        answer = archive.ask(question)
        assert not answer.abstained and answer.citations, question
        asked = SPEAKER_QUESTION.match(question)
        if asked is None:
            continue
        (speaker,) = answer.speakers or [None]
        assert speaker is not None and speaker.endswith(asked.group(1)), question
        assert {c.speaker for c in answer.citations} == {speaker}, question
        assert asked.group(2) not in speaker.lower()


@pytest.fixture
def writable(seeded_settings: Settings, encoder: Encoder, tmp_path: Path) -> Iterator[Archive]:
    """The seeds archive, copied so that it can be written."""
    shutil.copytree(seeded_settings.data_dir, tmp_path / "data")
    Store(tmp_path / "data" / "store.sqlite").close()
    opened = Archive.open(
        seeded_settings.model_copy(update={"data_dir": tmp_path / "data"}), encoder
    )
    yield opened
    opened.close()


def test_made_again_when_the_archive_changes(writable: Archive) -> None:
    starters = StarterQuestions.of(writable)
    before = starters.current()
    assert starters.current() == before and not any("Hansen" in q for q in before)
    writable.put_article("bergen_1", BERGEN_ARTICLE)
    after = starters.current()
    (hansen,) = [q for q in after if q.startswith("What did Hansen say about ")]
    answer = writable.ask(hansen)
    assert not answer.abstained and answer.speakers == ["Ola Hansen"]


def test_an_empty_archive_has_none(writable: Archive) -> None:
    for article_id in (PUTIN_ARTICLE, SHOIGU_ARTICLE):
        writable.delete_article(article_id)
    assert starter_questions(writable) == []
    assert StarterQuestions.of(writable).current() == []


def test_the_endpoint_is_documented(seeded_settings: Settings) -> None:
    with TestClient(create_app(seeded_settings)) as client:
        operation = client.get("/openapi.json").json()["paths"]["/api/suggestions"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Suggestions"}
    assert "503" in operation["responses"]
