"""The widget's parts: widget.js loads its ES modules and its stylesheet from
/widget/<release>/ on the API, served as a cross-origin module script needs them, and never
mixes two releases; Dateline.* waits for them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error, Route, expect

import qa

from .conftest import REPO
from .widget_kit import (
    CSP_PROBE,
    QUESTION,
    StaticSite,
    Tab,
    ask,
    host_page,
    origin,
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

WEB = REPO / "web"
PARTS = sorted(path.name for path in (WEB / "widget").iterdir())
TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
NO_SUCH_PART = f"no such part of the widget; this server has widget {qa.__version__}"


def test_each_part_is_served_as_a_module_script_from_another_origin_needs(
    live_server: Any,
) -> None:
    loader = httpx.get(f"{live_server.url}/widget.js", timeout=10)
    assert {"element.js", "widget.css"} <= set(PARTS)
    for name in PARTS:
        response = httpx.get(
            f"{live_server.url}/widget/{qa.__version__}/{name}",
            headers={"Origin": "https://news.example"},
            timeout=10,
        )
        assert response.status_code == 200, name
        assert response.content == (WEB / "widget" / name).read_bytes(), name
        assert response.headers["content-type"] == TYPES[name.rsplit(".", 1)[1]], name
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == loader.headers["cache-control"]
        assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/widget/0.0.1/element.js",  # a page that kept another release's widget.js
        f"/widget/{qa.__version__}/nothing.js",
        f"/widget/{qa.__version__}/%2E%2E",
    ],
)
def test_no_other_release_and_no_other_file(live_server: Any, path: str) -> None:
    response = httpx.get(f"{live_server.url}{path}", timeout=10)
    assert (response.status_code, response.json()) == (404, {"detail": NO_SUCH_PART})


def test_the_loader_asks_for_every_module_at_once() -> None:
    """A module missing from the list would still load, one round trip later for each level
    of imports above it."""
    listed = re.search(r"const MODULES = (\[[^\]]*\]);", (WEB / "widget.js").read_text())
    assert listed is not None
    assert sorted(json.loads(listed.group(1))) == [name for name in PARTS if name.endswith(".js")]


def test_the_page_loads_this_release_from_the_api_alone(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    """Every request that goes elsewhere is refused, as on a machine with no internet."""
    page = tab.page
    requested: list[str] = []

    def ours_only(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith((live_server.url, site.url)):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", ours_only)
    page.goto(site.add("parts.html", host_page(live_server.url)))
    chat = widget(page)
    chat.locator(".launcher").click()
    ask(chat, QUESTION)
    wait_for_quotes(chat)
    assert page.evaluate("Dateline.version") == qa.__version__
    release = f"{live_server.url}/widget/{qa.__version__}/"
    assert sorted(url.removeprefix(release) for url in requested if url.startswith(release)) == (
        PARTS
    )
    assert all(url.startswith((live_server.url, site.url)) for url in requested), requested
    assert tab.errors == []


def test_dateline_waits_for_the_widget(tab: Tab, site: StaticSite, live_server: Any) -> None:
    """Called as the page is parsed, before the parts have arrived and the launcher is in."""
    page = tab.page
    script = (
        f'<script src="{live_server.url}/widget.js"></script>'
        f"<script>window.asked = Dateline.ask({json.dumps(QUESTION)});</script>"
    )
    page.goto(site.add("early.html", host_page(live_server.url, script=script)))
    answer = page.evaluate("window.asked")
    assert answer["question"] == QUESTION and answer["citations"]
    chat = widget(page)
    expect(chat.get_by_role("dialog")).to_be_visible()
    expect(chat.locator(".quote")).to_have_count(len(answer["citations"]))
    assert page.evaluate("Dateline.languages") == ["en", "de", "fr", "es", "ru", "ar", "he"]
    assert tab.errors == []


def test_a_widget_js_of_another_release_loads_nothing(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    """As a browser that cached widget.js before the server was upgraded: the server has no
    parts of that release, and the page is told so once."""
    page = tab.page
    current = (WEB / "widget.js").read_text(encoding="utf-8")
    stale = current.replace(f'version: "{qa.__version__}"', 'version: "0.0.1"')
    assert stale != current

    def cached(route: Route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=stale)

    page.route(f"{live_server.url}/widget.js", cached)
    page.goto(site.add("stale.html", host_page(live_server.url)))
    with pytest.raises(Error, match="Dateline: the widget did not load"):
        page.evaluate("Dateline.ask('Who met in Astana?')")
    expect(page.locator("dateline-chat")).to_have_count(0)
    assert page.evaluate("Dateline.languages") == []
    ours = [e for e in tab.errors if "status of 404" not in e]
    assert len(ours) == 1 and "Dateline: the widget could not load" in ours[0], tab.errors


@pytest.mark.parametrize("dynamic", ["", " 'strict-dynamic'"])
def test_a_nonce_for_widget_js_lets_its_modules_in(
    tab: Tab, site: StaticSite, live_server: Any, dynamic: str
) -> None:
    """A policy that allows scripts by nonce alone: import() passes the nonce on."""
    page = tab.page
    page.add_init_script(CSP_PROBE)
    policy = (
        f"default-src 'none'; script-src 'nonce-r4nd0m'{dynamic}; "
        f"connect-src {origin(live_server.url)}; style-src 'none'"
    )
    page.goto(
        site.add(
            "nonce.html",
            host_page(
                live_server.url,
                head=f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
                script=f'<script nonce="r4nd0m" src="{live_server.url}/widget.js" defer></script>',
            ),
        )
    )
    launcher = widget(page).locator(".launcher")
    expect(launcher).to_be_visible()
    assert launcher.evaluate("el => getComputedStyle(el).borderRadius") == "24px"
    assert page.evaluate("window.__cspViolations") == []
    assert tab.errors == []
