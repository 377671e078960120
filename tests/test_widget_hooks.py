"""Hooks for integrators: DOM events, ::part() names, top-k and filter attributes, and the
question's length limit shown before anything is cut."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Route, expect

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

# Records every dateline:* event that reaches the document, with where it came from.
EVENT_PROBE = """
window.__events = [];
for (const name of ['open', 'close', 'answer', 'error']) {
    document.addEventListener('dateline:' + name, (e) => window.__events.push({
        type: e.type, detail: e.detail, bubbles: e.bubbles, composed: e.composed,
        fromWidget: e.target.localName === 'dateline-chat',
    }));
}
"""


def test_events_reach_the_host_page(tab: Tab, site: StaticSite, live_server: Any) -> None:
    page = tab.page
    page.add_init_script(EVENT_PROBE)
    page.goto(site.add("events.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as response:
        ask(chat, QUESTION)
    wait_for_quotes(chat)
    answer = response.value.json()

    def failing(route: Route) -> None:
        fulfill_json(route, 503, {"detail": "The archive is loading."})

    page.route(f"{live_server.url}/api/chat", cors_preflight_or(failing))
    ask(chat, "And then?")
    expect(chat.get_by_role("alert")).to_contain_text("The archive is loading.")
    page.keyboard.press("Escape")
    expect(chat.get_by_role("dialog")).to_be_hidden()

    events = page.evaluate("window.__events")
    assert [e["type"] for e in events] == [
        "dateline:open",
        "dateline:answer",
        "dateline:error",
        "dateline:close",
    ]
    assert all(e["bubbles"] and e["composed"] and e["fromWidget"] for e in events)
    assert events[1]["detail"] == answer
    assert events[2]["detail"] == {
        "message": "The archive is loading.",
        "status": 503,
        "question": "And then?",
    }
    assert [e for e in tab.errors if "status of 503" not in e] == []


PARTS_CSS = """
dateline-chat::part(launcher) { background: rgb(1, 2, 3); }
dateline-chat::part(panel) { border-color: rgb(4, 5, 6); }
dateline-chat::part(question) { color: rgb(7, 8, 9); }
dateline-chat::part(answer) { padding-top: 7px; }
dateline-chat::part(card) { background-color: rgb(10, 11, 12); }
dateline-chat::part(quote) { padding-bottom: 3px; }
dateline-chat::part(input) { caret-color: rgb(13, 14, 15); }
"""


def test_parts_restyle_the_widget_from_the_page(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    styled = host_page(live_server.url, head=f"<style>{PARTS_CSS}</style>")
    page.goto(site.add("parts.html", styled))
    chat = widget(page)
    launcher = chat.locator(".launcher")
    launcher.click()
    ask(chat, QUESTION)
    wait_for_quotes(chat)
    styles = {
        (".launcher", "backgroundColor"): "rgb(1, 2, 3)",
        (".panel", "borderTopColor"): "rgb(4, 5, 6)",
        (".question", "color"): "rgb(7, 8, 9)",
        (".answer", "paddingTop"): "7px",
        (".card", "backgroundColor"): "rgb(10, 11, 12)",
        (".quote", "paddingBottom"): "3px",
        ("textarea", "caretColor"): "rgb(13, 14, 15)",
    }
    for (selector, prop), value in styles.items():
        assert chat.locator(selector).first.evaluate(f"el => getComputedStyle(el).{prop}") == value
    assert tab.errors == []


def test_top_k_and_filters_from_the_script_tag(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    script = (
        f'<script src="{live_server.url}/widget.js" defer data-top-k="2" '
        'data-speaker="Vladimir Putin" data-date-from="2022-01-01" data-date-to="2022-12-31">'
        "</script>"
    )
    page.goto(site.add("filters.html", host_page(live_server.url, script=script)))
    chat = widget(page)
    chat.locator(".launcher").click()
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as response:
        ask(chat, "What was said about training?")
    wait_for_quotes(chat)
    body = json_body(response.value.request)
    assert body["top_k"] == 2
    assert body["filters"] == {
        "speaker": "Vladimir Putin",
        "date_from": "2022-01-01",
        "date_to": "2022-12-31",
    }
    citations = response.value.json()["citations"]
    assert 1 <= len(citations) <= 2
    assert {c["speaker"] for c in citations} == {"Vladimir Putin"}
    assert tab.errors == []


def test_inline_attributes_and_a_top_k_out_of_range(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    api = live_server.url
    page.goto(
        site.add(
            "inline-filters.html",
            host_page(
                api,
                body=f'<dateline-chat api="{api}" top-k="50" date-to="2020-01-01"></dateline-chat>',
                script=f'<script src="{api}/widget.js" defer data-launcher="false"></script>',
            ),
        )
    )
    inline = page.locator("dateline-chat")
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request:
        ask(inline, QUESTION)
    expect(inline.locator(".abstained")).to_be_visible()  # nothing in the seeds is that old
    body = json_body(request.value)
    assert body["top_k"] == 3  # the API's limit is 10: the default instead
    assert body["filters"] == {"date_to": "2020-01-01"}
    assert tab.errors == []


def test_the_length_limit_shows_before_anything_is_cut(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.goto(site.add("limit.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    box = chat.locator("textarea")
    counter = chat.locator(".counter")
    expect(box).to_have_attribute("maxlength", "1000")
    expect(box).to_have_accessible_description("")  # nothing to say far from the limit

    box.fill("a" * 899)
    expect(counter).to_be_hidden()
    box.press("b")
    expect(counter).to_be_visible()
    expect(counter.locator("[aria-hidden=true]")).to_have_text("900 / 1000")
    expect(box).to_have_accessible_description("900 of 1000 characters")
    assert "at-limit" not in (counter.get_attribute("class") or "")

    # A paste longer than the room left is cut by maxlength, and the widget says so.
    page.evaluate("text => navigator.clipboard.writeText(text)", "c" * 200)
    box.press("ControlOrMeta+v")
    assert len(box.input_value()) == 1000
    expect(counter).to_contain_text("Questions can be 1000 characters long; the rest was left out.")
    expect(counter).to_have_class("counter at-limit")
    box.press("Backspace")
    expect(counter).not_to_contain_text("left out")
    expect(counter).to_contain_text("999 / 1000")

    box.press("Enter")  # sent whole: 999 characters are within the API's limit
    expect(chat.locator(".question")).to_have_count(1)
    expect(counter).to_be_hidden()
    assert tab.errors == []
