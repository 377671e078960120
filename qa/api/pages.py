"""The article page: every paragraph anchored ``p<n>``; the cited one highlighted by ``:target``.

A citation leads here, so the page reads as the story: its headline, a readable date, dateline
and agency, a link to the publisher's own page when the archive has one, and a way back. It
names nothing internal (the article's id stays in the address).
"""

from __future__ import annotations

import secrets
from datetime import date
from html import escape
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse

from qa.store import ArticleRecord, ParagraphRecord

__all__ = ["article_page", "html_security_headers", "not_found_page", "publisher", "readable_date"]

# Written out, not from the locale: a server's locale must not change the page.
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_BACK = '<header><nav aria-label="Dateline"><a href="/">Back to Dateline</a></nav></header>'

# Every colour passes WCAG AA (4.5:1) on its background, the highlighted paragraph's included,
# in the light and the dark scheme.
_CSS = """
body{font:17px/1.6 Georgia,'Times New Roman',serif;max-width:42rem;margin:2rem auto;
padding:0 1rem;color:#1d1d1f;background:#fff}
a{color:#0b57d0}
nav{font:14px/1.4 system-ui,sans-serif;margin-bottom:1.5rem}
article header p{font:14px/1.4 system-ui,sans-serif;color:#555;margin:.25rem 0}
h1{font-size:1.6rem;line-height:1.25}
h2{font:600 1.05rem/1.3 system-ui,sans-serif;margin-top:2rem}
article>p{margin:0 0 1rem;padding:.25rem .5rem;border-left:3px solid transparent;
scroll-margin-top:2rem}
article>p:target{background:#fff4c2;border-left-color:#d4a000}
.n{font:12px system-ui,sans-serif;color:#666;text-decoration:none;margin-right:.4rem}
.speaker{display:block;font:12px system-ui,sans-serif;color:#666}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8ab4f8}
article>p:target{background:#3a3000}article header p,.n,.speaker{color:#aaa}}
"""


def html_security_headers(nonce: str | None = None) -> dict[str, str]:
    style = f"'nonce-{nonce}'" if nonce else "'self'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style}; script-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def readable_date(iso: str | None) -> str | None:
    """ "9 December 2022" for "2022-12-09"; None for no date or an unreadable one."""
    try:
        day = date.fromisoformat(iso or "")
    except ValueError:
        return None
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def publisher(source_url: str | None) -> str | None:
    """The publisher's name as its address says it ("cnn.com"); None unless an http(s) one."""
    if not source_url:
        return None
    parts = urlsplit(source_url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.removeprefix("www.")


def _page(title: str, main: str, status_code: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{_CSS}</style></head>'
        f"<body>{_BACK}<main>{main}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=html_security_headers(nonce))


def _byline(article: ArticleRecord) -> str:
    when = readable_date(article.date)
    parts = [f'<time datetime="{escape(article.date or "")}">{when}</time>'] if when else []
    parts += [escape(part) for part in (article.dateline, article.agency) if part]
    lines = [" · ".join(parts)] if parts else []
    if article.author:
        lines.append(f"By {escape(article.author)}")
    name = publisher(article.source_url)
    if name is not None and article.source_url is not None:
        lines.append(f'<a href="{escape(article.source_url)}">Read at {escape(name)}</a>')
    return "".join(f"<p>{line}</p>" for line in lines)


def article_page(article: ArticleRecord, paragraphs: list[ParagraphRecord]) -> HTMLResponse:
    body: list[str] = []
    heading: str | None = None
    for paragraph in paragraphs:
        if paragraph.heading and paragraph.heading != heading:
            body.append(f"<h2>{escape(paragraph.heading)}</h2>")
        heading = paragraph.heading
        speaker = (
            f'<span class="speaker">{escape(paragraph.speaker)}</span>' if paragraph.speaker else ""
        )
        body.append(
            f'<p id="p{paragraph.number}"><a class="n" href="#p{paragraph.number}"'
            f' aria-label="Paragraph {paragraph.number}">{paragraph.number}</a>'
            f"{escape(paragraph.text)}{speaker}</p>"
        )
    title = article.title.strip() or "Untitled article"
    main = (
        f"<article><header><h1>{escape(title)}</h1>{_byline(article)}</header>"
        f"{''.join(body)}</article>"
    )
    return _page(title, main)


def not_found_page() -> HTMLResponse:
    """A reader's 404: what happened and the way back, as a page like the others."""
    main = (
        "<h1>Article not found</h1><p>This archive has no such article: it may have been"
        " removed, or the link is mistyped.</p>"
    )
    return _page("Article not found", main, 404)
