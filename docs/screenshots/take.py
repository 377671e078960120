"""Screenshots of the widget answering on the demo page, as in the README.

Run against a server over the seeds (`make run`):
    python docs/screenshots/take.py http://127.0.0.1:8000 after
It writes PREFIX-{desktop,mobile}-{light,dark}.png (the panel after one answer; desktop is
the 400 px panel alone), PREFIX-desktop-light-starters.png (the empty panel, with the API's
starter questions), PREFIX-mobile-dark-actions.png (the end of the answer) and
PREFIX-desktop-light-arabic.png, and prints how many panel heights each answer takes. The
before-* files came from the widget before issue #15 (commit 6c33f6b), which stops at the
Arabic shot: it had no paragraph toggle."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, expect, sync_playwright

QUESTION = "What did Putin say about training?"
STARTERS = [
    QUESTION,
    "What did Shoigu say about color revolutions?",
    "Which exercises did the SCO plan?",
]
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 390, "height": 780}, "is_mobile": True, "has_touch": True},
}


def ask(chat: Locator, question: str) -> None:
    chat.locator("textarea").fill(question)
    chat.locator("textarea").press("Enter")
    expect(chat.locator(".answer").last).to_be_visible(timeout=30_000)


def main(api: str, prefix: str) -> None:
    out = Path(__file__).parent
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        for device, options in DEVICES.items():
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    color_scheme=scheme, reduced_motion="reduce", **options
                )
                page = context.new_page()
                page.goto(api + "/")
                chat = page.locator('dateline-chat[mode="launcher"]')
                chat.locator(".launcher").click()
                shot = chat.locator(".panel") if device == "desktop" else page
                page.wait_for_timeout(300)
                if (device, scheme) == ("desktop", "light"):
                    shot.screenshot(path=out / f"{prefix}-desktop-light-starters.png")
                ask(chat, QUESTION)
                page.wait_for_timeout(500)
                shot.screenshot(path=out / f"{prefix}-{device}-{scheme}.png")
                log = chat.locator(".log")
                height, visible = log.evaluate("el => [el.scrollHeight, el.clientHeight]")
                print(f"{device} {scheme}: {height / visible:.2f} panel heights")
                if (device, scheme) == ("mobile", "dark"):
                    log.evaluate("el => { el.scrollTop = el.scrollHeight; }")
                    shot.screenshot(path=out / f"{prefix}-mobile-dark-actions.png")
                context.close()
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_content(
            f'<html lang="ar"><body><script src="{api}/widget.js" data-open></script></body></html>'
        )
        chat = page.locator("dateline-chat")
        ask(chat, "What did Shoigu say about color revolutions?")
        chat.locator(".toggle").first.click()
        page.wait_for_timeout(300)
        chat.locator(".panel").screenshot(path=out / f"{prefix}-desktop-light-arabic.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
