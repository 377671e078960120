"""The widget for readers: quotes under their article, paragraphs on demand, links to the story,
copy, feedback and starter questions; real Chromium against the real API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from embeddings.encoder import Encoder
from qa.factories import open_store
from qa.ingest import ingest_directory
from qa.settings import Settings

from .conftest import SHOIGU_ARTICLE, LiveServer, start_server, stop_server
from .widget_kit import (
    QUESTION,
    StaticSite,
    Tab,
    ask,
    cors_preflight_or,
    fulfill_json,
    host_page,
    json_body,
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

SOURCE_URL = "https://news.example/2024/05/01/oslo-budget"
OSLO_WITH_SOURCE = f"""---
title: Oslo budget grows by four percent
url: {SOURCE_URL}
---
date 2024-05-01 OSLO, May 1. /NTB/. The budget will grow by four percent, the minister said.
She added that taxes stay as they are.
"""
# Its first citation quotes part of a longer passage; the second a passage whole.
PARTIAL_QUESTION = "What did Shoigu say about color revolutions?"
# Answered from both seed articles, the second cited twice.
TWO_ARTICLES_QUESTION = "Which exercises did the SCO plan?"


@pytest.fixture(scope="module")
def publisher_server(
    tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> Iterator[LiveServer]:
    """A server over one article whose front matter names the publisher's page."""
    root = tmp_path_factory.mktemp("publisher")
    seeds = root / "seeds"
    seeds.mkdir()
    (seeds / "oslo.txt").write_text(OSLO_WITH_SOURCE, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, data_dir=root / "data", rate_limit_per_minute=0)
    store = open_store(settings)
    ingest_directory(
        seeds, store, encoder, settings.data_dir, settings.max_file_bytes, progress=False
    )
    store.close()
    server = start_server(settings.data_dir, root / "server.log")
    yield server
    stop_server(server)


def open_panel(page: Page, url: str) -> Locator:
    page.goto(url)
    chat = widget(page)
    chat.locator(".launcher").click()
    expect(chat.get_by_role("dialog")).to_be_visible()
    return chat


def ask_and_read(page: Page, chat: Locator, question: str) -> dict[str, Any]:
    """Asks in the panel; the answer JSON as the server sent it."""
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as response:
        ask(chat, question)
    wait_for_quotes(chat)
    answer: dict[str, Any] = response.value.json()
    return answer


def test_a_partial_quote_opens_to_its_paragraph(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    chat = open_panel(page, site.add("partial.html", host_page(live_server.url)))
    answer = ask_and_read(page, chat, PARTIAL_QUESTION)
    partial, whole = answer["citations"][0], answer["citations"][1]
    assert partial["article_id"] == SHOIGU_ARTICLE
    assert partial["quote"] != partial["text"] and whole["quote"] == whole["text"]

    quote = chat.locator(f'.quote[data-n="{partial["n"]}"]')
    passage = quote.locator(".passage")
    expect(passage).to_have_text(partial["quote"])  # collapsed to the quote, nothing marked
    expect(passage.locator("mark")).to_have_count(0)
    toggle = quote.get_by_role("button", name="Show paragraph")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert passage.get_attribute("id") == toggle.get_attribute("aria-controls")
    page.screenshot(path=tmp_path / "collapsed.png")

    toggle.click()
    expect(passage).to_have_text(partial["text"])
    start, end = partial["highlights"][0]
    expect(passage.locator("mark")).to_have_text(partial["text"][start:end])
    toggle = quote.get_by_role("button", name="Show quote only")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=tmp_path / "expanded.png")

    toggle.click()
    expect(passage).to_have_text(partial["quote"])
    # The passage quoted whole has nothing more to show.
    expect(chat.locator(f'.quote[data-n="{whole["n"]}"] .toggle')).to_have_count(0)
    assert tab.errors == []


def test_sources_are_grouped_by_article_with_each_headline_once(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    chat = open_panel(page, site.add("grouped.html", host_page(live_server.url)))
    answer = ask_and_read(page, chat, TWO_ARTICLES_QUESTION)
    articles: dict[str, list[int]] = {}
    for c in answer["citations"]:
        articles.setdefault(c["article_id"], []).append(c["n"])
    assert len(articles) == 2 and len(answer["citations"]) == 3

    cards = chat.locator(".card")
    expect(cards).to_have_count(len(articles))
    for card, (article_id, numbers) in zip(cards.all(), articles.items(), strict=True):
        assert card.get_attribute("data-article-id") == article_id
        expect(card.locator(".card-title")).to_have_count(1)
        expect(card.locator(".quote")).to_have_count(len(numbers))
        assert [q.get_attribute("data-n") for q in card.locator(".quote").all()] == [
            str(n) for n in numbers
        ]
    assert tab.errors == []


def test_copy_gives_each_quote_with_title_date_and_absolute_link(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    chat = open_panel(page, site.add("copy.html", host_page(live_server.url)))
    answer = ask_and_read(page, chat, TWO_ARTICLES_QUESTION)

    chat.get_by_role("button", name="Copy the answer with its sources").click()
    expect(chat.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    expected = "\n\n".join(
        f"{c['quote']}\n— {c['title']}, {c['date']}, {live_server.url}{c['url']}"
        for c in answer["citations"]
    )
    assert copied == expected
    assert tab.errors == []


def test_the_headline_leads_to_the_publishers_story(
    tab: Tab, site: StaticSite, publisher_server: LiveServer
) -> None:
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    chat = open_panel(page, site.add("publisher.html", host_page(publisher_server.url)))
    answer = ask_and_read(page, chat, "How much will the budget grow?")
    [citation] = answer["citations"]
    assert citation["source_url"] == SOURCE_URL

    link = chat.locator(".card-title").get_by_role("link")
    expect(link).to_have_attribute("href", SOURCE_URL)
    expect(link).to_have_accessible_name(re.compile(r"^Oslo budget grows by four percent"))
    chat.get_by_role("button", name="Copy the answer with its sources").click()
    expect(chat.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"{citation['quote']}\n— Oslo budget grows by four percent, 2024-05-01, {SOURCE_URL}"
    )
    assert tab.errors == []


def test_feedback_reaches_the_api(tab: Tab, site: StaticSite, live_server: Any) -> None:
    page = tab.page
    chat = open_panel(page, site.add("real-feedback.html", host_page(live_server.url)))
    ask_and_read(page, chat, QUESTION)
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as response:
        chat.get_by_role("button", name="Not helpful").click()
    assert response.value.status == 201
    assert isinstance(response.value.json()["id"], int)
    expect(chat.locator(".actions .note")).to_have_text("Thanks")
    expect(chat.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    assert tab.errors == []


def test_feedback_is_sent_once_and_remembered(tab: Tab, site: StaticSite, live_server: Any) -> None:
    """A failed POST /api/feedback can be tried again; a 201 is final, across a reload."""
    page = tab.page
    sent: list[dict[str, Any]] = []
    statuses = [500, 201]

    def feedback(route: Route) -> None:
        sent.append(json_body(route.request))
        status = statuses.pop(0)
        fulfill_json(route, status, {"id": 7} if status == 201 else {"detail": "no"})

    page.route(f"{live_server.url}/api/feedback", cors_preflight_or(feedback))
    chat = open_panel(page, site.add("feedback.html", host_page(live_server.url)))
    answer = ask_and_read(page, chat, QUESTION)
    up = chat.get_by_role("button", name="Helpful", exact=True)
    down = chat.get_by_role("button", name="Not helpful")
    note = chat.locator(".actions .note")

    up.click()
    expect(note).to_have_text("Couldn't send your feedback. Try again.")
    expect(up).to_be_enabled()
    expect(up).to_have_attribute("aria-pressed", "false")
    up.click()
    expect(note).to_have_text("Thanks")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(up).to_be_disabled()
    expect(down).to_be_disabled()
    passages = [
        {"article_id": c["article_id"], "paragraph": c["paragraph"]} for c in answer["citations"]
    ]
    assert sent == [{"question": QUESTION, "passages": passages, "verdict": "up"}] * 2

    page.reload()  # the verdict stays with the conversation: no second vote on one answer
    chat = widget(page)
    chat.locator(".launcher").click()
    expect(chat.locator(".actions .note")).to_have_text("Thanks")
    expect(chat.get_by_role("button", name="Helpful", exact=True)).to_be_disabled()
    assert len(sent) == 2
    assert [e for e in tab.errors if "status of 500" not in e] == []


def test_starter_questions_from_the_attribute_are_asked_on_click(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    script = (
        f'<script src="{live_server.url}/widget.js" defer '
        f'data-suggestions="{QUESTION}| |Who met in Astana?|Second?|Third?|Fifth?"></script>'
    )
    chat = open_panel(page, site.add("starters.html", host_page(live_server.url, script=script)))
    starters = chat.locator(".suggestion")
    expect(starters).to_have_text([QUESTION, "Who met in Astana?", "Second?", "Third?"])
    page.screenshot(path=tmp_path / "starters.png")

    starters.first.click()
    expect(chat.locator(".question")).to_have_text([QUESTION])
    wait_for_quotes(chat)
    expect(chat.locator(".suggestion")).to_have_count(0)  # only an empty panel offers them

    chat.get_by_role("button", name="Start a new conversation").click()
    expect(chat.locator(".suggestion")).to_have_count(4)
    assert not [url for url in requested if url.endswith("/api/suggestions")]
    assert tab.errors == []


def test_starter_questions_from_the_archive(tab: Tab, site: StaticSite, live_server: Any) -> None:
    page = tab.page
    with page.expect_response(lambda r: r.url.endswith("/api/suggestions")) as response:
        chat = open_panel(page, site.add("archive-starters.html", host_page(live_server.url)))
    offered = response.value.json()["suggestions"]
    assert 1 <= len(offered) <= 4
    starters = chat.locator(".suggestion")
    expect(starters).to_have_text(offered)
    starters.first.click()
    expect(chat.locator(".question")).to_have_text(offered[:1])
    wait_for_quotes(chat)  # the archive offers only questions it answers
    assert tab.errors == []


def test_starter_questions_from_the_api(tab: Tab, site: StaticSite, live_server: Any) -> None:
    """Any list from GET /api/suggestions: strings only, at most four shown."""
    page = tab.page
    calls = 0

    def suggestions(route: Route) -> None:
        nonlocal calls
        calls += 1
        fulfill_json(route, 200, {"suggestions": [QUESTION, 5, "Two?", "Three?", "Four?", "5?"]})

    page.route(f"{live_server.url}/api/suggestions", cors_preflight_or(suggestions))
    chat = open_panel(page, site.add("api-starters.html", host_page(live_server.url)))
    expect(chat.locator(".suggestion")).to_have_text([QUESTION, "Two?", "Three?", "Four?"])
    chat.get_by_role("button", name=QUESTION).click()
    wait_for_quotes(chat)
    chat.get_by_role("button", name="Start a new conversation").click()
    expect(chat.locator(".suggestion")).to_have_count(4)
    assert calls == 1  # asked once per page
    assert tab.errors == []


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"suggestions": []}), (200, {"other": 1}), (500, {"detail": "down"})],
)
def test_no_starter_questions_when_the_api_has_none(
    tab: Tab, site: StaticSite, live_server: Any, status: int, body: dict[str, Any]
) -> None:
    page = tab.page
    with page.expect_request(lambda r: r.url.endswith("/api/suggestions")):
        page.route(
            f"{live_server.url}/api/suggestions",
            cors_preflight_or(lambda route: fulfill_json(route, status, body)),
        )
        chat = open_panel(page, site.add("no-starters.html", host_page(live_server.url)))
    page.wait_for_timeout(200)
    expect(chat.locator(".suggestions")).to_be_hidden()
    expect(chat.locator(".empty-title")).to_be_visible()
    assert [e for e in tab.errors if "status of 500" not in e] == []
