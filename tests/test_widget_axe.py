"""axe-core finds nothing on the demo page (panel closed, open, and with answers, a paragraph
opened): light and dark, desktop and mobile. The article page's: tests/test_article_page.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .widget_kit import (
    QUESTION,
    Tab,
    ask,
    open_tab,
    run_axe,
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True},
}
LOOKS = [(scheme, device) for device in DEVICES for scheme in ("light", "dark")]


@pytest.fixture(params=LOOKS, ids=[f"{scheme}-{device}" for scheme, device in LOOKS])
def looking(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Tab]:
    scheme, device = request.param
    # Motion off: axe reads colours mid-transition otherwise.
    opened = open_tab(browser, color_scheme=scheme, reduced_motion="reduce", **DEVICES[device])
    yield opened
    opened.page.context.close()


def test_demo_page(looking: Tab, live_server: Any) -> None:
    page = looking.page
    page.goto(f"{live_server.url}/")
    assert run_axe(page) == []

    chat = widget(page)
    chat.locator(".launcher").click()
    expect(chat.get_by_role("dialog")).to_be_visible()
    assert run_axe(page) == []

    ask(chat, QUESTION)
    wait_for_quotes(chat)
    ask(chat, "What did Shoigu say about color revolutions?")
    toggle = chat.get_by_role("button", name="Show paragraph")
    toggle.click()
    expect(chat.locator("mark").first).to_be_visible()  # highlighted text is checked too
    assert run_axe(page) == []
    assert looking.errors == []
