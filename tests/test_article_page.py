"""The article page a citation opens: the story's headline, date, dateline, agency, the
publisher's link and the way back; a reader's 404; accessible in light and dark (axe in
Debian's Chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from qa.api import create_app
from qa.api.pages import article_page, publisher, readable_date
from qa.settings import Settings
from qa.store import ArticleRecord, ParagraphRecord

from .conftest import PUTIN_ARTICLE, SHOIGU_ARTICLE, LiveServer
from .test_api import ready
from .widget_kit import run_axe

BACK = '<a href="/">Back to Dateline</a>'


@pytest.fixture(scope="module")
def client(seeded_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_settings)) as test_client:
        yield ready(test_client)


def _record(**changes: Any) -> ArticleRecord:
    fields: dict[str, Any] = {
        "article_id": "cnn_spirit_frontier",
        "title": "Spirit and Frontier Airlines announce a merger",
        "date": "2022-02-07",
        "dateline": "New York",
        "agency": "CNN Business",
        "passages": 1,
        "source_url": "https://www.cnn.com/2022/02/07/investing/spirit-frontier/index.html",
        "author": None,
    }
    return ArticleRecord(**{**fields, **changes})


PARAGRAPHS = [ParagraphRecord(1, None, "Spirit and Frontier Airlines announced a merger.", None)]


def test_the_story_page_of_the_seeds(client: TestClient) -> None:
    response = client.get(f"/articles/{PUTIN_ARTICLE}")
    assert response.status_code == 200
    page = response.text
    title = client.get(f"/api/articles/{PUTIN_ARTICLE}").json()["title"]
    (heading,) = re.findall(r"<h1>(.*?)</h1>", page)
    assert heading == title  # the stored headline, never the id
    assert PUTIN_ARTICLE not in page
    assert '<time datetime="2022-12-09">9 December 2022</time> · MOSCOW · TASS' in page
    assert BACK in page and "<main>" in page
    assert "Read at" not in page  # the seeds name no publisher's page
    assert all(f'id="p{n}"' in page for n in range(1, 9))


def test_the_publisher_is_linked_by_its_name() -> None:
    page = article_page(_record(), PARAGRAPHS).body.decode()
    assert (
        '<a href="https://www.cnn.com/2022/02/07/investing/spirit-frontier/index.html">'
        "Read at cnn.com</a>"
    ) in page
    assert "7 February 2022</time> · New York · CNN Business" in page
    assert "By " not in page
    assert (
        "By Chris Isidore"
        in article_page(_record(author="Chris Isidore"), PARAGRAPHS).body.decode()
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "not a url", "//cnn.com/x", None]
)
def test_only_a_web_address_is_linked(url: str | None) -> None:
    page = article_page(_record(source_url=url), PARAGRAPHS).body.decode()
    assert "Read at" not in page and "javascript:" not in page


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.cnn.com/a", "cnn.com"),
        ("http://edition.cnn.com/a", "edition.cnn.com"),
        ("https://WWW.Reuters.com:443/a?b=c", "reuters.com"),
        ("ftp://example.org/a", None),
    ],
)
def test_publisher_names(url: str, name: str | None) -> None:
    assert publisher(url) == name


@pytest.mark.parametrize(
    ("iso", "shown"),
    [("2022-12-09", "9 December 2022"), ("2024-04-26", "26 April 2024"), (None, None), ("x", None)],
)
def test_readable_dates(iso: str | None, shown: str | None) -> None:
    assert readable_date(iso) == shown


def test_text_is_escaped() -> None:
    hostile = _record(title="<script>x</script>", dateline="<b>", author="<i>a</i>")
    page = article_page(
        hostile, [ParagraphRecord(1, "<h3>", "<img src=x onerror=alert(1)>", "<u>")]
    ).body.decode()
    for tag in ("<script>x", "<b>", "<i>a", "<h3>", "<img", "<u>"):
        assert tag not in page


def test_an_unknown_article_is_a_page_the_api_stays_json(client: TestClient) -> None:
    for path in (
        "/articles/nope",
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/articles/" + "x" * 300,
        "/articles/a%0Ab",  # a line break: routes nowhere, still the page
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "<h1>Article not found</h1>" in response.text and BACK in response.text
        assert "nope" not in response.text and "passwd" not in response.text
    api = client.get("/api/articles/nope")
    assert api.status_code == 404 and api.json() == {"detail": "No article with id 'nope'."}


def test_the_page_and_its_404_are_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/articles/{article_id}"]["get"]
    assert set(operation["responses"]["404"]["content"]) == {"text/html"}


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "mobile"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "path",
    [f"/articles/{PUTIN_ARTICLE}#p3", f"/articles/{SHOIGU_ARTICLE}#p10", "/articles/nope"],
)
def test_axe_finds_nothing(
    browser: Browser, live_server: LiveServer, scheme: str, path: str, width: int
) -> None:
    """Every axe rule, the highlighted paragraph's contrast and the landmarks among them."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{path}")
        assert run_axe(page, frozenset({"color-contrast", "landmark-one-main", "region"})) == []
    finally:
        context.close()
