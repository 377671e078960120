"""Article files: bytes to text, then the wire header, paragraphs and headings."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import charset_normalizer

from qa.errors import DatelineError
from qa.sentences import sentence_spans

__all__ = [
    "Article",
    "Paragraph",
    "UnreadableArticleError",
    "decode_article_bytes",
    "parse_article",
    "read_article",
]

_HEADER = re.compile(
    r"^date\s+(?P<date>\S+)\s+(?P<city>[^,]+(?:,[^,]+?)*?),\s+"
    r"(?P<month>[A-Z][a-z]+)\.?\s+(?P<day>\d{1,2})\.\s+/(?P<agency>[^/]{1,40})/\.?\s*(?P<rest>.*)$",
    re.DOTALL,
)
_SENTENCE_END = tuple(".!?:;\"'”’)»…")
_HEADING_MAX_CHARS = 100
_HEADING_MAX_WORDS = 14
_TITLE_MAX_CHARS = 120
_LEGACY_ENCODINGS = ("cp1251", "cp1252", "latin_1")


class UnreadableArticleError(DatelineError):
    """The file cannot be indexed; the message says why, for the one-line ingest warning."""


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    heading: str | None


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    date: date | None
    dateline: str | None
    agency: str | None
    paragraphs: tuple[Paragraph, ...]
    content_hash: str
    warnings: tuple[str, ...] = ()


def decode_article_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, else the likeliest of cp1251, cp1252 and Latin-1."""
    if b"\x00" in data:
        raise UnreadableArticleError("binary file (contains NUL bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Left free, the detector mistakes short Latin-1 text for cp1250 or even Big5; wire
    # archives that are not UTF-8 are Cyrillic (cp1251) or Western European (cp1252/Latin-1).
    best = charset_normalizer.from_bytes(data, cp_isolation=list(_LEGACY_ENCODINGS)).best()
    if best is None:
        raise UnreadableArticleError("undecodable text (no known encoding fits)")
    return str(best)


def _is_heading(line: str) -> bool:
    return (
        len(line) <= _HEADING_MAX_CHARS
        and len(line.split()) <= _HEADING_MAX_WORDS
        and not line.endswith(_SENTENCE_END)
    )


def _title(first_paragraph: str) -> str:
    start, end = sentence_spans(first_paragraph)[0]
    sentence = first_paragraph[start:end].strip()
    if len(sentence) <= _TITLE_MAX_CHARS:
        return sentence
    cut = sentence[:_TITLE_MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;: ")
    return f"{cut}…"


def parse_article(article_id: str, text: str) -> Article:
    """Split text into header fields and paragraphs; a missing header is a warning, not an error."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise UnreadableArticleError("empty file (no text)")
    warnings: list[str] = []
    published: date | None = None
    dateline = agency = None
    header = _HEADER.match(lines[0])
    if header is None:
        warnings.append("no 'date YYYY-MM-DD CITY, Month D. /AGENCY/.' header; date left empty")
    else:
        dateline, agency = header["city"].strip(), header["agency"].strip()
        try:
            published = date.fromisoformat(header["date"])
        except ValueError:
            warnings.append(f"unreadable date {header['date'][:20]!r}; date left empty")
        lines = [header["rest"].strip(), *lines[1:]] if header["rest"].strip() else lines[1:]

    paragraphs: list[Paragraph] = []
    heading: str | None = None
    for position, line in enumerate(lines):
        if position > 0 and _is_heading(line):
            heading = line
            continue
        paragraphs.append(Paragraph(len(paragraphs) + 1, line, heading))
    if not paragraphs:
        raise UnreadableArticleError("no paragraphs after the header")
    fingerprint = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return Article(
        article_id=article_id,
        title=_title(paragraphs[0].text),
        date=published,
        dateline=dateline,
        agency=agency,
        paragraphs=tuple(paragraphs),
        content_hash=fingerprint,
        warnings=tuple(warnings),
    )


def read_article(path: Path, max_bytes: int) -> Article:
    """Read one file; raises UnreadableArticleError with the reason it must be skipped."""
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableArticleError(f"too large ({size:,} bytes; the limit is {max_bytes:,})")
    return parse_article(path.stem, decode_article_bytes(path.read_bytes()))
