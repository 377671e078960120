"""Live updates over real HTTP: token, add, replace, delete, and readers during writes."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from qa.settings import Settings

from .conftest import LiveServer, start_server, stop_server

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = (
    "date 2025-02-03 OSLO, February 3. /NTB/. Norway will build a new icebreaker for Arctic "
    "research, Minister Kari Nordmann said.\n"
    '"The icebreaker will be ready by 2029," Nordmann added.'
)
REPLACEMENT = ARTICLE.replace("icebreaker", "research vessel")


@pytest.fixture(scope="module")
def writable(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("writable")
    shutil.copytree(seeded_settings.data_dir, root / "data")
    server = start_server(
        root / "data",
        root / "server.log",
        DATELINE_API_TOKEN=TOKEN,
        DATELINE_RATE_LIMIT_PER_MINUTE="0",
    )
    yield server
    stop_server(server)


def _chat(server: LiveServer, question: str) -> dict[str, object]:
    response = httpx.post(f"{server.url}/api/chat", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    body.pop("took_ms")
    return body


def test_writes_are_off_without_a_token(live_server: LiveServer) -> None:
    response = httpx.post(
        f"{live_server.url}/api/articles", json={"article_id": "a", "text": ARTICLE}
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "live updates are disabled: set DATELINE_API_TOKEN on the server"
    }


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_a_valid_token_is_required(writable: LiveServer, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{writable.url}/api/articles", json={"article_id": "a", "text": ARTICLE}, headers=headers
    )
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert httpx.delete(f"{writable.url}/api/articles/a", headers=headers).status_code == 401


def test_add_replace_delete(writable: LiveServer) -> None:
    url = f"{writable.url}/api/articles"
    added = httpx.post(
        url, json={"article_id": "oslo_1", "text": ARTICLE}, headers=AUTH, timeout=60
    )
    assert added.status_code == 201
    assert added.json() == {"article_id": "oslo_1", "passages": 2, "replaced": False}
    answer = _chat(writable, "When will the icebreaker be ready?")
    assert [c["article_id"] for c in answer["citations"]][:1] == ["oslo_1"]  # type: ignore[index]
    assert "2029" in str(answer["answer"])

    replaced = httpx.post(
        url, json={"article_id": "oslo_1", "text": REPLACEMENT}, headers=AUTH, timeout=60
    )
    assert replaced.status_code == 201 and replaced.json()["replaced"] is True
    detail = httpx.get(f"{url}/oslo_1").json()
    assert "research vessel" in detail["paragraphs"][0]["text"]
    assert "icebreaker" not in str(_chat(writable, "When will the research vessel be ready?"))

    assert httpx.delete(f"{url}/oslo_1", headers=AUTH, timeout=60).json() == {
        "article_id": "oslo_1",
        "deleted": True,
    }
    assert httpx.get(f"{url}/oslo_1").status_code == 404
    assert httpx.delete(f"{url}/oslo_1", headers=AUTH, timeout=60).status_code == 404
    assert httpx.get(f"{writable.url}/readyz").json()["articles"] == 2


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (
            {"article_id": "dup", "text": Path("seeds/004_54dffa4cde85c137.txt").read_text()},
            409,
            "same text",
        ),
        ({"article_id": "blank", "text": "   \n  "}, 422, "empty file"),
        ({"article_id": "../../etc/passwd", "text": ARTICLE}, 422, "article_id"),
        ({"article_id": "x"}, 422, "text"),
    ],
)
def test_bad_writes(writable: LiveServer, body: dict[str, str], status: int, reason: str) -> None:
    response = httpx.post(f"{writable.url}/api/articles", json=body, headers=AUTH, timeout=60)
    assert response.status_code == status and reason in response.json()["detail"]


def test_readers_see_whole_states_while_a_writer_works(writable: LiveServer) -> None:
    """Every answer served during writes is exactly, scores included, one served in a whole state.

    The writer cycles through three states (without the article, with it, with it replaced);
    BM25 statistics shift with each, so a torn read would show up as an answer of none of them.
    """
    url = f"{writable.url}/api/articles"
    questions = [
        "What did Putin say about training?",
        "What did Shoigu say about the CSTO?",
        "peacekeeping",
    ]
    states: list[dict[str, dict[str, object]]] = [{q: _chat(writable, q) for q in questions}]
    for text in (ARTICLE, REPLACEMENT):
        assert httpx.post(
            url, json={"article_id": "churn", "text": text}, headers=AUTH, timeout=60
        ).is_success
        states.append({q: _chat(writable, q) for q in questions})
    assert httpx.delete(f"{url}/churn", headers=AUTH, timeout=60).is_success
    stop = threading.Event()
    writes: list[int] = []

    def writer() -> None:
        with httpx.Client(headers=AUTH, timeout=60) as client:
            while not stop.is_set():
                for text in (ARTICLE, REPLACEMENT):
                    writes.append(
                        client.post(url, json={"article_id": "churn", "text": text}).status_code
                    )
                writes.append(client.delete(f"{url}/churn").status_code)

    def reader(index: int) -> list[bool]:
        deadline = time.monotonic() + 8
        whole = []
        while time.monotonic() < deadline:
            question = questions[index % len(questions)]
            whole.append(_chat(writable, question) in [state[question] for state in states])
            index += 1
        return whole

    thread = threading.Thread(target=writer)
    thread.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [ok for batch in pool.map(reader, range(8)) for ok in batch]
    stop.set()
    thread.join()
    assert len(results) > 50 and all(results)
    assert len(writes) >= 6 and set(writes) <= {200, 201}
