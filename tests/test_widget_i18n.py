"""The widget in the reader's language: the page's <html lang> or data-lang, right to left for
Arabic and Hebrew, English for a language it does not know."""

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
    wait_for_quotes,
    widget,
)

pytestmark = pytest.mark.browser

# What each built-in language calls the panel, its question box and its send button.
TRANSLATED = {
    "en": ("Ask the archive", "Ask about the news…", "Send question"),
    "de": ("Das Archiv fragen", "Fragen Sie nach den Nachrichten …", "Frage senden"),
    "fr": ("Interroger les archives", "Posez une question sur l’actualité…", "Envoyer la question"),
    "es": ("Pregunta al archivo", "Pregunta sobre las noticias…", "Enviar pregunta"),
    "ru": ("Спросить архив", "Спросите о новостях…", "Отправить вопрос"),
    "ar": ("اسأل الأرشيف", "اسأل عن الأخبار…", "أرسل السؤال"),
    "he": ("שאלו את הארכיון", "שאלו על החדשות…", "שליחת השאלה"),
}


def test_the_page_language_picks_the_strings(tab: Tab, site: StaticSite, live_server: Any) -> None:
    page = tab.page

    def busy(route: Route) -> None:
        fulfill_json(route, 429, {"detail": "too many requests"}, {"Retry-After": "7"})

    page.goto(site.add("de.html", host_page(live_server.url, lang="de-AT")))
    chat = widget(page)
    expect(chat.locator(".launcher")).to_have_text("Das Archiv fragen")
    chat.locator(".launcher").click()
    panel = chat.get_by_role("dialog", name="Das Archiv fragen")
    expect(panel).to_have_attribute("lang", "de")
    expect(panel).to_have_attribute("dir", "ltr")
    expect(chat.get_by_role("button", name="Das Archiv fragen schließen")).to_be_visible()
    expect(chat.get_by_role("button", name="Neues Gespräch beginnen")).to_be_visible()
    expect(chat.locator(".empty-title")).to_have_text("Fragen Sie das Nachrichtenarchiv")

    ask(chat, QUESTION)
    wait_for_quotes(chat)
    expect(chat.get_by_role("list", name="Quellen")).to_be_visible()
    expect(chat.locator(".card-meta").first).to_contain_text("09.12.2022")  # a German date
    expect(chat.locator(".speaker-label")).to_have_text("Sprecher: ")
    expect(chat.get_by_role("button", name="Hilfreich", exact=True)).to_be_visible()

    page.route(f"{live_server.url}/api/chat", cors_preflight_or(busy))
    ask(chat, "Und weiter?")
    alert = chat.get_by_role("alert")
    expect(alert).to_contain_text("Zu viele Fragen; versuchen Sie es in 7 s erneut.")
    expect(alert.get_by_role("button", name="Erneut versuchen")).to_be_visible()
    assert [e for e in tab.errors if "status of 429" not in e] == []


@pytest.mark.parametrize("lang", ["ar", "he"])
def test_right_to_left_languages(tab: Tab, site: StaticSite, live_server: Any, lang: str) -> None:
    page = tab.page
    script = f'<script src="{live_server.url}/widget.js" defer data-lang="{lang}"></script>'
    page.goto(site.add(f"{lang}.html", host_page(live_server.url, script=script)))
    chat = widget(page)
    title, placeholder, send = TRANSLATED[lang]
    chat.locator(".launcher").click()
    panel = chat.get_by_role("dialog", name=title)
    expect(panel).to_have_attribute("dir", "rtl")
    assert panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(chat.locator("textarea")).to_have_attribute("placeholder", placeholder)

    ask(chat, QUESTION)
    wait_for_quotes(chat)
    # Right to left: the reader's question sits on the left, the close button too.
    panel_box = panel.bounding_box()
    question_box = chat.locator(".question").bounding_box()
    close_box = chat.locator(".head .icon-btn").last.bounding_box()
    assert panel_box and question_box and close_box
    assert question_box["x"] - panel_box["x"] < 30  # against the left edge, past the padding
    assert close_box["x"] < panel_box["x"] + panel_box["width"] / 2
    expect(chat.get_by_role("button", name=send)).to_be_visible()
    assert tab.errors == []


def test_data_lang_wins_and_an_unknown_language_is_english(
    tab: Tab, site: StaticSite, live_server: Any
) -> None:
    page = tab.page
    api = live_server.url
    page.goto(
        site.add(
            "langs.html",
            host_page(
                api,
                lang="ja",
                body=f'<dateline-chat api="{api}" lang="fr"></dateline-chat>',
            ),
        )
    )
    inline = page.locator("dateline-chat:not([mode])")
    expect(inline.get_by_role("dialog", name="Interroger les archives")).to_be_visible()
    floating = widget(page)  # the page is in Japanese, which is not built in
    expect(floating.locator(".launcher")).to_have_text("Ask the archive")
    assert page.evaluate("Dateline.languages") == list(TRANSLATED)

    # Every built-in language, switched on the element at run time.
    for lang, (title, placeholder, send) in TRANSLATED.items():
        inline.evaluate("(el, lang) => el.setAttribute('lang', lang)", lang)
        panel = inline.get_by_role("dialog", name=title)
        expect(panel).to_have_attribute("dir", "rtl" if lang in ("ar", "he") else "ltr")
        expect(inline.locator("textarea")).to_have_attribute("placeholder", placeholder)
        expect(inline.get_by_role("button", name=send)).to_be_visible()
    assert tab.errors == []
