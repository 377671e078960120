"""The bad-input catalogue, one fixture each, ingested together with the real model."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.articles import parse_article
from qa.factories import open_store
from qa.indexes import IndexFolder
from qa.ingest import IngestReport, ingest_directory
from qa.passages import split_article
from qa.settings import Settings

from .conftest import PUTIN_ARTICLE, SEEDS

HEADER = "date 2024-05-01 GENEVA, May 1. /AFP/. "
FACT = "The secret launch code of the Zephyrine satellite is seven seven four."
FILLER = (
    "Delegates from many countries reviewed routine budget tables, travel schedules and "
    "committee minutes without any notable decisions. "
)


def _long_paragraph(encoder: Encoder) -> str:
    """About 2,000 wordpieces with one fact near wordpiece 1,500."""
    before = FILLER * (1500 // encoder.count_tokens(FILLER))
    after = FILLER * (500 // encoder.count_tokens(FILLER))
    return before + FACT + " " + after


CATALOGUE: dict[str, bytes | None] = {
    "bom.txt": ("\ufeff" + HEADER + "The café opened with a BOM, the mayor said.").encode(),
    "cp1251.txt": (HEADER + "Министр заявил, что переговоры продолжатся в среду.").encode("cp1251"),
    "latin1.txt": (HEADER + "Le ministre a déclaré que la réunion était très utile.").encode(
        "latin-1"
    ),
    "crlf.txt": (HEADER + "First line in CRLF.\r\nSecond line in CRLF.\r\n").encode(),
    "lone_cr.txt": (HEADER + "First line with CR.\rSecond line with CR.").encode(),
    "no_date.txt": b"A story without any header line at all.\nIt still counts.",
    "garbled_date.txt": b"date 2024-99-99 GENEVA, May 1. /AFP/. The date is nonsense.",
    "empty.txt": b"",
    "whitespace.txt": b" \n\t \r\n  ",
    "binary.txt": b"\x7fELF\x02\x01\x01\x00\x00\x00",
    "huge.txt": None,  # 50 MB, written by the fixture
    "duplicate.txt": None,  # the Putin seed under another name
    "long.txt": None,  # a 2,000-wordpiece paragraph
}
SKIPPED = {"empty.txt", "whitespace.txt", "binary.txt", "huge.txt", "duplicate.txt"}


@pytest.fixture(scope="module")
def ingested(
    tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> tuple[Settings, IngestReport, list[str]]:
    root = tmp_path_factory.mktemp("catalogue")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for name, content in CATALOGUE.items():
        if content is not None:
            (seeds / name).write_bytes(content)
    with open(seeds / "huge.txt", "wb") as huge:
        huge.truncate(50 * 1024 * 1024)
    shutil.copy(SEEDS / f"{PUTIN_ARTICLE}.txt", seeds / "duplicate.txt")
    (seeds / "long.txt").write_text(HEADER + _long_paragraph(encoder))
    settings = Settings(seeds_dir=seeds, data_dir=root / "data")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("qa").addHandler(handler)
    try:
        report = ingest_directory(
            seeds,
            open_store(settings),
            encoder,
            settings.data_dir,
            settings.max_file_bytes,
            progress=False,
        )
    finally:
        logging.getLogger("qa").removeHandler(handler)
    return settings, report, records


def test_every_bad_file_is_skipped_with_one_warning(
    ingested: tuple[Settings, IngestReport, list[str]],
) -> None:
    _, report, records = ingested
    assert {Path(path).name for path, _ in report.skipped} == SKIPPED
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert "too large" in reasons["huge.txt"] and "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["whitespace.txt"]
    assert reasons["duplicate.txt"] == f"same text as article {PUTIN_ARTICLE!r}"
    for name in SKIPPED:
        assert len([r for r in records if r.startswith("skipped") and name in r]) == 1


def test_everything_else_is_indexed(ingested: tuple[Settings, IngestReport, list[str]]) -> None:
    settings, report, records = ingested
    expected = {Path(name).stem for name in CATALOGUE} - {Path(n).stem for n in SKIPPED}
    assert set(report.added) == expected | {PUTIN_ARTICLE, "000_ef33a5cbffaa45bf"}
    store = open_store(settings)

    def paragraphs(article_id: str) -> list[str]:
        found = store.catalogue.article(article_id)
        assert found is not None
        return [p.text for p in found[1]]

    assert paragraphs("bom")[0].startswith("The café")
    assert paragraphs("cp1251") == ["Министр заявил, что переговоры продолжатся в среду."]
    assert paragraphs("latin1") == ["Le ministre a déclaré que la réunion était très utile."]
    assert paragraphs("crlf") == ["First line in CRLF.", "Second line in CRLF."]
    assert paragraphs("lone_cr") == ["First line with CR.", "Second line with CR."]
    no_date = store.catalogue.article("no_date")
    garbled = store.catalogue.article("garbled_date")
    assert no_date is not None and no_date[0].date is None
    assert garbled is not None and garbled[0].date is None and garbled[0].dateline == "GENEVA"
    assert any("no_date.txt" in r and "header" in r for r in records)
    assert any("garbled_date.txt" in r and "unreadable date" in r for r in records)


def test_fact_deep_in_a_long_paragraph_is_found(
    ingested: tuple[Settings, IngestReport, list[str]], encoder: Encoder
) -> None:
    settings, _, _ = ingested
    archive = Archive.open(settings, encoder)
    found = archive.store.catalogue.article("long")
    assert found is not None and found[0].passages >= 8  # windows, not one truncated passage
    answer = archive.ask("What is the launch code of the Zephyrine satellite?")
    assert answer.citations and answer.citations[0].article_id == "long"
    assert FACT in answer.citations[0].quote
    archive.close()


# -- files that change or turn odd while ingest runs; one enormous line ----------------------


def _story(place: str) -> str:
    return f"{HEADER}The {place} budget will grow by four percent, the minister said.\n"


def _ingest_when_warned(
    seeds: Path, data: Path, encoder: Encoder, meanwhile: Callable[[], None]
) -> IngestReport:
    """Ingest ``seeds``, calling ``meanwhile`` at its first warning (on the first file, which
    is binary): what a user does to the folder while ingest runs, at a chosen moment."""
    settings = Settings(seeds_dir=seeds, data_dir=data)
    (seeds / "a.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    called: list[bool] = []

    class Meanwhile(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not called:
                called.append(True)
                meanwhile()

    handler = Meanwhile(logging.WARNING)
    logging.getLogger("qa").addHandler(handler)
    reports: list[IngestReport] = []
    try:
        # A thread, so that an ingest that blocks fails the test instead of hanging it.
        worker = threading.Thread(
            target=lambda: reports.append(
                ingest_directory(
                    seeds,
                    open_store(settings),
                    encoder,
                    data,
                    settings.max_file_bytes,
                    progress=False,
                )
            ),
            daemon=True,
        )
        worker.start()
        worker.join(timeout=120)
    finally:
        logging.getLogger("qa").removeHandler(handler)
    assert not worker.is_alive(), "ingest blocked"
    assert called and reports
    return reports[0]


def test_a_file_deleted_while_ingest_runs_is_skipped(tmp_path: Path, encoder: Encoder) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "b.txt").write_text(_story("Oslo"))
    (seeds / "c.txt").write_text(_story("Bergen"))
    report = _ingest_when_warned(seeds, tmp_path / "data", encoder, (seeds / "b.txt").unlink)
    assert report.added == ["c"]
    assert report.skipped[1:] == [
        (str(seeds / "b.txt"), "gone (deleted while ingest ran, or a broken link)")
    ]
    store = open_store(Settings(data_dir=tmp_path / "data"))
    assert IndexFolder(store, tmp_path / "data").verify().passages.count == 1


def test_a_file_swapped_for_a_fifo_is_skipped_without_blocking(
    tmp_path: Path, encoder: Encoder
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "b.txt").write_text(_story("Oslo"))
    (seeds / "c.txt").write_text(_story("Bergen"))

    def swap() -> None:
        (seeds / "b.txt").unlink()
        os.mkfifo(seeds / "b.txt")

    report = _ingest_when_warned(seeds, tmp_path / "data", encoder, swap)
    assert report.added == ["c"]
    assert report.skipped[1:] == [(str(seeds / "b.txt"), "not a regular file")]


def test_one_enormous_line_is_split_in_bounded_work(encoder: Encoder) -> None:
    """A 1 MB line without full stops: the tokens are never counted whole (memory), and
    over-long sentences are not counted word by word (minutes on a 10 MB line)."""
    words = [f"delegate{i % 97} reviewed tables" for i in range(40_000)]
    article = parse_article("huge", " ".join(words))
    counted: list[int] = []

    def count_tokens(text: str) -> int:
        counted.append(len(text))
        return encoder.count_tokens(text)

    passages, _ = split_article(article, count_tokens, encoder.window_tokens)
    text = article.paragraphs[0].text
    assert len(text) > 1_000_000 and " ".join(p.text for p in passages) == text
    assert all(encoder.count_tokens(p.text) <= encoder.window_tokens for p in passages)
    assert max(counted) <= 16 * encoder.window_tokens
    assert len(counted) < len(text.split()) / 10
