"""Readers' verdicts: POST /api/feedback keeps them in the store, `dateline feedback export`
writes them as CSV; no personal data, rate-limited, refused by a folder that takes no writes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.feedback import CSV_HEADER
from qa.settings import Settings
from qa.store import Store

from .conftest import PUTIN_ARTICLE, one_error_line, run_dateline
from .test_operations import app_over, immutable

VERDICT: dict[str, Any] = {
    "question": "  What did Putin say about training?  ",
    "passages": [{"article_id": PUTIN_ARTICLE, "paragraph": 3}],
    "verdict": "up",
}


def _copy(seeded_settings: Settings, folder: Path) -> Path:
    """A copy of the seeds archive, its store closed so that its file holds every write."""
    shutil.copytree(seeded_settings.data_dir, folder / "data")
    Store(folder / "data" / "store.sqlite").close()
    return folder / "data"


@pytest.fixture
def data(seeded_settings: Settings, tmp_path: Path) -> Path:
    return _copy(seeded_settings, tmp_path)


@pytest.fixture(scope="module")
def client(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One app for the tests that only read its answers."""
    data = _copy(seeded_settings, tmp_path_factory.mktemp("feedback"))
    with app_over(data, seeded_settings) as opened:
        yield opened


def _export(data: Path) -> list[list[str]]:
    done = run_dateline("feedback", "export", data_dir=data)
    assert done.returncode == 0, done.stderr
    return list(csv.reader(io.StringIO(done.stdout)))


def test_a_verdict_is_kept_and_exported(data: Path, seeded_settings: Settings) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    with app_over(data, seeded_settings) as client:
        first = client.post("/api/feedback", json=VERDICT)
        assert first.status_code == 201 and first.json() == {"id": 1}
        second = client.post(
            "/api/feedback", json={"question": "Who is Shoigu?", "verdict": "down"}
        )
        assert second.status_code == 201 and second.json() == {"id": 2}
    header, up, down = _export(data)
    assert header == list(CSV_HEADER)
    assert up[0] == "1" and up[2:4] == ["up", "What did Putin say about training?"]
    assert json.loads(up[4]) == [{"article_id": PUTIN_ARTICLE, "paragraph": 3}]
    created = datetime.fromisoformat(up[1])
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= datetime.now(UTC)
    assert down[0] == "2" and down[2:] == ["down", "Who is Shoigu?", "[]"]


def test_nothing_about_the_reader_is_kept(data: Path, seeded_settings: Settings) -> None:
    with app_over(data, seeded_settings) as client:
        response = client.post(
            "/api/feedback",
            json={**VERDICT, "email": "reader@example.org"},
            headers={"user-agent": "ReaderBrowser/1.0", "x-forwarded-for": "203.0.113.9"},
        )
        assert response.status_code == 201
    with sqlite3.connect(data / "store.sqlite") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(feedback)")]
        (row,) = db.execute("SELECT * FROM feedback").fetchall()
    assert columns == ["id", "question", "passages", "verdict", "created_at"]
    assert not any(
        secret in str(value)
        for value in row
        for secret in ("reader@", "ReaderBrowser", "203.0.113", "testclient")
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"verdict": "meh"}, "verdict: Input should be 'up' or 'down'"),
        ({"question": "   "}, "question: The question is empty"),
        ({"question": "x" * 1001}, "question: the question is longer than 1000 characters"),
        ({"passages": [{"article_id": "a", "paragraph": 1}] * 11}, "passages: List should have"),
        ({"passages": [{"article_id": "a", "paragraph": 0}]}, "passages.0.paragraph:"),
        ({"passages": [{"article_id": "../etc", "paragraph": 1}]}, "passages.0.article_id:"),
        ({"verdict": None}, "verdict:"),
    ],
)
def test_bad_verdicts_are_422_with_a_reason(
    client: TestClient, change: dict[str, Any], reason: str
) -> None:
    response = client.post("/api/feedback", json={**VERDICT, **change})
    assert response.status_code == 422
    assert response.json()["detail"].startswith(reason), response.json()


def test_feedback_is_rate_limited(data: Path, seeded_settings: Settings) -> None:
    limited = seeded_settings.model_copy(update={"rate_limit_per_minute": 2})
    with app_over(data, limited) as client:
        statuses = [client.post("/api/feedback", json=VERDICT).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_a_folder_that_takes_no_writes_is_507(data: Path, seeded_settings: Settings) -> None:
    with immutable(data), app_over(data, seeded_settings) as client:
        refused = client.post("/api/feedback", json=VERDICT)
        assert refused.status_code == 507
        assert "cannot be written" in refused.json()["detail"]
        assert str(data) not in refused.json()["detail"]
    assert _export(data) == [list(CSV_HEADER)]  # and the export still reads the store


def test_export_of_an_archive_without_feedback_is_the_header(data: Path) -> None:
    assert _export(data) == [list(CSV_HEADER)]


def test_export_to_a_file(data: Path, seeded_settings: Settings, tmp_path: Path) -> None:
    with app_over(data, seeded_settings) as client:
        assert client.post("/api/feedback", json=VERDICT).status_code == 201
    output = tmp_path / "feedback.csv"
    done = run_dateline("feedback", "export", "--output", str(output), data_dir=data)
    assert done.returncode == 0 and done.stdout == f"wrote 1 verdict to {output}\n"
    with output.open(encoding="utf-8", newline="") as written:
        rows = list(csv.reader(written))
    assert rows[0] == list(CSV_HEADER) and rows[1][3] == "What did Putin say about training?"


def test_export_without_an_archive_is_one_line(tmp_path: Path) -> None:
    done = run_dateline("feedback", "export", data_dir=tmp_path / "none")
    assert (
        one_error_line(done)
        == f"error: no archive in {tmp_path / 'none'}: there is no store.sqlite"
    )
    assert done.stdout == "" and not (tmp_path / "none").exists()


def test_the_endpoint_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/feedback"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FeedbackRequest"
    }
    # 409: a cluster's server keeps no verdicts
    assert set(operation["responses"]) == {"201", "408", "409", "413", "422", "429", "503", "507"}
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/FeedbackRecorded"}
