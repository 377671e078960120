"""What the widget's browser tests share: Chromium, a host site on its own origin, page helpers.

A test module imports the fixtures it uses (browser_fixture, site_fixture, tab_fixture: named
browser, site and tab), so each module gets its own browser and host site.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Route,
    expect,
    sync_playwright,
)

__all__ = [
    "CSP_PROBE",
    "QUESTION",
    "TIMEOUT_MS",
    "StaticSite",
    "Tab",
    "ask",
    "browser_fixture",
    "cors_preflight_or",
    "fulfill_json",
    "host_page",
    "json_body",
    "open_tab",
    "origin",
    "run_axe",
    "shadow_focus",
    "site_fixture",
    "strict_csp",
    "tab_fixture",
    "wait_for_quotes",
    "widget",
]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
QUESTION = "What did Putin say about training?"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# Set by the page before anything else runs, so no violation is missed.
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(
        {directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@dataclass(frozen=True)
class StaticSite:
    """A static web server on its own port: the host page's origin, never the API's."""

    root: Path
    url: str

    def add(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.url}/{name}"


@pytest.fixture(scope="module", name="site")
def site_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    root = tmp_path_factory.mktemp("host-site")
    (root / "favicon.ico").write_bytes(b"")  # no 404 in the console
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="host-site", daemon=True)
    thread.start()
    yield StaticSite(root, f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Tab:
    page: Page
    errors: list[str]  # uncaught page errors and console errors


def open_tab(browser: Browser, **context_options: Any) -> Tab:
    options = {"color_scheme": "light", **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # A missing favicon is the host's business, not the widget's; an API from before
        # /api/suggestions answers it 404, and the widget then shows no starter questions.
        if message.type != "error" or url.endswith("/favicon.ico"):
            return
        if url.endswith("/api/suggestions") and "status of 404" in message.text:
            return
        errors.append(f"console: {message.text}")

    page.on("console", on_console)
    return Tab(page, errors)


@pytest.fixture(name="tab")
def tab_fixture(browser: Browser) -> Iterator[Tab]:
    opened = open_tab(browser, viewport={"width": 1280, "height": 800})
    yield opened
    opened.page.context.close()


def host_page(
    api: str,
    *,
    head: str = "",
    body: str = "",
    script: str | None = None,
    lang: str = "en",
) -> str:
    """An ordinary article page that embeds the widget the way the docs say."""
    tag = script if script is not None else f'<script src="{api}/widget.js" defer></script>'
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host newspaper</title>{head}</head>
<body><a href="#story">Skip to story</a>
<main id="story"><h1>Regional security roundup</h1>
<p>Defence ministers met on Friday to discuss joint exercises and information sharing.</p>
<p><a href="#one">One link of the page</a> <a href="#two">and another</a></p></main>
{body}{tag}</body></html>"""


def strict_csp(api: str) -> str:
    """A meta tag with the strictest policy the widget works under: its own origin, no styles."""
    allowed = origin(api)
    policy = (
        f"default-src 'none'; script-src {allowed}; connect-src {allowed}; style-src 'none'; "
        "img-src 'none'"
    )
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def widget(page: Page) -> Locator:
    """The floating widget's host element (Playwright's CSS engine pierces open shadow roots)."""
    return page.locator('dateline-chat[mode="launcher"]')


def shadow_focus(page: Page) -> str | None:
    """Class of the focused element inside the focused widget's shadow root, if any."""
    focused: str | None = page.evaluate(
        """() => {
            const host = document.activeElement;
            if (!host || host.localName !== 'dateline-chat') return null;
            const el = host.shadowRoot.activeElement;
            return el ? (el.getAttribute('class') || el.localName) : null;
        }"""
    )
    return focused


def ask(chat: Locator, question: str) -> None:
    box = chat.locator("textarea")
    box.fill(question)
    box.press("Enter")


def wait_for_quotes(chat: Locator) -> Locator:
    """The quoted passages of the answers shown, once the first is."""
    quotes = chat.locator(".quote")
    expect(quotes.first).to_be_visible(timeout=TIMEOUT_MS)
    return quotes


def fulfill_json(
    route: Route, status: int, body: object, headers: dict[str, str] | None = None
) -> None:
    """Answer an intercepted cross-origin call the way the API's CORS middleware would."""
    route.fulfill(
        status=status,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "Retry-After",
            **(headers or {}),
        },
        content_type="application/json",
        body=json.dumps(body),
    )


def cors_preflight_or(handler: Callable[[Route], None]) -> Callable[[Route], None]:
    def route(route: Route) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                },
            )
        else:
            handler(route)

    return route


def json_body(request: Request) -> dict[str, Any]:
    body = request.post_data_json
    assert isinstance(body, dict)
    return body


def run_axe(page: Page, must_pass: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, open shadow roots included; fails the
    test if a rule of ``must_pass`` did not run and pass (axe skips rules with nothing to check).

    Playwright's evaluate is not subject to the page's CSP, so this works on strict pages too.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run `make axe` (npm ci) first")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations', 'passes']});
            return {passes: r.passes.map(p => p.id), violations: r.violations.map(
                v => ({id: v.id, impact: v.impact,
                       nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))};
        }"""
    )
    assert must_pass <= set(results["passes"]), results["passes"]
    violations: list[dict[str, Any]] = results["violations"]
    return violations
