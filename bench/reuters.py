"""Reuters-21578 as Dateline articles: SGML in, wire-format files out (cached outside the repo).

Each story with a body and a dateline becomes ``reut-NNNNN.txt``::

    date 1987-02-26 SALVADOR, Feb 26. /REUTER/. Showers continued throughout the week in ...
    The dry period means the temporao will be late this year.

one paragraph per line (the SGML wraps lines at 70 columns and indents paragraphs). The title
of each story is kept apart as a question for the latency and peer benchmarks.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CACHE",
    "DATA",
    "ReutersStory",
    "article_files",
    "first_articles",
    "ingested",
    "ingested_archive",
    "questions",
    "stories",
]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path(os.environ.get("DATELINE_BENCH_CACHE", "~/.cache/dateline-bench")).expanduser()
_SOURCE = DATA / "reuters21578"
_FORMAT_VERSION = 1

_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.DOTALL)
_FIELD = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.DOTALL)
    for name in ("DATE", "TITLE", "DATELINE", "BODY")
}
_DATELINE = re.compile(r"^\s*(?P<city>.+?),\s+(?P<month>[A-Z][a-z]{2})\w*\.?\s+(?P<day>\d{1,2})")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_SIGN_OFF = re.compile(r"\s*\bReuter\s*$|\s*\x03\s*$")


@dataclass(frozen=True)
class ReutersStory:
    article_id: str
    title: str
    text: str  # the article file's content, header first


def _date(raw: str) -> str | None:
    match = re.match(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})", raw)
    if match is None or match.group(2) not in _MONTHS:
        return None
    day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _paragraphs(body: str) -> list[str]:
    body = _SIGN_OFF.sub("", html.unescape(body).replace("\x03", "")).rstrip()
    paragraphs: list[str] = []
    for line in body.split("\n"):
        if not line.strip():
            continue
        if line.startswith((" ", "\t")) or not paragraphs:
            paragraphs.append(line.strip())
        else:  # a wrapped line continues the paragraph above it
            paragraphs[-1] = f"{paragraphs[-1]} {line.strip()}"
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


def _story(newid: str, sgml: str) -> ReutersStory | None:
    fields = {name: pattern.search(sgml) for name, pattern in _FIELD.items()}
    body, dateline, date = fields["BODY"], fields["DATELINE"], fields["DATE"]
    if body is None or dateline is None or date is None:
        return None
    iso = _date(date.group(1))
    place = _DATELINE.match(html.unescape(dateline.group(1)))
    paragraphs = _paragraphs(body.group(1))
    if iso is None or place is None or not paragraphs:
        return None
    city = " ".join(place.group("city").split()).strip(",")
    header = f"date {iso} {city}, {place.group('month')}. {int(place.group('day'))}. /REUTER/."
    title = fields["TITLE"]
    return ReutersStory(
        article_id=f"reut-{int(newid):05d}",
        title=" ".join(html.unescape(title.group(1)).split()) if title else "",
        text="\n".join([f"{header} {paragraphs[0]}", *paragraphs[1:]]) + "\n",
    )


def stories() -> list[ReutersStory]:
    """Every story of the 22 SGML files that has a date, a dateline and a body."""
    found: list[ReutersStory] = []
    for path in sorted(_SOURCE.glob("reut2-*.sgm")):
        raw = path.read_bytes().decode("latin-1")
        for match in _STORY.finditer(raw):
            story = _story(match.group(1), match.group(2))
            if story is not None:
                found.append(story)
    return found


def article_files() -> Path:
    """The folder of article files, written once into the bench cache."""
    folder = CACHE / "reuters" / "articles"
    stamp = CACHE / "reuters" / "articles.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("version") == _FORMAT_VERSION:
        return folder
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    found = stories()
    for story in found:
        (folder / f"{story.article_id}.txt").write_text(story.text, encoding="utf-8")
    titles = {s.article_id: s.title for s in found}
    (CACHE / "reuters" / "titles.json").write_text(json.dumps(titles))
    stamp.write_text(json.dumps({"version": _FORMAT_VERSION, "articles": len(found)}))
    print(
        f"  wrote {len(found):,} Reuters articles to {folder} in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return folder


def questions(limit: int | None = None) -> list[tuple[str, str]]:
    """(question, article id) pairs: each story's title asked as a question, titles deduplicated.

    Titles are short, headline-style known-item queries: the relevant passages are those of
    the story the title heads.
    """
    article_files()
    titles: dict[str, str] = json.loads((CACHE / "reuters" / "titles.json").read_text())
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for article_id, title in sorted(titles.items()):
        words = title.split()
        key = title.lower()
        if len(words) < 3 or key in seen:
            continue
        seen.add(key)
        pairs.append((f"What is the news on {title.lower()}?", article_id))
    return pairs[:limit] if limit else pairs


def first_articles(count: int, folder: Path) -> Path:
    """The first ``count`` Reuters articles, copied into ``folder`` (once): an ingest skips a
    link that leads out of the folder it reads, so links (as earlier runs made) are replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(article_files().iterdir())[:count]:
        copy = folder / path.name
        if copy.is_symlink() or not copy.exists():
            copy.unlink(missing_ok=True)
            shutil.copyfile(path, copy)
    return folder


def ingested(folder: Path, data_dir: Path, backend: str, *, progress: bool = False) -> Path:
    """``data_dir`` holding ``folder`` ingested with ``backend`` (built once; cached).

    ``bench-complete.json`` beside the index records how long the ingest took and what it
    holds; its presence says the ingest finished.
    """
    from qa.factories import open_encoder, open_store
    from qa.ingest import ingest_directory
    from qa.settings import Settings

    stamp = data_dir / "bench-complete.json"
    if stamp.exists():
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(seeds_dir=folder, data_dir=data_dir, backend=backend)
    store = open_store(settings)
    started = time.perf_counter()
    report = ingest_directory(
        folder, store, open_encoder(settings), data_dir, settings.max_file_bytes, progress=progress
    )
    elapsed = time.perf_counter() - started
    record = {"seconds": round(elapsed, 1), **store.catalogue.counts(), "summary": report.summary()}
    store.close()
    stamp.write_text(json.dumps(record))
    return data_dir


def encoder_tag(backend: str) -> str:
    """``backend``, and for the ONNX ones the export's key: an archive cached by a benchmark
    is ingested anew when the export changes (another int8 preset, a library update), so
    its vectors always come from the encoder that asks."""
    if backend == "torch":
        return backend
    from embeddings.encoder import export_onnx
    from qa.settings import Settings

    return f"{backend}-{export_onnx(Settings().model).name.rsplit('-', 1)[-1]}"


def archive_dir(backend: str) -> Path:
    """Where the whole Reuters corpus ingested with ``backend`` is cached."""
    return CACHE / "reuters" / f"data-{encoder_tag(backend)}"


def ingested_archive(backend: str) -> Path:
    """A data dir holding the whole Reuters corpus ingested with ``backend`` (built once)."""
    data_dir = archive_dir(backend)
    if not (data_dir / "bench-complete.json").exists():
        print(
            f"  ingesting the Reuters corpus with the {backend} backend (once; cached)", flush=True
        )
    return ingested(article_files(), data_dir, backend, progress=True)
