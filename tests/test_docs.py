"""The README and docs/: every link between them lands on a file and heading that exist, every
screenshot is shown somewhere, and every benchmark ``python -m bench`` runs has its section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS, PARTS

from .conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ *```.*?^ *```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def _prose(path: Path) -> str:
    """The file without code blocks and code spans, where brackets are no links."""
    return _CODE.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))


def _anchors(path: Path) -> set[str]:
    """GitHub's anchor for each heading: its text in lower case, without punctuation other than
    hyphens and underscores, spaces made hyphens (a repeated one gets -1, -2, ...)."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _HEADING.findall(text):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _broken_links(path: Path) -> list[str]:
    broken = []
    for target in _LINK.findall(_prose(path)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not ours to check offline
        file, _, anchor = target.partition("#")
        landing = (path.parent / file).resolve() if file else path
        if not landing.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in _anchors(landing):
            broken.append(f"{target}: no such heading in {landing.name}")
    return broken


@pytest.mark.parametrize("path", DOCS, ids=[path.name for path in DOCS])
def test_every_link_lands_on_a_file_and_heading_that_exist(path: Path) -> None:
    assert _broken_links(path) == []


def test_the_checker_finds_a_link_to_a_missing_heading_or_file(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Two words, `code`\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#two-words-code) [self](#page) `[code](#nowhere)`\n"
        "[missing](#nowhere) [gone](gone.md) [wrong](other.md#two-words)\n",
        encoding="utf-8",
    )
    assert _broken_links(page) == [
        "#nowhere: no such heading in page.md",
        "gone.md: no such file",
        "other.md#two-words: no such heading in other.md",
    ]


def test_every_screenshot_is_shown_in_the_docs() -> None:
    shown = "\n".join(_prose(path) for path in DOCS)
    unshown = [
        image.name
        for image in sorted((REPO / "docs" / "screenshots").glob("*.png"))
        if f"screenshots/{image.name})" not in shown
    ]
    assert unshown == []


@pytest.mark.parametrize("name", [*BENCHMARKS, *PARTS])
def test_every_benchmark_has_its_section(name: str) -> None:
    anchors = _anchors(REPO / "docs" / "benchmarks.md")
    assert name in anchors or any(anchor.startswith(f"{name}-") for anchor in anchors)
