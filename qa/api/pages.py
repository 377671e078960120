"""The article page: every paragraph anchored ``p<n>``; the cited one highlighted by ``:target``."""

from __future__ import annotations

import secrets
from html import escape

from fastapi.responses import HTMLResponse

from qa.store import ArticleRecord, ParagraphRecord

__all__ = ["article_page", "html_security_headers"]

_CSS = """
body{font:17px/1.6 Georgia,'Times New Roman',serif;max-width:42rem;margin:2rem auto;
padding:0 1rem;color:#1d1d1f;background:#fff}
header p{font:14px/1.4 system-ui,sans-serif;color:#555}
h1{font-size:1.6rem;line-height:1.25}
h2{font:600 1.05rem/1.3 system-ui,sans-serif;margin-top:2rem}
p{margin:0 0 1rem;padding:.25rem .5rem;border-left:3px solid transparent;scroll-margin-top:2rem}
p:target{background:#fff4c2;border-left-color:#d4a000}
.n{font:12px system-ui,sans-serif;color:#888;text-decoration:none;margin-right:.4rem}
.speaker{display:block;font:12px system-ui,sans-serif;color:#666}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}
p:target{background:#3a3000}header p,.speaker{color:#aaa}}
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


def article_page(article: ArticleRecord, paragraphs: list[ParagraphRecord]) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    meta = " · ".join(
        escape(part) for part in (article.date, article.dateline, article.agency) if part
    )
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
            f'<p id="p{paragraph.number}"><a class="n" href="#p{paragraph.number}">'
            f"{paragraph.number}</a>{escape(paragraph.text)}{speaker}</p>"
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(article.title)}</title><style nonce="{nonce}">{_CSS}</style></head>'
        f"<body><article><header><h1>{escape(article.title)}</h1><p>{meta}"
        f" · {escape(article.article_id)}</p></header>{''.join(body)}</article></body></html>"
    )
    return HTMLResponse(html, headers=html_security_headers(nonce))
