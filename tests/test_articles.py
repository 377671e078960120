"""Parsing article files: the wire header, paragraphs, headings, encodings and bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa.articles import (
    ArticleFields,
    UnreadableArticleError,
    article_fields,
    decode_article_bytes,
    parse_article,
    read_article,
)

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


def test_a_date_alone_is_a_header() -> None:
    article = parse_article("x", "date 2022-06-12\nThe talks ended on Sunday, officials said.")
    assert (article.date, article.dateline, article.agency) == (date(2022, 6, 12), None, None)
    assert [p.text for p in article.paragraphs] == ["The talks ended on Sunday, officials said."]
    assert article.warnings == ()


def test_date_header_then_text_on_the_same_line() -> None:
    article = parse_article("x", "date 2022-06-12 The talks ended on Sunday.")
    assert (article.date, article.dateline, article.agency) == (date(2022, 6, 12), None, None)
    assert article.paragraphs[0].text == "The talks ended on Sunday."


@pytest.mark.parametrize(
    ("opening", "dateline", "agency"),
    [
        ("LONDON (Reuters) - ", "LONDON", "Reuters"),
        ("LONDON, June 12 (Reuters) - ", "LONDON", "Reuters"),
        ("ORLANDO, Fla. (Reuters) – ", "ORLANDO, Fla.", "Reuters"),
        ("NEW YORK (AP) — ", "NEW YORK", "AP"),
        ("THE HAGUE (AFP) — ", "THE HAGUE", "AFP"),
        ("Rio de Janeiro (Reuters) - ", "Rio de Janeiro", "Reuters"),
        ("New York CNN — ", "New York", "CNN"),
        ("Colombo, Sri Lanka CNN — ", "Colombo, Sri Lanka", "CNN"),
        ("New York CNN Business — ", "New York", "CNN Business"),
        ("CNN — ", None, "CNN"),
        ("Bogota, Colombia (CNN) ", "Bogota, Colombia", "CNN"),
        ("MOSCOW, June 12. /TASS/. ", "MOSCOW", "TASS"),
        ("SALVADOR, Feb 26 - ", "SALVADOR", None),
        ("PORTLAND, Ore., Feb 26 - ", "PORTLAND, Ore.", None),
        ("NUR-SULTAN, May 3 -- ", "NUR-SULTAN", None),
        ("WASHINGTON — ", "WASHINGTON", None),
    ],
)
def test_wire_openings_become_dateline_and_agency(
    opening: str, dateline: str | None, agency: str | None
) -> None:
    article = parse_article("x", f"{opening}The minister said talks would resume.\nMore text.")
    assert (article.dateline, article.agency) == (dateline, agency)
    assert article.paragraphs[0].text == "The minister said talks would resume."
    assert article.title == "The minister said talks would resume."


@pytest.mark.parametrize(
    ("opening", "dateline", "agency"),
    [
        ("New York CNN —", "New York", "CNN"),
        ("Uzhhorod, Ukraine CNN —", "Uzhhorod, Ukraine", "CNN"),
        ("CNN —", None, "CNN"),
        ("CNN Business —", None, "CNN Business"),
        ("Reuters —", None, "Reuters"),
    ],
)
def test_an_opening_on_its_own_line_is_not_a_paragraph(
    opening: str, dateline: str | None, agency: str
) -> None:
    """CNN's copy: the opening alone on the first line, the story on the next ones."""
    text = (
        f"{opening}\n\nNetflix announced Sunday that the show will return.\n\nIt did not say when."
    )
    article = parse_article("x", text)
    assert (article.dateline, article.agency) == (dateline, agency)
    assert [p.text for p in article.paragraphs] == [
        "Netflix announced Sunday that the show will return.",
        "It did not say when.",
    ]


@pytest.mark.parametrize(
    "first_line",
    [
        "Prime Minister Ranil Wickremesinghe said on Tuesday that Sri Lanka is bankrupt.",
        "Apple (AAPL) shares rose 3% on Monday, the company said.",
        "NATO — the alliance founded in 1949 — met on Monday.",
        "The EU — and its 27 members — agreed to the plan.",
        "In Paris, June 5 - the day of the vote - was calm.",
        "Boris Johnson (pictured) — who resigned — said he had no regrets.",
        "The talks - which began in May - ended on Friday.",
        "US President Joe Biden — speaking in Ohio — said jobs were coming back.",
        "Microsoft and OpenAI — two partners — agreed on new terms.",
        "Meanwhile — as the rain fell — the crowd waited.",
        "The United States on Monday unveiled a potential new player in the Ukraine war: Iran.",
        "date palms grow in the desert, farmers said.",
    ],
)
def test_an_ordinary_first_paragraph_is_untouched(first_line: str) -> None:
    article = parse_article("x", f"{first_line}\nSecond paragraph here.")
    assert (article.dateline, article.agency) == (None, None)
    assert article.paragraphs[0].text == first_line


FRONT_MATTER = """---
title: Squid Game is coming back
url: https://www.cnn.com/2022/06/12/media/squid-game-season-2/index.html
date: 2022-06-12
dateline: Seoul
agency: CNN Entertainment
author: Ramishah Maruf
---
date 2022-06-01 New York CNN —
Netflix announced Sunday that the show will return for a second season.
"""


def test_front_matter_fields_win_over_the_header_and_opening() -> None:
    article = parse_article("squid", FRONT_MATTER)
    assert article.title == "Squid Game is coming back"
    assert article.url == "https://www.cnn.com/2022/06/12/media/squid-game-season-2/index.html"
    assert (article.date, article.dateline, article.agency, article.author) == (
        date(2022, 6, 12),
        "Seoul",
        "CNN Entertainment",
        "Ramishah Maruf",
    )
    assert [p.text for p in article.paragraphs] == [
        "Netflix announced Sunday that the show will return for a second season."
    ]
    assert article.warnings == ()


def test_front_matter_fills_only_what_it_names() -> None:
    article = parse_article("x", "---\nauthor: Jane Roe\n---\nLONDON (Reuters) - Text here.")
    assert (article.author, article.dateline, article.agency) == ("Jane Roe", "LONDON", "Reuters")
    assert article.title == "Text here." and article.url is None


@pytest.mark.parametrize(
    ("block", "warning"),
    [
        ("title: [unclosed", "front matter is not valid YAML (line 3:"),
        ("- just\n- a list", "front matter is not a block of 'field: value' lines"),
        ("date: next week", "front matter field 'date' 'next week' is not a date"),
        ("date: 2022-13-45", "front matter field 'date' '2022-13-45' is not a date"),
        ("url: ftp://example.com/a", "front matter field 'url' 'ftp://example.com/a' is not an"),
        ("url: www.example.com", "front matter field 'url' 'www.example.com' is not an http(s)"),
        ("title: [a, b]", "front matter field 'title' is list, not text"),
        ("author: 42", "front matter field 'author' is int, not text"),
    ],
)
def test_bad_front_matter_is_a_warning_and_the_field_is_ignored(block: str, warning: str) -> None:
    article = parse_article("x", f"---\n{block}\n---\ndate 2024-05-01 Text here, he said.")
    assert article.warnings[0].startswith(warning), article.warnings
    assert (article.title, article.url, article.author) == ("Text here, he said.", None, None)
    assert article.date == date(2024, 5, 1)
    assert [p.text for p in article.paragraphs] == ["Text here, he said."]


def test_one_bad_field_leaves_the_others() -> None:
    article = parse_article("x", "---\ntitle: Kept\nurl: not a link\n---\nText here.")
    assert article.title == "Kept" and article.url is None
    assert "field 'url'" in article.warnings[0]


def test_front_matter_without_its_closing_line_is_read_as_text() -> None:
    article = parse_article("x", "---\ntitle: Oops\nThe story starts here, she said.")
    assert "without its closing '---'" in article.warnings[0]
    assert [p.text for p in article.paragraphs] == [
        "title: Oops",
        "The story starts here, she said.",
    ]


def test_given_fields_win_over_the_front_matter() -> None:
    given = ArticleFields(title="From the feed", date=date(2022, 6, 13))
    article = parse_article("x", FRONT_MATTER, given)
    assert (article.title, article.date) == ("From the feed", date(2022, 6, 13))
    assert article.author == "Ramishah Maruf"


def test_fields_read_from_json_values() -> None:
    given, problems = article_fields(
        {"date": "2022-06-12", "url": "http://example.com/a", "title": "  A   title ", "tags": [1]}
    )
    assert given == ArticleFields(
        title="A title", url="http://example.com/a", date=date(2022, 6, 12)
    )
    assert problems == []
    _, problems = article_fields({"date": 20220612, "dateline": None})
    assert problems == ["field 'date' '20220612' is not a date (YYYY-MM-DD)"]


def test_a_changed_field_changes_the_content_hash() -> None:
    text = "date 2024-05-01 OSLO, May 1. /NTB/. The budget grows, the minister said."
    plain = parse_article("x", text)
    assert parse_article("x", text).content_hash == plain.content_hash
    assert parse_article("x", text.replace("05-01", "05-02")).content_hash != plain.content_hash
    linked = parse_article("x", text, ArticleFields(url="https://example.com/budget"))
    assert linked.content_hash != plain.content_hash


@pytest.mark.parametrize(
    "block", ["deep: " + "[" * 5000, "width: !!float wide", "when: !!timestamp 2022-13-45"]
)
def test_front_matter_that_breaks_the_yaml_parser_is_a_warning(block: str) -> None:
    article = parse_article("x", f"---\n{block}\n---\nText here.")
    assert article.warnings[0].startswith("front matter is not valid YAML")
    assert [p.text for p in article.paragraphs] == ["Text here."]


@pytest.mark.parametrize(
    ("header", "dateline", "text"),
    [
        ("DALLAS/FORT WORTH, Texas, Mar. 3.", "DALLAS/FORT WORTH, Texas", "AMR Corp said so."),
        ("****SANTO DOMINGO, Mar. 4.", "****SANTO DOMINGO", "The republic sold sugar."),
        ("RIO DE JANEIRO, Feb. 26.", "RIO DE JANEIRO", "inflation plan is limping."),
    ],
)
def test_a_date_header_keeps_any_dateline_it_always_took(
    header: str, dateline: str, text: str
) -> None:
    """Reuters-21578's messy cities and lower-case starts, read as the header always read them."""
    article = parse_article("x", f"date 1987-03-03 {header} /REUTER/. {text}")
    assert (article.dateline, article.agency) == (dateline, "REUTER")
    assert [p.text for p in article.paragraphs] == [text]
