"""Article files: bytes to text, then front matter, the wire header or opening, paragraphs."""

from __future__ import annotations

import calendar
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import charset_normalizer
import yaml

from qa.errors import DatelineError
from qa.sentences import sentence_spans

__all__ = [
    "Article",
    "ArticleFields",
    "Paragraph",
    "UnreadableArticleError",
    "article_fields",
    "decode_article_bytes",
    "parse_article",
    "read_article",
]

# The date alone makes a header; the rest of the line is read like any first paragraph, so a
# dateline after the date ("ASTANA, April 26. /TASS/.") is found by the wire openings below.
_HEADER = re.compile(r"date\s+(?P<date>\d{1,4}[-./]\d{1,2}[-./]\d{1,4})(?:\s+(?P<rest>.*))?")

# The dateline a date header has always carried, read as leniently as ever whatever the city
# looks like ("DALLAS/FORT WORTH, Texas, Mar. 3. /REUTER/.", "****SANTO DOMINGO, Mar. 4. ...").
_HEADER_DATELINE = re.compile(
    r"(?P<city>[^,]+(?:,[^,]+?)*?),\s+(?P<month>[A-Z][a-z]+)\.?\s+(?P<day>\d{1,2})\.\s+"
    r"/(?P<agency>[^/]{1,40})/\.?\s*(?P<rest>.*)"
)
# A hyphen is a dash only between spaces ("LONDON (Reuters) - "), so "NUR-SULTAN" stays a city.
_DASH = r"(?:\s+--?(?:\s+|$)|\s*[–—]\s*)"
# "ASTANA, April 26. /TASS/." (TASS).
_SLASHED = re.compile(r"(?P<place>[^/]{1,60}?)\s*/(?P<agency>[^/]{1,40})/\.?\s*(?P<rest>.*)")
# "LONDON, June 12 (Reuters) - ", "NEW YORK (AP) — "; CNN's older copy has no dash:
# "Bogota, Colombia (CNN) Gustavo Petro will ...".
_PARENTHESIZED = re.compile(
    rf"(?P<place>[^()]{{1,60}}?)\s*\((?P<agency>[^()]{{1,40}})\)(?P<dash>{_DASH})?\s*(?P<rest>.*)"
)
# "New York CNN Business —", "CNN —", "Reuters —" (CNN); "SALVADOR, Feb 26 - " (Reuters-21578).
_DASHED = re.compile(rf"(?P<lead>[^–—]{{1,60}}?){_DASH}(?P<rest>.*)")
_MONTH_DAY = re.compile(
    r",\s*(?:(?P<month>[A-Za-z]{3,9})\.?\s+\d{1,2}|\d{1,2}\s+(?P<month_after>[A-Za-z]{3,9}))\.?$"
)
_MONTHS = tuple(name.lower() for name in calendar.month_name[1:])
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[.'’-][^\W\d_]*)*")
# Lower-case words inside place names: Rio de Janeiro, Dar es Salaam, Port of Spain.
_PLACE_PARTICLES = frozenset("de del da di do dos du la le el al es of upon".split())
# Words that open ordinary sentences and no place name, so "In Paris, June 5 - the day ..." and
# "The EU — and its members — agreed" keep their first words ("The Hague" is a place).
_SENTENCE_OPENERS = frozenset(
    "a after also an and as at before but by for from he her here his however i if in it its"
    " meanwhile now on or our she since so still that their then there these they this those to"
    " today tomorrow we what when where while who with yesterday yet".split()
)
_PLACE_MAX_WORDS = 4
_AGENCY_MAX_WORDS = 4
# CNN's undashed "(CNN)" is safe to read as an agency; in general a parenthesis without a dash
# is ordinary text: "Apple (AAPL) shares rose".
_UNDASHED_AGENCY = re.compile(r"CNN\b")
# Reuters marks company names "<Qantas Airways Ltd> has placed ...".
_SENTENCE_START_MARKS = tuple("\"'“‘«([<$£€")

_SENTENCE_END = tuple(".!?:;\"'”’)»…")
_HEADING_MAX_CHARS = 100
_HEADING_MAX_WORDS = 14
_TITLE_MAX_CHARS = 120
_LEGACY_ENCODINGS = ("cp1251", "cp1252", "latin_1")
_FENCE = "---"
_Value = TypeVar("_Value")


class UnreadableArticleError(DatelineError):
    """The file cannot be indexed; the message says why, for the one-line ingest warning."""


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    heading: str | None


@dataclass(frozen=True)
class ArticleFields:
    """Metadata given beside the text (front matter, a JSONL line); any set field wins over what
    the header or the wire opening says."""

    title: str | None = None
    url: str | None = None
    date: date | None = None
    dateline: str | None = None
    agency: str | None = None
    author: str | None = None

    def over(self, other: ArticleFields) -> ArticleFields:
        """These fields, with ``other``'s filling the ones left unset."""
        return ArticleFields(
            title=self.title or other.title,
            url=self.url or other.url,
            date=self.date or other.date,
            dateline=self.dateline or other.dateline,
            agency=self.agency or other.agency,
            author=self.author or other.author,
        )


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    date: date | None
    dateline: str | None
    agency: str | None
    url: str | None
    author: str | None
    paragraphs: tuple[Paragraph, ...]
    content_hash: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Opening:
    dateline: str | None
    agency: str | None
    rest: str


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


# -- fields given beside the text ------------------------------------------------------------


def _text_value(value: object) -> str | None:
    if not isinstance(value, str):
        raise ValueError(f"is {type(value).__name__}, not text")
    return " ".join(value.split()) or None


def _date_value(value: object) -> date | None:
    # Date objects come from YAML's explicit "!!timestamp" tag; a datetime is a date too.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    raise ValueError(f"{str(value)[:40]!r} is not a date (YYYY-MM-DD)")


def _url_value(value: object) -> str | None:
    text = _text_value(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise ValueError(f"{text[:80]!r} is not an http(s) URL")
    return text


def article_fields(raw: Mapping[str, object]) -> tuple[ArticleFields, list[str]]:
    """The known fields of ``raw`` that have the right type, and one problem per field that has
    not; null fields are left unset and other keys ignored (archives carry more than we read)."""
    problems: list[str] = []

    def read(name: str, reader: Callable[[object], _Value | None]) -> _Value | None:
        value = raw.get(name)
        if value is None:
            return None
        try:
            return reader(value)
        except ValueError as exc:
            problems.append(f"field {name!r} {exc}")
            return None

    given = ArticleFields(
        title=read("title", _text_value),
        url=read("url", _url_value),
        date=read("date", _date_value),
        dateline=read("dateline", _text_value),
        agency=read("agency", _text_value),
        author=read("author", _text_value),
    )
    return given, problems


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe subset with dates left as text for ``_date_value``: PyYAML itself raises
    ValueError on "2022-13-45", which would lose every other field with it."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_problem(exc: Exception) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        # The block's first line is the file's second, after the opening fence.
        return f"line {exc.problem_mark.line + 2}: {exc.problem}"
    return " ".join(str(exc).split())


def _front_matter(text: str) -> tuple[ArticleFields, str, list[str]]:
    """The fields of a leading ``---`` YAML block, the text after it, and what was wrong."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FENCE:
        return ArticleFields(), text, []
    end = next((i for i, line in enumerate(lines) if i and line.strip() == _FENCE), None)
    if end is None:
        warning = "front matter without its closing '---' line; read as article text"
        return ArticleFields(), "".join(lines[1:]), [warning]
    body = "".join(lines[end + 1 :])
    try:
        raw = yaml.load("".join(lines[1:end]), Loader=_FrontMatterLoader)
    # Explicitly tagged values ("!!float x") raise ValueError, deep nesting RecursionError.
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return ArticleFields(), body, [f"front matter is not valid YAML ({_yaml_problem(exc)})"]
    if raw is None:
        return ArticleFields(), body, []
    if not isinstance(raw, dict):
        return ArticleFields(), body, ["front matter is not a block of 'field: value' lines"]
    given, problems = article_fields(raw)
    return given, body, [f"front matter {problem}; ignored" for problem in problems]


# -- wire openings --------------------------------------------------------------------------


def _is_month(word: str) -> bool:
    word = word.lower()
    return any(month.startswith(word) for month in _MONTHS)


def _place(text: str) -> str | None:
    """``text`` as a dateline city ("NEW YORK", "Colombo, Sri Lanka", "PORTLAND, Ore."), its
    ", Month D" dropped; None when it reads like the start of a sentence."""
    text = text.strip()
    month_day = _MONTH_DAY.search(text)
    if month_day is not None:
        if not _is_month(month_day["month"] or month_day["month_after"]):
            return None
        text = text[: month_day.start()]
    parts = [part.strip() for part in text.split(",")]
    words = text.replace(",", " ").split()
    if len(parts) > 2 or not all(parts) or not 1 <= len(words) <= _PLACE_MAX_WORDS:
        return None
    if words[0].lower() in _SENTENCE_OPENERS or words == ["The"]:
        return None
    for position, word in enumerate(words):
        if not _NAME_WORD.fullmatch(word):
            return None
        if not (word[0].isupper() or (position and word in _PLACE_PARTICLES)):
            return None
    return ", ".join(" ".join(part.split()) for part in parts)


def _agency(text: str) -> str | None:
    name = " ".join(text.split())
    words = name.split()
    if not name or not name[0].isupper() or len(words) > _AGENCY_MAX_WORDS:
        return None
    return name if all(_NAME_WORD.fullmatch(word.replace("&", "")) for word in words) else None


def _is_bare_agency(word: str) -> bool:
    """Agencies that sign with a bare name are two- or three-letter acronyms (CNN, AP, AFP,
    UPI); a longer all-caps word before a dash is a city, as in US papers' "WASHINGTON — "."""
    return 2 <= len(word) <= 3 and word.isalpha() and word.isupper()


def _is_capitalized(word: str) -> bool:
    return word.isalpha() and word[0].isupper() and word[1:].islower()


def _starts_sentence(rest: str) -> bool:
    """A new sentence, or nothing, follows an opening: not so in "NATO — the alliance met"."""
    return (
        not rest or rest[0].isupper() or rest[0].isdigit() or rest.startswith(_SENTENCE_START_MARKS)
    )


def _dashed_lead(lead: str, alone: bool) -> tuple[str | None, str | None] | None:
    """(dateline, agency) of the words before a dash, or None if they are not an opening."""
    if _MONTH_DAY.search(lead):
        city = _place(lead)
        return None if city is None else (city, None)
    words = lead.split()
    # The agency is a trailing acronym, perhaps with a desk name: "CNN", "CNN Business".
    for size in (2, 1):
        agency, city_words = words[-size:], words[:-size]
        if len(agency) < size or not _is_bare_agency(agency[0]):
            continue
        if size == 2 and not _is_capitalized(agency[1]):
            continue
        if not city_words:
            return None, " ".join(agency)
        # CNN writes the city in title case; an all-caps one is read whole below.
        city = " ".join(city_words)
        if not city.isupper() and (place := _place(city)) is not None:
            return place, " ".join(agency)
    if lead.isupper() and (place := _place(lead)) is not None:
        return place, None
    # A line of its own that is only a name and a dash is an agency line: "Reuters —".
    if (
        alone
        and len(words) <= _AGENCY_MAX_WORDS
        and words[0].lower() not in _SENTENCE_OPENERS
        and all(_is_capitalized(word) for word in words)
    ):
        return None, " ".join(words)
    return None


def _wire_opening(line: str, after_header: bool) -> _Opening | None:
    """The dateline and agency that open a wire story's first paragraph, and the text after."""
    found = _HEADER_DATELINE.fullmatch(line) if after_header else None
    if found is not None:
        return _Opening(found["city"].strip(), found["agency"].strip(), found["rest"])
    for pattern in (_SLASHED, _PARENTHESIZED):
        found = pattern.fullmatch(line)
        # Slashes are never ordinary text; a parenthesis before a dash may be.
        if found is None or (pattern is _PARENTHESIZED and not _starts_sentence(found["rest"])):
            continue
        city, agency = _place(found["place"]), _agency(found["agency"])
        undashed = pattern is _PARENTHESIZED and found["dash"] is None
        if undashed and not (_UNDASHED_AGENCY.match(found["agency"]) and found["rest"]):
            continue
        if city is not None and agency is not None:
            return _Opening(city, agency, found["rest"])
    found = _DASHED.fullmatch(line)
    if found is not None and _starts_sentence(found["rest"]):
        parsed = _dashed_lead(found["lead"], alone=not found["rest"])
        if parsed is not None:
            return _Opening(*parsed, found["rest"])
    return None


# -- the article ----------------------------------------------------------------------------


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


def _header_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_article(article_id: str, text: str, given: ArticleFields | None = None) -> Article:
    """Split text into its fields and paragraphs; a missing date is a warning, not an error.

    Fields come from ``given`` first, then the front matter, then the header and wire opening.
    """
    front, text, warnings = _front_matter(text)
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise UnreadableArticleError("empty file (no text)")
    date_text: str | None = None
    header = _HEADER.fullmatch(lines[0])
    if header is not None:
        date_text = header["date"]
        lines = [header["rest"], *lines[1:]] if header["rest"] else lines[1:]
    opening = _wire_opening(lines[0], after_header=header is not None) if lines else None
    if opening is not None:
        lines = [opening.rest, *lines[1:]] if opening.rest else lines[1:]
    from_text = ArticleFields(
        date=_header_date(date_text),
        dateline=opening.dateline if opening else None,
        agency=opening.agency if opening else None,
    )
    fields = (given or ArticleFields()).over(front).over(from_text)
    if fields.date is None:
        warnings.append(
            f"unreadable date {date_text[:20]!r}; date left empty"
            if date_text
            else "no 'date YYYY-MM-DD' header and no date field; date left empty"
        )

    paragraphs: list[Paragraph] = []
    heading: str | None = None
    for position, line in enumerate(lines):
        if position > 0 and _is_heading(line):
            heading = line
            continue
        paragraphs.append(Paragraph(len(paragraphs) + 1, line, heading))
    if not paragraphs:
        raise UnreadableArticleError("no paragraphs after the header")
    title = fields.title or _title(paragraphs[0].text)
    published = fields.date.isoformat() if fields.date else None
    # Every field is hashed with the text: a changed date or link is a changed article.
    identity = [title, published, fields.dateline, fields.agency, fields.url, fields.author, lines]
    fingerprint = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
    return Article(
        article_id=article_id,
        title=title,
        date=fields.date,
        dateline=fields.dateline,
        agency=fields.agency,
        url=fields.url,
        author=fields.author,
        paragraphs=tuple(paragraphs),
        content_hash=fingerprint,
        warnings=tuple(warnings),
    )


def _too_large(size: str, max_bytes: int) -> UnreadableArticleError:
    return UnreadableArticleError(f"too large ({size} bytes; the limit is {max_bytes:,})")


def _regular_file_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes``.

    The file is opened without blocking and checked on the open descriptor, so one swapped for
    a FIFO after its folder was listed is refused instead of hanging the ingest; and never
    through a link (O_NOFOLLOW), so one swapped for a link cannot lead outside the folder that
    was checked: callers resolve the links they mean to follow.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableArticleError("gone (deleted while ingest ran)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableArticleError("a link (not followed)") from None
        raise UnreadableArticleError(f"cannot be opened ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableArticleError("not a regular file")
        if status.st_size > max_bytes:
            raise _too_large(f"{status.st_size:,}", max_bytes)
        try:
            data = file.read(max_bytes + 1)  # one byte more tells a file that grew meanwhile
        except OSError as exc:
            raise UnreadableArticleError(f"cannot be read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise _too_large(f"over {max_bytes:,}", max_bytes)
    return data


def read_article(path: Path, max_bytes: int, article_id: str | None = None) -> Article:
    """Read one regular file as article ``article_id`` (its stem by default); raises
    UnreadableArticleError with the reason it must be skipped."""
    data = _regular_file_bytes(path, max_bytes)
    return parse_article(article_id or path.stem, decode_article_bytes(data))
