"""Focus and scroll: the full-screen mobile panel is modal (Tab stays in it, the page behind stays
put); the desktop panel is not, and its Tab order follows what the reader sees."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .widget_kit import (
    CSP_PROBE,
    QUESTION,
    StaticSite,
    Tab,
    ask,
    host_page,
    open_tab,
    shadow_focus,
    strict_csp,
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

# A page long enough to scroll, without a style attribute (the strict CSP refuses those).
TALL = "<p>More of the story.</p>" * 200


def focus_owner(page: Page) -> str:
    """Where focus is: the widget's element class, or the page element's tag and text."""
    inside = shadow_focus(page)
    if inside is not None:
        return inside
    return str(page.evaluate("(el => el.localName + ':' + el.textContent)(document.activeElement)"))


def test_mobile_panel_is_modal(browser: Browser, site: StaticSite, live_server: Any) -> None:
    mobile = open_tab(
        browser, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = mobile.page
    try:
        page.add_init_script(CSP_PROBE)
        head = strict_csp(live_server.url)  # the scroll lock is CSSOM, not a style attribute
        page.goto(site.add("modal.html", host_page(live_server.url, head=head, body=TALL)))
        chat = widget(page)
        chat.locator(".launcher").tap()
        panel = chat.get_by_role("dialog")
        expect(panel).to_have_attribute("aria-modal", "true")
        ask(chat, QUESTION)
        wait_for_quotes(chat)
        chat.locator("textarea").focus()

        # Tab and Shift+Tab go round the panel's controls and never reach the page.
        controls = ["send", "icon-btn", "icon-btn", "open", "action copy", "action vote"]
        controls += ["action vote", "input"]
        seen = []
        for _ in range(2 * len(controls)):
            page.keyboard.press("Tab")
            seen.append(focus_owner(page))
        assert seen == controls * 2  # round and round
        backwards = []
        for _ in range(len(controls)):
            page.keyboard.press("Shift+Tab")
            backwards.append(focus_owner(page))
        assert backwards == [*reversed(controls[:-1]), "input"]

        # The page behind does not scroll, whatever is under the finger.
        for target in (".head", ".log", ".composer"):
            box = chat.locator(target).bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, 600)
        page.wait_for_timeout(300)
        assert page.evaluate("scrollY") == 0

        chat.get_by_role("button", name="Close Ask the archive").tap()
        expect(panel).to_be_hidden()
        assert page.evaluate("document.documentElement.style.overflow") == ""
        page.mouse.wheel(0, 600)
        page.wait_for_function("() => scrollY > 0")  # and scrolls again once the panel is closed
        assert page.evaluate("window.__cspViolations") == []
        assert mobile.errors == []
    finally:
        page.context.close()


def test_desktop_panel_is_not_modal(tab: Tab, site: StaticSite, live_server: Any) -> None:
    page = tab.page
    page.goto(site.add("non-modal.html", host_page(live_server.url, body=TALL)))
    chat = widget(page)
    chat.locator(".launcher").click()
    expect(chat.get_by_role("dialog")).to_have_attribute("aria-modal", "false")
    assert shadow_focus(page) == "input"
    page.keyboard.press("Tab")
    assert shadow_focus(page) == "send"
    page.keyboard.press("Tab")  # on to the page, right after the panel
    assert focus_owner(page) == "a:One link of the page"
    page.mouse.move(300, 300)
    page.mouse.wheel(0, 600)
    page.wait_for_function("() => scrollY > 0")
    assert tab.errors == []


def test_tab_walks_the_answer_after_it_arrives(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    page.goto(site.add("answer-focus.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    wait_for_quotes(chat)

    # The answer takes focus (and is in view); Tab then walks its sources, then the question box.
    assert shadow_focus(page) == "answer"
    expect(chat.locator(".answer")).to_be_in_viewport()
    walk = []
    for _ in range(6):
        page.keyboard.press("Tab")
        walk.append(shadow_focus(page))
    assert walk == ["open", "action copy", "action vote", "action vote", "input", "send"]

    # Typing while the answer has focus goes into the question box.
    chat.locator(".answer").focus()
    page.keyboard.type("Who?")
    expect(chat.locator("textarea")).to_have_value("Who?")
    assert shadow_focus(page) == "input"
    assert tab.errors == []


def test_each_new_answer_is_scrolled_into_view(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    page.goto(site.add("scroll.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    for question in (QUESTION, "What did Shoigu say about color revolutions?"):
        ask(chat, question)
        expect(chat.locator(".answer")).to_have_count(1 if question == QUESTION else 2)
    latest = chat.locator(".turn").last
    page.wait_for_function(  # the smooth scroll has settled with the latest question on top
        """() => {
            const root = document.querySelector('dateline-chat[mode="launcher"]').shadowRoot;
            const log = root.querySelector('.log');
            const turn = [...root.querySelectorAll('.turn')].pop();
            const gap = turn.getBoundingClientRect().top - log.getBoundingClientRect().top;
            return log.scrollTop > 0 && gap >= 0 && gap < 40;
        }""",
        timeout=5_000,
    )
    expect(latest.locator(".question")).to_be_in_viewport()
    assert tab.errors == []
