"""The HTTP API: shapes, bad input, limits, CORS and concurrency, in-process and over real HTTP."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import qa
from qa.api import create_app
from qa.settings import Settings
from qa.timeframe import recency_bonus

from .conftest import ANSWER_KEYS, PUTIN_ARTICLE, SHOIGU_ARTICLE, LiveServer, free_port

CITATION_KEYS = {
    "n",
    "article_id",
    "title",
    "date",
    "dateline",
    "agency",
    "paragraph",
    "text",
    "quote",
    "highlights",
    "speaker",
    "score",
    "url",
    "source_url",
}


def ready(client: TestClient) -> TestClient:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.1)
    return client


@pytest.fixture(scope="module")
def client(seeded_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_settings)) as test_client:
        yield ready(test_client)


def test_chat_shape(client: TestClient) -> None:
    response = client.post("/api/chat", json={"question": "What did Putin say about training?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ANSWER_KEYS
    assert body["question"] == "What did Putin say about training?" and body["abstained"] is False
    assert body["time_window"] is None and body["language"] is None
    assert 1 <= len(body["citations"]) <= 3
    for citation in body["citations"]:
        assert set(citation) == CITATION_KEYS
        assert citation["article_id"] == PUTIN_ARTICLE
        assert citation["url"] == f"/articles/{PUTIN_ARTICLE}#p{citation['paragraph']}"
    # One segment per citation, in order: a client renders them without reading "[n]" back.
    assert [(s["text"], s["citation"]) for s in body["segments"]] == [
        (c["quote"], c["n"]) for c in body["citations"]
    ]


def test_a_follow_up_with_the_earlier_segments_quotes_something_new(client: TestClient) -> None:
    first = client.post("/api/chat", json={"question": "What did Putin say about training?"})
    earlier = first.json()
    turn = {
        "question": earlier["question"],
        "answer": earlier["answer"],
        "segments": earlier["segments"],
    }
    body = client.post(
        "/api/chat", json={"question": "What else did he say?", "history": [turn]}
    ).json()
    assert body["citations"], body["answer"]
    assert {c["quote"] for c in body["citations"]}.isdisjoint(
        s["text"] for s in earlier["segments"]
    )
    assert body["speakers"] == earlier["speakers"]


def test_an_abstained_answer_has_no_segments(client: TestClient) -> None:
    body = client.post("/api/chat", json={"question": "What is the recipe for chocolate cake?"})
    assert body.json()["abstained"] is True and body.json()["segments"] == []


def test_chat_top_k_and_filters(client: TestClient) -> None:
    body = client.post(
        "/api/chat",
        json={
            "question": "military cooperation",
            "top_k": 1,
            "filters": {"article_id": SHOIGU_ARTICLE},
        },
    ).json()
    assert [c["article_id"] for c in body["citations"]] == [SHOIGU_ARTICLE]


SHOIGU_ON_REVOLUTIONS = "What did Shoigu say about color revolutions?"  # 2024-04-26 article


def _chat(client: TestClient, question: str, as_of: str) -> dict[str, Any]:
    response = client.post("/api/chat", json={"question": question, "as_of": as_of})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cited(body: dict[str, Any]) -> set[str]:
    return {c["article_id"] for c in body["citations"]}


def test_chat_as_of_hides_later_articles(client: TestClient) -> None:
    assert _cited(_chat(client, SHOIGU_ON_REVOLUTIONS, "2024-04-26")) == {SHOIGU_ARTICLE}
    before = _chat(client, SHOIGU_ON_REVOLUTIONS, "2024-04-25")
    assert before["abstained"] is True and SHOIGU_ARTICLE not in _cited(before)
    assert before["time_window"] is None


def test_chat_this_week_is_a_window(client: TestClient) -> None:
    question = "What did Shoigu say about color revolutions this week?"
    monday = _chat(client, question, "2024-04-29")
    assert monday["time_window"] == {"from": "2024-04-23", "to": "2024-04-29"}
    assert _cited(monday) == {SHOIGU_ARTICLE}

    later = _chat(client, question, "2024-05-20")
    assert later["time_window"] == {"from": "2024-05-14", "to": "2024-05-20"}
    assert later["abstained"] is True and later["citations"] == []
    assert later["answer"] == "No passage dated 2024-05-14 to 2024-05-20 answers this question."


def test_chat_window_meets_the_filters(client: TestClient) -> None:
    body = client.post(
        "/api/chat",
        json={
            "question": "What did Putin say about training in 2022?",
            "as_of": "2024-05-01",
            "filters": {"date_from": "2023-01-01"},
        },
    ).json()
    assert body["abstained"] is True and body["time_window"] == {
        "from": "2022-01-01",
        "to": "2024-05-01",
    }


def test_chat_past_window_with_nothing_inside_reaches_to_as_of(client: TestClient) -> None:
    """Stories of a dated event come after it: "in January 2022" finds December's article, and
    the answer reports the window it searched; "this week" (ending on as_of) never widens."""
    body = _chat(client, "What did Putin say about training in January 2022?", "2023-03-01")
    assert body["time_window"] == {"from": "2022-01-01", "to": "2023-03-01"}
    assert not body["abstained"] and {c["date"] for c in body["citations"]} == {"2022-12-09"}


def test_chat_recency_cue_lifts_newer_passages(client: TestClient) -> None:
    """The same question asked days after the Shoigu article and years after both: only the
    newer article's passages gain, by the bonus of its age."""
    question = "What is the latest on joint exercises?"
    fresh = _chat(client, question, "2024-05-01")
    stale = _chat(client, question, "2030-01-01")
    bonus = recency_bonus(date(2024, 4, 26), date(2024, 5, 1))
    scores: dict[tuple[str, int], list[float]] = {}
    for body in (fresh, stale):
        for c in body["citations"]:
            scores.setdefault((c["article_id"], c["paragraph"]), []).append(c["score"])
    both = {key: pair for key, pair in scores.items() if len(pair) == 2}
    assert {article for article, _ in both} == {SHOIGU_ARTICLE, PUTIN_ARTICLE}
    for (article, _), (fresh_score, stale_score) in both.items():
        gain = bonus if article == SHOIGU_ARTICLE else 0.0
        assert fresh_score - stale_score == pytest.approx(gain, abs=2e-4)


UNDATED = "Officials in Oslo said the state budget will grow by four percent next year.\n"
BORDER_DEAL = (
    "date 2024-03-14 WASHINGTON, March 14. /AP/.\n"
    "A bipartisan group of senators unveiled an agreement on border security legislation on"
    " Sunday, giving an overview of a package of reforms that both parties have sought for"
    " years. Left out of the deal is a path to citizenship for people brought to the country"
    " as children, a measure Democrats have pushed for a decade.\n"
    "Republicans said the package was the best deal they could get this year.\n"
)
SHOW_RENEWED = (
    "---\ntitle: “Squid Game” is coming back for a second season\ndate: 2024-03-10\n---\n"
    "Netflix announced Sunday that the wildly popular South Korean show is green lit for a"
    " second season.\n"
    "The first season was the most watched series in the streamer's history.\n"
)


def _with_articles(
    seeded_settings: Settings, root: Path, articles: dict[str, str]
) -> Iterator[TestClient]:
    """The seed archive and these articles more (by id), posted through the API."""
    shutil.copytree(seeded_settings.data_dir, root / "data")
    settings = seeded_settings.model_copy(update={"data_dir": root / "data", "api_token": "t"})
    with TestClient(create_app(settings)) as writable:
        ready(writable)
        for article_id, text in articles.items():
            written = writable.post(
                "/api/articles",
                json={"article_id": article_id, "text": text},
                headers={"Authorization": "Bearer t"},
            )
            assert written.status_code == 201, written.text
        yield writable


@pytest.fixture(scope="module")
def with_undated(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The seed archive and one article of no date, on the budget."""
    root = tmp_path_factory.mktemp("undated")
    yield from _with_articles(seeded_settings, root, {"undated": UNDATED})


@pytest.fixture(scope="module")
def with_news(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The seed archive and two stories whose opening sentences restate a question: one the
    background of a question, one what a question asks about, its name in the headline."""
    articles = {"border-deal": BORDER_DEAL, "show-renewed": SHOW_RENEWED}
    yield from _with_articles(seeded_settings, tmp_path_factory.mktemp("news"), articles)


def test_a_question_with_background_quotes_what_its_asking_sentence_asks(
    with_news: TestClient,
) -> None:
    """The background finds the story, and its opening sentence restates the background; the
    sentence that answers the asking sentence ("which measure was left out") is quoted too."""
    question = (
        "A bipartisan group of senators announced an agreement on border security this week,"
        " but some reforms were not included in the deal. Which measure did lawmakers leave out?"
    )
    body = _chat(with_news, question, "2024-03-20")
    assert _cited(body) == {"border-deal"}
    assert "path to citizenship" in body["citations"][0]["quote"]


def test_an_opening_sentence_that_refers_back_is_quoted_with_the_headline(
    with_news: TestClient,
) -> None:
    """ "The wildly popular South Korean show" names nothing; the headline names it."""
    question = "Which wildly popular show was green lit for a new season?"
    first = _chat(with_news, question, "2024-03-20")["citations"][0]
    assert first["article_id"] == "show-renewed" and first["paragraph"] == 1
    assert first["quote"].startswith("“Squid Game” is coming back for a second season Netflix")
    assert first["text"].startswith("“Squid Game” is coming back for a second season\nNetflix")


def test_undated_articles_stay_visible(with_undated: TestClient) -> None:
    body = _chat(with_undated, "What did officials say about the budget?", "2000-01-01")
    assert _cited(body) == {"undated"}
    assert body["citations"][0]["date"] is None


def test_a_window_no_dated_article_answers_is_answered_by_undated_ones(
    with_undated: TestClient,
) -> None:
    """An undated article may tell of any day: with nothing dated in the window (nor after
    it), it answers, and the answer names no window; the caller's own dates still exclude it."""
    question = "What did officials say about the budget in 2019?"
    body = _chat(with_undated, question, "2024-05-01")
    assert _cited(body) == {"undated"} and body["time_window"] is None
    filtered = with_undated.post(
        "/api/chat",
        json={"question": question, "as_of": "2024-05-01", "filters": {"date_to": "2024-05-01"}},
    ).json()
    assert filtered["abstained"] is True and filtered["time_window"] == {
        "from": "2019-01-01",
        "to": "2024-05-01",
    }


def test_search_shape(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "peacekeeping", "k": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "hits", "took_ms", "partial", "missing_shards"}
    assert (body["query"], body["partial"], body["missing_shards"]) == ("peacekeeping", False, None)
    assert len(body["hits"]) == 2
    assert set(body["hits"][0]) == {
        "article_id",
        "title",
        "date",
        "dateline",
        "agency",
        "paragraph",
        "heading",
        "text",
        "speaker",
        "score",
        "dense",
        "lexical",
        "url",
        "source_url",
    }
    assert "peacekeeping" in body["hits"][0]["text"].lower()


def test_articles(client: TestClient) -> None:
    listing = client.get("/api/articles", params={"limit": 1}).json()
    assert listing["total"] == 2 and listing["limit"] == 1 and listing["offset"] == 0
    assert listing["articles"] == [
        {
            "article_id": SHOIGU_ARTICLE,
            "title": listing["articles"][0]["title"],
            "date": "2024-04-26",
            "dateline": "ASTANA",
            "agency": "TASS",
            "passages": 10,
        }
    ]
    detail = client.get(f"/api/articles/{SHOIGU_ARTICLE}").json()
    assert [p["number"] for p in detail["paragraphs"]] == list(range(1, 11))
    assert detail["paragraphs"][4]["heading"] == "SCO as cornerstone of new multipolar system"
    assert {p["speaker"] for p in detail["paragraphs"]} == {"Sergey Shoigu"}


def test_article_page(client: TestClient) -> None:
    response = client.get(f"/articles/{PUTIN_ARTICLE}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert all(f'id="p{n}"' in response.text for n in range(1, 9))
    assert "p:target" in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_one_version_in_the_package_the_api_and_the_widget(client: TestClient) -> None:
    installed = importlib.metadata.version("dateline")
    assert qa.__version__ == installed
    assert client.get("/openapi.json").json()["info"]["version"] == installed
    widget = re.search(r'\bversion: "([^"]+)"', client.get("/widget.js").text)
    assert widget is not None and widget.group(1) == installed


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text and "cdn." not in page.text
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ready",
        "model": "all-MiniLM-L6-v2",
        "articles": 2,
        "passages": 18,
        "sentences": 22,
        "generation": 1,
        "warnings": [],
    }


def test_not_ready_without_index(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "empty"))) as fresh:
        deadline = time.monotonic() + 30
        while "No index" not in fresh.get("/readyz").text:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert fresh.get("/healthz").status_code == 200
        response = fresh.get("/readyz")
        assert response.status_code == 503 and "dateline ingest" in response.json()["detail"]
        assert fresh.post("/api/chat", json={"question": "x"}).status_code == 503


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        ('{"question": ""}', {}, 422, "question: The question is empty"),
        ('{"question": "   "}', {}, 422, "question: The question is empty"),
        (json.dumps({"question": "x" * 1001}), {}, 422, "longer than 1000"),
        ('{"question": "ok", "top_k": 11}', {}, 422, "top_k"),
        ('{"question": "ok", "top_k": NaN}', {}, 422, "top_k"),
        ('{"question": "\\ud800 lone"}', {}, 422, "question"),
        ('{"question": ', {}, 422, "not valid JSON"),
        (b'{"question": "\xff"}', {}, 422, "not valid JSON"),  # not UTF-8
        ("[" * 5000, {}, 422, "not valid JSON"),  # nested past the decoder's recursion limit
        ("question=hello", {"content-type": "application/x-www-form-urlencoded"}, 422, ""),
        ("[1, 2]", {}, 422, ""),
        (
            json.dumps({"question": "q", "filters": {"date_from": "2025-02-30"}}),
            {},
            422,
            "filters.date_from: Input should be a valid date",
        ),
        (
            json.dumps(
                {"question": "q", "filters": {"date_from": "2024-05-02", "date_to": "2024-05-01"}}
            ),
            {},
            422,
            "filters: date_from is after date_to",
        ),
        (
            json.dumps({"question": "q", "history": [{"question": "a", "answer": "b"}] * 21}),
            {},
            422,
            "history",
        ),
        ('{"question": "q", "as_of": "2024-02-30"}', {}, 422, "as_of: Input should be a valid"),
        ('{"question": "q", "as_of": "yesterday"}', {}, 422, "as_of: Input should be a valid"),
    ],
)
def test_bad_chat_input(
    client: TestClient, body: str | bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    response = client.post(
        "/api/chat", content=body, headers={"content-type": "application/json", **headers}
    )
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and reason in detail
    assert "xxxxxxxxxx" not in detail and "lone" not in detail  # the input is never echoed


def test_impossible_search_date(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "training", "date_to": "2024-13-01"})
    assert response.status_code == 422
    assert "date_to: Input should be a valid date" in response.json()["detail"]


def test_reversed_search_dates(client: TestClient) -> None:
    params = {"q": "training", "date_from": "2024-05-02", "date_to": "2024-05-01"}
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    assert response.json()["detail"] == "date_from is after date_to"
    params["date_to"] = params["date_from"]  # one day is a range
    assert client.get("/api/search", params=params).status_code == 200


def test_oversized_body_is_413(client: TestClient) -> None:
    big = json.dumps({"question": "q", "history": [{"question": "a", "answer": "b" * 20_000}] * 4})
    response = client.post("/api/chat", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than 65536" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "q", "pad": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/chat", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_chat_in_another_language_says_what_the_archive_reads(client: TestClient) -> None:
    question = "Qu'a dit Poutine à propos de l'entraînement militaire ?"
    body = client.post("/api/chat", json={"question": question}).json()
    assert body["abstained"] is True and body["citations"] == [] and body["language"] == "fr"
    english_only = "Questions are answered in English; this archive's model reads English."
    assert body["answer"] == english_only


def test_unknown_article_is_404(client: TestClient) -> None:
    for path in ("/api/articles/nope", "/articles/nope", "/api/articles/..%2F..%2Fetc%2Fpasswd"):
        response = client.get(path)
        assert response.status_code in (404, 422)
        assert "/work" not in response.text and "Traceback" not in response.text
    assert client.get("/api/articles/nope").json() == {"detail": "No article with id 'nope'."}


def test_rate_limit(seeded_settings: Settings) -> None:
    settings = seeded_settings.model_copy(update={"rate_limit_per_minute": 3})
    with TestClient(create_app(settings)) as limited:
        ready(limited)
        statuses = [limited.get("/api/search", params={"q": "SCO"}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = limited.post("/api/chat", json={"question": "SCO"})
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert "at most 3 a minute" in response.json()["detail"]
        # chat, search and feedback are limited; reading articles is not
        assert limited.get("/api/articles").status_code == 200


def test_cors_preflight(seeded_settings: Settings) -> None:
    settings = seeded_settings.model_copy(update={"cors_origins": ["https://news.example"]})
    with TestClient(create_app(settings)) as cors:
        request = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        }
        allowed = cors.options("/api/chat", headers={"origin": "https://news.example", **request})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://news.example"
        assert "access-control-allow-credentials" not in allowed.headers
        foreign = cors.options("/api/chat", headers={"origin": "https://evil.example", **request})
        assert foreign.status_code == 400 and "access-control-allow-origin" not in foreign.headers


def test_default_cors_is_any_origin(client: TestClient) -> None:
    response = client.get("/healthz", headers={"origin": "https://anywhere.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_live_server_concurrent_answers_match_serial(live_server: LiveServer) -> None:
    questions = [
        "What did Putin say about training?",
        "What did Shoigu say about color revolutions?",
        "peacekeeping missions",
        "What is the recipe for chocolate cake?",
    ] * 8

    def ask(question: str) -> dict[str, object]:
        response = httpx.post(
            f"{live_server.url}/api/chat", json={"question": question}, timeout=60
        )
        assert response.status_code == 200
        body = response.json()
        del body["took_ms"]
        return dict(body)

    serial = {q: ask(q) for q in set(questions)}
    with ThreadPoolExecutor(max_workers=32) as pool:
        concurrent = list(pool.map(ask, questions))
    assert concurrent == [serial[q] for q in questions]


def test_no_redirect_is_built_from_the_host_header(live_server: LiveServer) -> None:
    response = httpx.get(
        f"{live_server.url}/api/articles/", headers={"Host": "evil.example"}, timeout=10
    )
    assert response.status_code == 404 and "location" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/api/articles",
        f"/api/articles/{PUTIN_ARTICLE}",
        f"/articles/{PUTIN_ARTICLE}",
        "/widget.js",
        "/",
    ],
)
def test_head_answers_like_get_without_a_body(live_server: LiveServer, path: str) -> None:
    get = httpx.get(f"{live_server.url}{path}", timeout=10)
    head = httpx.head(f"{live_server.url}{path}", timeout=10)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))


def test_head_where_there_is_no_get_is_405(live_server: LiveServer) -> None:
    response = httpx.head(f"{live_server.url}/api/chat", timeout=10)
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_a_token_with_surrounding_whitespace_refuses_to_start(tmp_path: Path) -> None:
    """Clients' tokens arrive trimmed, so it would refuse every write, and say nothing."""
    finished = subprocess.run(
        [sys.executable, "-m", "qa", "serve", "--port", str(free_port())],
        env={**os.environ, "DATELINE_API_TOKEN": "secret\n", "DATELINE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2 and finished.stdout == ""
    assert finished.stderr.count("\n") == 1
    assert finished.stderr.startswith("error: DATELINE_API_TOKEN begins or ends with whitespace")
