"""Browser tests of web/widget.js: real Chromium, host pages on another origin than the real API."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Dialog, Route, expect

from .conftest import PUTIN_ARTICLE
from .widget_kit import (
    CSP_PROBE,
    QUESTION,
    TIMEOUT_MS,
    StaticSite,
    Tab,
    ask,
    cors_preflight_or,
    fulfill_json,
    host_page,
    json_body,
    open_tab,
    origin,
    shadow_focus,
    strict_csp,
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

HOSTILE_CSS = (
    "* { all: unset !important; font-size: 40px !important } button { display:none !important }"
)


def test_cross_origin_answer_quotes_each_passage_once_under_its_article(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    url = site.add("cross-origin.html", host_page(live_server.url))
    assert origin(url) != origin(live_server.url)
    page.goto(url)
    chat = widget(page)

    chat.locator(".launcher").click()
    expect(chat.get_by_role("dialog", name="Ask the archive")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as response:
        ask(chat, QUESTION)
    quotes = wait_for_quotes(chat)
    answer = response.value.json()
    citations = answer["citations"]
    assert len(citations) >= 2 and {c["article_id"] for c in citations} == {PUTIN_ARTICLE}

    # One card for the one article: its headline once, then every quote with its chip.
    cards = chat.locator(".card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-article-id", PUTIN_ARTICLE)
    expect(cards.first.locator(".card-title")).to_contain_text("Shanghai Cooperation Organization")
    expect(cards.first.locator(".card-meta").first).to_contain_text("MOSCOW")
    expect(cards.first.locator(".card-meta").first).to_contain_text("TASS")
    expect(cards.first.locator(".speaker")).to_have_count(1)  # the same speaker, said once
    expect(cards.first.locator(".speaker")).to_contain_text("Vladimir Putin")
    expect(chat.locator(".chip")).to_have_text([str(c["n"]) for c in citations])
    expect(quotes).to_have_count(len(citations))

    # Each quote appears once in the panel: the answer text no longer repeats the cards.
    shown = chat.locator(".log").inner_text()
    for c in citations:
        assert shown.count(c["quote"]) == 1, c["quote"]
    expect(chat.locator(".answer-text")).to_have_count(0)
    # A quote that is its whole passage has nothing to expand and nothing highlighted.
    partial = [c for c in citations if c["quote"].strip() != c["text"].strip()]
    expect(chat.locator(".toggle")).to_have_count(len(partial))
    expect(chat.locator("mark")).to_have_count(0)

    # The headline leads to the story: no source_url in the seeds, so the API's article page.
    link = cards.first.get_by_role("link", name=re.compile("opens in a new tab"))
    href = link.get_attribute("href") or ""
    assert href == f"{live_server.url}{citations[0]['url']}", href
    assert href.startswith(f"{live_server.url}/articles/{PUTIN_ARTICLE}#p")
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "").split()
    article = page.request.get(href)
    assert article.status == 200
    assert article.headers["content-type"].startswith("text/html")
    page.screenshot(path=tmp_path / "cross-origin.png")
    assert tab.errors == []


def test_keyboard_only(tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path) -> None:
    page = tab.page
    page.goto(site.add("keyboard.html", host_page(live_server.url)))
    chat = widget(page)
    expect(chat.locator(".launcher")).to_be_visible()

    # Right after the page's skip link: not after every link of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to story"
    page.keyboard.press("Tab")
    assert shadow_focus(page) == "launcher"
    assert chat.locator(".launcher").get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")
    expect(chat.get_by_role("dialog")).to_be_visible()
    assert shadow_focus(page) == "input"
    assert chat.locator(".launcher").get_attribute("aria-expanded") == "true"

    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    assert chat.locator("textarea").input_value() == "first line\n"  # a newline, not a send
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")

    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    wait_for_quotes(chat)
    expect(chat.locator(".question")).to_have_text(QUESTION)
    assert chat.locator("textarea").input_value() == ""
    page.screenshot(path=tmp_path / "keyboard-open.png")

    page.keyboard.press("Escape")
    expect(chat.get_by_role("dialog")).to_be_hidden()
    assert shadow_focus(page) == "launcher"
    assert chat.locator(".launcher").get_attribute("aria-expanded") == "false"
    page.screenshot(path=tmp_path / "keyboard-closed.png")
    assert tab.errors == []


def test_hostile_host_css_cannot_break_the_widget(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    url = site.add(
        "hostile.html",
        host_page(
            live_server.url,
            head=f"<style>{HOSTILE_CSS}</style>",
            body='<button id="host-button">A button of the page</button>',
        ),
    )
    page.goto(url)
    chat = widget(page)
    expect(page.locator("#host-button")).to_be_hidden()  # the page's CSS is in force

    launcher = chat.locator(".launcher")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box is not None and box["width"] > 30 and box["height"] > 30
    assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800
    launcher.click()

    textarea = chat.locator("textarea")
    expect(textarea).to_be_visible()
    expect(textarea).to_be_editable()
    assert textarea.evaluate("el => getComputedStyle(el).fontSize") != "40px"
    ask(chat, QUESTION)
    quotes = wait_for_quotes(chat)
    assert quotes.first.evaluate("el => getComputedStyle(el).fontSize") != "40px"
    expect(quotes.first.locator(".chip")).to_be_visible()
    expect(chat.locator(".card-title").get_by_role("link").first).to_be_visible()
    expect(chat.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    expect(page.locator("#host-button")).to_be_hidden()  # and the widget did not undo it
    page.screenshot(path=tmp_path / "hostile.png")
    assert tab.errors == []


EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"


def _hostile_answer(question: str) -> dict[str, Any]:
    text = f"Officials said {EVIL_IMG} that training matters {EVIL_SCRIPT} a great deal."
    quote = f"that training matters {EVIL_SCRIPT}"
    start = text.index(quote)
    citation = {
        "article_id": PUTIN_ARTICLE,
        "date": "2022-12-09",
        "dateline": "<svg onload=alert(4)>",
        "agency": "TASS",
        "paragraph": 2,
        "text": text,
        "quote": quote,
        "score": 0.9,
    }
    return {
        "question": question,
        "answer": f"Hostile {EVIL_IMG} answer. [1] And {EVIL_SCRIPT} more. [2]",
        "abstained": False,
        "segments": [{"text": quote, "citation": 1}, {"text": quote, "citation": 2}],
        "citations": [
            {
                **citation,
                "n": 1,
                "title": f"Title {EVIL_IMG}",
                "highlights": [[start, start + len(quote)]],
                "speaker": f"Speaker {EVIL_SCRIPT}",
                "url": "javascript:alert(3)",
                "source_url": "javascript:alert(6)",
            },
            {
                **citation,
                "n": 2,
                "article_id": "second_article",
                "title": f"Second {EVIL_SCRIPT}",
                "highlights": [[-5, 10**6], "junk"],
                "speaker": EVIL_IMG,
                "url": "data:text/html,<script>alert(5)</script>",
                "source_url": "vbscript:alert(7)",
            },
        ],
        "took_ms": 1.0,
    }


def test_hostile_passages_render_as_text(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def hostile(route: Route) -> None:
        fulfill_json(route, 200, _hostile_answer(json_body(route.request)["question"]))

    page.route(f"{live_server.url}/api/chat", cors_preflight_or(hostile))
    page.goto(site.add("xss.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, f"{EVIL_IMG} training?")
    wait_for_quotes(chat)
    cards = chat.locator(".card")
    page.wait_for_timeout(500)  # time for any onerror/onload handler that got through

    assert dialogs == []
    expect(chat.locator(".question")).to_have_text(f"{EVIL_IMG} training?")
    # The quotes come from the segments: the answer's text and its markers are not read.
    expect(chat.locator(".answer-text")).to_have_count(0)
    expect(cards).to_have_count(2)
    expect(cards.nth(0).locator(".card-title")).to_have_text(f"Title {EVIL_IMG}")
    expect(cards.nth(0).locator(".speaker")).to_contain_text(f"Speaker {EVIL_SCRIPT}")
    expect(cards.nth(0).locator(".card-meta").first).to_contain_text("<svg onload=alert(4)>")
    expect(cards.nth(1).locator(".card-title")).to_have_text(f"Second {EVIL_SCRIPT}")
    for i in range(2):
        passage = cards.nth(i).locator(".passage")
        expect(passage).to_have_text(f"that training matters {EVIL_SCRIPT}")  # collapsed
        expect(passage.locator("mark")).to_have_count(0)
        cards.nth(i).get_by_role("button", name="Show paragraph").click()
        expect(passage).to_contain_text(EVIL_IMG)
        expect(cards.nth(i).get_by_role("link")).to_have_count(0)  # javascript: and data: dropped
    expect(cards.nth(0).locator("mark")).to_have_text(f"that training matters {EVIL_SCRIPT}")
    expect(cards.nth(1).locator("mark")).to_have_text(cards.nth(1).locator(".passage").inner_text())

    injected = page.evaluate(
        """() => {
            const root = document.querySelector('dateline-chat[mode="launcher"]').shadowRoot;
            const links = [...document.links, ...root.querySelectorAll('a')];
            return {
                elements: root.querySelectorAll('img, script, iframe, object, embed').length,
                unsafeLinks: links.filter(a => !/^https?:/i.test(a.href || '')).length,
                handlers: [...root.querySelectorAll('*')].filter(
                    el => [...el.attributes].some(a => a.name.startsWith('on'))).length,
            };
        }"""
    )
    assert injected == {"elements": 0, "unsafeLinks": 0, "handlers": 0}
    page.screenshot(path=tmp_path / "xss.png")
    assert dialogs == []
    assert tab.errors == []


def test_mobile_panel_is_full_screen(
    browser: Browser, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    mobile = open_tab(
        browser, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = mobile.page
    try:
        page.goto(site.add("mobile.html", host_page(live_server.url)))
        chat = widget(page)
        launcher = chat.locator(".launcher")
        expect(launcher).to_be_visible()
        launcher.tap()

        panel = chat.get_by_role("dialog")
        expect(panel).to_be_visible()
        page.wait_for_function(  # the opening transition has settled
            """() => {
                const panel = document.querySelector('dateline-chat[mode="launcher"]')
                    .shadowRoot.querySelector('.panel');
                const r = panel.getBoundingClientRect();
                return getComputedStyle(panel).opacity === '1' && Math.abs(r.y) < 1;
            }""",
            timeout=5_000,
        )
        box = panel.bounding_box()
        assert box is not None
        assert abs(box["x"]) <= 1 and abs(box["y"]) <= 1
        assert abs(box["width"] - 375) <= 1 and abs(box["height"] - 667) <= 1

        ask(chat, QUESTION)
        wait_for_quotes(chat)
        page.screenshot(path=tmp_path / "mobile.png")
        chat.get_by_role("button", name=re.compile("^Close")).tap()
        expect(panel).to_be_hidden()
        expect(launcher).to_be_visible()
        assert mobile.errors == []
    finally:
        page.context.close()


def test_strict_csp_page(tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path) -> None:
    page = tab.page
    page.add_init_script(CSP_PROBE)
    page.goto(site.add("csp.html", host_page(live_server.url, head=strict_csp(live_server.url))))
    chat = widget(page)

    launcher = chat.locator(".launcher")
    expect(launcher).to_be_visible()
    # adoptedStyleSheets are not subject to style-src: the widget is styled, not raw buttons.
    assert launcher.evaluate("el => getComputedStyle(el).borderRadius") == "24px"
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(29, 78, 216)"
    launcher.click()
    ask(chat, QUESTION)
    quotes = wait_for_quotes(chat)
    assert quotes.first.locator(".chip").evaluate("el => getComputedStyle(el).borderRadius") == (
        "10px"
    )
    page.screenshot(path=tmp_path / "csp.png")

    assert page.evaluate("window.__cspViolations") == []
    assert tab.errors == []
    # The probe itself works: a real inline style is refused and reported.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("window.__cspViolations.length === 1", timeout=5_000)


def test_errors_are_shown_with_retry(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    sent: list[dict[str, Any]] = []

    held: list[Route] = []

    def failing(route: Route) -> None:
        sent.append(json_body(route.request))
        if len(sent) == 1:
            held.append(route)  # answered below, once the loading state has been checked
        else:
            fulfill_json(route, 500, {"detail": "The index is being rebuilt."})

    endpoint = f"{live_server.url}/api/chat"
    page.route(endpoint, cors_preflight_or(failing))
    page.goto(site.add("errors.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, QUESTION)

    expect(chat.locator(".status")).to_have_text("Searching the archive…")
    expect(chat.get_by_role("log")).to_have_attribute("aria-busy", "true")
    for _ in range(100):  # Playwright runs the route handler while we wait on it
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the question never reached the network"
    fulfill_json(held[0], 429, {"detail": "too many requests"}, {"Retry-After": "7"})

    alert = chat.get_by_role("alert")
    expect(alert).to_contain_text("Too many questions; try again in 7 s")
    expect(chat.get_by_role("log")).to_have_attribute("aria-busy", "false")
    expect(chat.locator(".status")).to_have_count(0)
    retry = alert.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    page.screenshot(path=tmp_path / "error-429.png")

    retry.click()
    expect(alert).to_contain_text("The index is being rebuilt.")
    page.screenshot(path=tmp_path / "error-500.png")

    page.unroute(endpoint)
    alert.get_by_role("button", name="Retry").click()
    wait_for_quotes(chat)
    expect(chat.get_by_role("alert")).to_have_count(0)
    expect(chat.locator(".question")).to_have_count(1)  # a retry is not a second question
    assert [body["question"] for body in sent] == [QUESTION, QUESTION]
    page.screenshot(path=tmp_path / "error-recovered.png")
    assert [e for e in tab.errors if "status of 429" not in e and "status of 500" not in e] == []


def test_validation_detail_list_and_network_error(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    calls = 0

    def invalid_then_down(route: Route) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            detail = [{"loc": ["body", "question"], "msg": "Question is too long", "type": "x"}]
            fulfill_json(route, 422, {"detail": detail})
        else:
            route.abort("connectionrefused")

    page.route(f"{live_server.url}/api/chat", cors_preflight_or(invalid_then_down))
    page.goto(site.add("detail-list.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, QUESTION)
    alert = chat.get_by_role("alert")
    expect(alert).to_contain_text("Question is too long")
    alert.get_by_role("button", name="Retry").click()
    expect(alert).to_contain_text("Couldn't reach the archive")
    page.screenshot(path=tmp_path / "network-error.png")


def test_conversation_survives_reload_and_is_sent_as_history(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    page.goto(site.add("history.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, QUESTION)
    wait_for_quotes(chat)
    first = page.evaluate(
        "key => JSON.parse(sessionStorage.getItem(key)).turns[0].answer",
        f"dateline-chat:{live_server.url}",
    )
    first_answer, first_segments = first["answer"], first["segments"]
    assert "[1]" in first_answer
    assert [s["citation"] for s in first_segments] == [c["n"] for c in first["citations"]]

    page.reload()
    chat = widget(page)
    chat.locator(".launcher").click()
    expect(chat.locator(".question")).to_have_text([QUESTION])  # restored from sessionStorage
    expect(chat.locator(".quote").first).to_be_visible()

    follow_up = "What did Shoigu say about color revolutions?"
    with page.expect_request(
        lambda r: r.url.endswith("/api/chat") and r.method == "POST"
    ) as request:
        ask(chat, follow_up)
    body = json_body(request.value)
    assert body["question"] == follow_up
    assert body["top_k"] == 3
    assert body["history"] == [
        {"question": QUESTION, "answer": first_answer, "segments": first_segments}
    ]
    expect(chat.locator(".turn")).to_have_count(2)
    expect(chat.locator(".turn").last.locator(".quote, .abstained").first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    page.screenshot(path=tmp_path / "history.png")

    chat.get_by_role("button", name="Start a new conversation").click()
    expect(chat.locator(".turn")).to_have_count(0)
    assert (
        page.evaluate("key => sessionStorage.getItem(key)", f"dateline-chat:{live_server.url}")
        is None
    )
    assert tab.errors == []


def test_sends_the_readers_own_today_as_as_of(
    browser: Browser, site: StaticSite, live_server: Any
) -> None:
    """Readers 25 hours apart are always on different days; each asks as of their own."""
    sent: dict[str, str] = {}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11
        reader = open_tab(browser, timezone_id=zone)
        page = reader.page
        try:
            page.goto(site.add("as-of.html", host_page(live_server.url)))
            chat = widget(page)
            chat.locator(".launcher").click()
            before = datetime.now(ZoneInfo(zone)).date().isoformat()
            with page.expect_request(
                lambda r: r.url.endswith("/api/chat") and r.method == "POST"
            ) as request:
                ask(chat, QUESTION)
            after = datetime.now(ZoneInfo(zone)).date().isoformat()
            sent[zone] = json_body(request.value)["as_of"]
            assert sent[zone] in (before, after)  # the same, but for a question at midnight
            wait_for_quotes(chat)
            assert reader.errors == []
        finally:
            page.context.close()
    assert sent["Pacific/Kiritimati"] != sent["Pacific/Pago_Pago"]


def test_inline_element_twice_included_script_and_js_api(
    tab: Tab, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    page = tab.page
    api = live_server.url
    script = f'<script src="{api}/widget.js" defer data-title="Newsroom archive"></script>'
    page.goto(
        site.add(
            "inline.html",
            host_page(
                api,
                body=f'<dateline-chat api="{api}" title="Archive desk" theme="dark">'
                "</dateline-chat>",
                script=script + script,  # included twice: must not throw or add a second launcher
            ),
        )
    )
    expect(page.locator("dateline-chat .launcher")).to_have_count(1)
    inline = page.locator("dateline-chat:not([mode])")
    expect(inline.get_by_role("dialog", name="Archive desk")).to_be_visible()
    expect(inline.locator(".launcher")).to_have_count(0)
    assert (
        inline.locator(".panel").evaluate("el => getComputedStyle(el).backgroundColor")
        == "rgb(22, 24, 29)"
    )

    ask(inline, QUESTION)
    wait_for_quotes(inline)

    # Dateline.ask drives the floating widget and resolves with the answer JSON.
    answer = page.evaluate("Dateline.ask('What is the weather in Paris?')")
    assert answer["abstained"] is True and answer["citations"] == []
    floating = widget(page)
    expect(floating.get_by_role("dialog", name="Newsroom archive")).to_be_visible()
    expect(floating.locator(".abstained")).to_contain_text(answer["answer"])
    page.screenshot(path=tmp_path / "inline.png")
    page.evaluate("Dateline.close()")
    expect(floating.get_by_role("dialog")).to_be_hidden()
    page.evaluate("Dateline.open()")
    expect(floating.get_by_role("dialog")).to_be_visible()
    assert shadow_focus(page) == "input"
    assert tab.errors == []


def test_script_options_and_reduced_motion(
    browser: Browser, site: StaticSite, live_server: Any, tmp_path: Path
) -> None:
    calm = open_tab(browser, viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = calm.page
    try:
        script = (
            f'<script src="{live_server.url}/widget.js" defer data-title="Newsroom archive" '
            'data-placeholder="Ask the newsroom…" data-theme="dark" data-position="bottom-left" '
            "data-open></script>"
        )
        page.goto(site.add("options.html", host_page(live_server.url, script=script)))
        chat = widget(page)
        panel = chat.get_by_role("dialog", name="Newsroom archive")
        expect(panel).to_be_visible()  # data-open
        assert page.evaluate("document.activeElement === document.body")  # but focus not stolen
        expect(chat.locator("textarea")).to_have_attribute("placeholder", "Ask the newsroom…")
        expect(chat.locator(".launcher")).to_have_attribute("aria-expanded", "true")
        box = panel.bounding_box()
        assert box is not None and box["x"] < 100  # bottom-left
        assert panel.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(22, 24, 29)"
        assert panel.evaluate("el => getComputedStyle(el).transitionDuration") == "0s"
        page.screenshot(path=tmp_path / "options.png")
        assert calm.errors == []
    finally:
        page.context.close()


def test_demo_page_served_by_the_api(tab: Tab, live_server: Any, tmp_path: Path) -> None:
    page = tab.page
    response = page.goto(f"{live_server.url}/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("SCO defence chiefs")
    snippet = '<script src="https://YOUR-HOST/widget.js" defer></script>'
    expect(page.locator("pre", has_text=snippet)).to_be_visible()
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, QUESTION)
    wait_for_quotes(chat)
    link = chat.locator(".card-title").first.get_by_role("link")
    assert (link.get_attribute("href") or "").startswith(f"{live_server.url}/articles/")
    page.screenshot(path=tmp_path / "demo.png")


def test_demo_page_styles_pass_its_csp(tab: Tab, live_server: Any) -> None:
    """The demo page keeps its CSS in one inline <style>; the CSP of / must allow it."""
    page = tab.page
    page.add_init_script(CSP_PROBE)
    page.goto(f"{live_server.url}/")
    expect(page.locator(".brand")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert page.locator("body").evaluate("el => getComputedStyle(el).margin") == "0px"
    assert tab.errors == []


def test_the_api_docs_render_offline(tab: Tab, live_server: Any) -> None:
    """Every request that leaves the server is refused, as on a machine with no internet."""
    page = tab.page
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    page.goto(f"{live_server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dateline")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert not tab.errors, tab.errors
