"""Parsing article files: the wire header, paragraphs, headings, encodings and bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa.articles import UnreadableArticleError, decode_article_bytes, parse_article, read_article

from .conftest import PUTIN_ARTICLE, SEEDS, SHOIGU_ARTICLE

HEADER = "date 2024-04-26 ASTANA, April 26. /TASS/. "


def test_shoigu_seed_fields() -> None:
    article = read_article(SEEDS / f"{SHOIGU_ARTICLE}.txt", 10**6)
    assert article.article_id == SHOIGU_ARTICLE
    assert (article.date, article.dateline, article.agency) == (date(2024, 4, 26), "ASTANA", "TASS")
    assert article.title.startswith("The member-states of the Shanghai Cooperation Organization")
    assert article.title.endswith("…") and len(article.title) <= 121
    assert len(article.paragraphs) == 10
    assert article.paragraphs[0].text.startswith("The member-states")
    assert article.paragraphs[0].text.endswith("Sergey Shoigu has said.")
    headings = [p.heading for p in article.paragraphs]
    assert headings[:4] == [None] * 4
    assert headings[4:] == ["SCO as cornerstone of new multipolar system"] * 6
    assert [p.number for p in article.paragraphs] == list(range(1, 11))
    assert article.warnings == ()


def test_putin_seed_fields() -> None:
    article = read_article(SEEDS / f"{PUTIN_ARTICLE}.txt", 10**6)
    assert (article.date, article.dateline, article.agency) == (date(2022, 12, 9), "MOSCOW", "TASS")
    assert article.title.startswith(
        "The Shanghai Cooperation Organization (SCO) and the Commonwealth"
    )
    assert len(article.paragraphs) == 8
    assert all(p.heading is None for p in article.paragraphs)
    assert article.paragraphs[-1].text.endswith("the address reads.")


def test_missing_header_is_indexed_with_a_warning() -> None:
    article = parse_article("plain", "Just a story. It has no header.\nSecond paragraph here.")
    assert article.date is None and article.dateline is None and article.agency is None
    assert len(article.paragraphs) == 2
    assert "no 'date" in article.warnings[0]


def test_garbled_date_keeps_the_rest_of_the_header() -> None:
    article = parse_article("x", "date 2024-13-45 PARIS, May 3. /AFP/. Text follows here.")
    assert article.date is None and article.dateline == "PARIS" and article.agency == "AFP"
    assert article.paragraphs[0].text == "Text follows here."
    assert "unreadable date" in article.warnings[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeff" + HEADER + "Caf\u00e9 talk.", "Caf\u00e9 talk."),
        (HEADER + "Line one.\r\nLine two.\r\n", "Line one."),
        (HEADER + "Line one.\rLine two.", "Line one."),
    ],
)
def test_bom_and_line_endings(data: str, expected: str) -> None:
    article = parse_article("x", decode_article_bytes(data.encode("utf-8")))
    assert article.paragraphs[0].text == expected
    assert article.date == date(2024, 4, 26)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Президент России Владимир Путин заявил, что сотрудничество важно.", "cp1251"),
        (HEADER + "Министр заявил, что переговоры продолжатся в среду.", "cp1251"),
        (HEADER + "Le ministre a déclaré que la réunion était très utile.", "latin-1"),
        (HEADER + "El ministro dijo que la reunión fue muy útil, señor.", "latin-1"),
        (HEADER + "Die Regierung erklärte, dass die Gespräche fortgesetzt würden.", "latin-1"),
        (HEADER + "naïve façade – “quoted”", "cp1252"),
    ],
)
def test_legacy_encodings_are_decoded(text: str, encoding: str) -> None:
    assert decode_article_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"  \n\t\n ", "empty"), (b"abc\x00def", "binary")],
)
def test_unreadable_files_say_why(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UnreadableArticleError, match=reason):
        read_article(path, 10**6)


def test_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(UnreadableArticleError, match="too large"):
        read_article(path, 1024)
