"""The ``dateline`` command as a user runs it: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import faiss

from qa.settings import Settings
from qa.store import Store

from .conftest import (
    ANSWER_KEYS,
    PUTIN_ARTICLE,
    SEEDS,
    SHOIGU_ARTICLE,
    fill_disk,
    one_error_line,
    run_dateline,
)


def test_ask_json_matches_the_api_shape(seeded_settings: Settings) -> None:
    done = run_dateline(
        "ask", "What did Putin say about training?", "--json", data_dir=seeded_settings.data_dir
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == ANSWER_KEYS
    assert set(answer["citations"][0]) == {
        "n",
        "article_id",
        "title",
        "date",
        "dateline",
        "agency",
        "paragraph",
        "text",
        "quote",
        "highlights",
        "speaker",
        "score",
        "url",
        "source_url",
    }
    assert {c["article_id"] for c in answer["citations"]} == {PUTIN_ARTICLE}


def test_ask_prints_numbered_citations(seeded_settings: Settings) -> None:
    done = run_dateline(
        "ask",
        "What did Shoigu say about the CSTO?",
        "--top-k",
        "2",
        data_dir=seeded_settings.data_dir,
    )
    assert done.returncode == 0, done.stderr
    assert "[1] Sergey Shoigu:" in done.stdout and "ASTANA · TASS · paragraph" in done.stdout
    cited = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert cited and not any('“"' in line or "“\u201c" in line for line in cited)
    assert any(line.startswith('[1] Sergey Shoigu: "') for line in cited)


def test_empty_question_is_a_usage_error(seeded_settings: Settings) -> None:
    done = run_dateline("ask", "   ", data_dir=seeded_settings.data_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the question is empty"


def test_ask_as_of_reads_the_window_against_that_day(seeded_settings: Settings) -> None:
    done = run_dateline(
        "ask",
        "What did Shoigu say about color revolutions this week?",
        "--json",
        "--as-of",
        "2024-04-29",
        data_dir=seeded_settings.data_dir,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["time_window"] == {"from": "2024-04-23", "to": "2024-04-29"}
    assert {c["article_id"] for c in answer["citations"]} == {SHOIGU_ARTICLE}


def test_bad_as_of_is_a_usage_error(seeded_settings: Settings) -> None:
    for bad in ("2024-02-30", "last week"):
        done = run_dateline("ask", "anything", "--as-of", bad, data_dir=seeded_settings.data_dir)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == ["error: --as-of takes a date, YYYY-MM-DD"]


def test_no_index_is_one_line_with_the_fix(tmp_path: Path) -> None:
    done = run_dateline("ask", "anything", data_dir=tmp_path / "nothing")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: No index in {tmp_path / 'nothing'}: run `dateline ingest` first."
    ]
    assert not (tmp_path / "nothing").exists()  # asking makes no folder and no empty store


def test_a_question_over_the_api_limit_is_a_usage_error(seeded_settings: Settings) -> None:
    done = run_dateline("ask", "why " * 300, data_dir=seeded_settings.data_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the question is 1,199 characters; at most 1,000 are read"


def test_version_is_the_installed_one() -> None:
    done = subprocess.run([sys.executable, "-m", "qa", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip() == f"dateline {importlib.metadata.version('dateline')}"


def test_every_command_names_its_defaults_and_an_example() -> None:
    for command in ("ingest", "ask", "serve", "backup", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "qa", command, "--help"], capture_output=True, text=True
        )
        assert done.returncode == 0
        assert "(DATELINE_DATA_DIR; default .dateline)" in done.stdout
        assert "{torch,onnx,onnx-int8}" in done.stdout
        assert "(DATELINE_BACKEND; default onnx-int8)" in done.stdout
        assert done.stdout.strip().splitlines()[-1].startswith(f"example: dateline {command}")
    wrong = run_dateline("ask", "q", "--backend", "tensorflow", data_dir=Path("."))
    assert wrong.returncode == 2 and "invalid choice: 'tensorflow'" in wrong.stderr


def test_unknown_model_is_one_line_with_the_fix(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("date 2024-01-01 ROME, January 1. /ANSA/. Hello there.")
    done = run_dateline(
        "ingest",
        "--seeds",
        str(seeds),
        "--model",
        str(tmp_path / "no-model"),
        data_dir=tmp_path / "d",
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("error: Cannot load embedding model")
        and "DATELINE_MODEL" in lines[0]
    )


def test_ingest_of_a_missing_folder(tmp_path: Path) -> None:
    done = run_dateline("ingest", "--seeds", str(tmp_path / "missing"), data_dir=tmp_path / "d")
    assert done.returncode == 2 and "is not a folder" in done.stderr


def test_ingest_of_a_jsonl_file(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    article = {
        "id": "oslo",
        "text": "OSLO (NTB) - The budget will grow by four percent, the minister said.",
        "date": "2024-05-01",
        "url": "https://example.com/oslo-budget",
    }
    feed.write_text(json.dumps(article) + "\n{broken\n", encoding="utf-8")
    done = run_dateline("ingest", "--jsonl", str(feed), data_dir=tmp_path / "d")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 added, 0 updated, 0 removed, 0 unchanged, 1 skipped;")
    assert done.stderr.strip().splitlines() == [
        f"WARNING: skipped {feed} line 2: not JSON "
        "(Expecting property name enclosed in double quotes, column 2)"
    ]
    asked = run_dateline("ask", "How much will the budget grow?", "--json", data_dir=tmp_path / "d")
    assert asked.returncode == 0, asked.stderr
    citation = json.loads(asked.stdout)["citations"][0]
    assert (citation["article_id"], citation["dateline"], citation["agency"]) == (
        "oslo",
        "OSLO",
        "NTB",
    )
    assert citation["source_url"] == "https://example.com/oslo-budget"


def test_ingest_of_a_missing_jsonl_file(tmp_path: Path) -> None:
    done = run_dateline(
        "ingest", "--jsonl", str(tmp_path / "missing.jsonl"), data_dir=tmp_path / "d"
    )
    assert done.returncode == 2 and "is not a JSONL file" in done.stderr


def test_default_backend_exports_once_and_torch_stays_selectable(tmp_path: Path) -> None:
    """Ingest and ask on the default int8 ONNX encoder (exported locally, announced once) over
    an HNSW index, then ask the same archive on torch."""
    environment = {
        "DATELINE_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "DATELINE_INDEX_EXACT_LIMIT": "0",
        "DATELINE_INDEX_FACTORY": "HNSW16,Flat",
    }
    data_dir = tmp_path / "data"
    question = "What did Putin say about training?"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qa", *args, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **environment},
        )

    def cited(done: subprocess.CompletedProcess[str]) -> set[str]:
        assert done.returncode == 0, done.stderr
        citations = json.loads(done.stdout)["citations"]
        assert citations and all("training" in c["text"] for c in citations)
        return {c["article_id"] for c in citations}

    ingested = run("ingest", "--seeds", str(SEEDS))
    assert ingested.returncode == 0, ingested.stderr
    (export,) = (tmp_path / "models" / "onnx").glob("*/onnx/model_qint8.onnx")
    announced = (
        f"Preparing the fast encoder once, about 20 s (an ONNX export into {export.parents[1]})"
    )
    assert ingested.stderr.splitlines() == [announced]
    header = faiss.read_index(str(data_dir / "passages.faiss"))
    assert isinstance(faiss.downcast_index(header.index), faiss.IndexHNSWFlat)

    asked = run("ask", question, "--json")
    assert cited(asked) == {PUTIN_ARTICLE} and asked.stderr == ""
    assert cited(run("ask", question, "--json", "--backend", "torch")) == {PUTIN_ARTICLE}

    refused = run("ask", "anything", "--backend", "tpu")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "backend" in refused.stderr


def test_ingest_reads_a_link_out_of_the_folder_only_when_asked(tmp_path: Path) -> None:
    seeds, etc = tmp_path / "seeds", tmp_path / "etc"
    seeds.mkdir()
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (seeds / "passwd_link.txt").symlink_to(etc / "passwd")
    shutil.copy(SEEDS / f"{PUTIN_ARTICLE}.txt", seeds)
    done = run_dateline("ingest", "--seeds", str(seeds), data_dir=tmp_path / "d")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 added, 0 updated, 0 removed, 0 unchanged, 1 skipped;")
    assert done.stderr.strip().splitlines() == [
        f"WARNING: skipped {seeds / 'passwd_link.txt'}: a link to {etc / 'passwd'}, outside "
        f"{seeds} (see --follow-links)"
    ]
    followed = run_dateline(
        "ingest", "--seeds", str(seeds), "--follow-links", data_dir=tmp_path / "d"
    )
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.startswith("1 added, 0 updated, 0 removed, 1 unchanged, 0 skipped;")


def test_a_full_disk_is_one_line_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    data, seeds = small_disk / "data", tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    assert run_dateline("ingest", "--seeds", str(seeds), data_dir=data).returncode == 0
    putin = (SEEDS / f"{PUTIN_ARTICLE}.txt").read_text()
    # More than SQLite's page cache holds, so that a write fails in mid-transaction and SQLite
    # rolls it back itself (then the store's own ROLLBACK fails too).
    for n in range(120):
        (seeds / f"more{n}.txt").write_text(putin.replace("the ", f"the {n} "))
    fill_disk(small_disk, leave=1536 * 1024)
    error = one_error_line(run_dateline("ingest", "--seeds", str(seeds), data_dir=data))
    assert error.startswith(f"error: the disk holding {data} is full (")
    assert error.endswith(
        "free some space and run `dateline ingest` again; what was stored before is intact"
    )

    # The failed ingest left the index files behind the store: they are rebuilt, cannot be
    # saved, and the archive answers from memory all the same.
    fill_disk(small_disk, leave=0)
    asked = run_dateline("ask", "What did Putin say about training?", "--json", data_dir=data)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["citations"]
    assert (
        "WARNING: the rebuilt index files could not be saved (No space left on device): "
        "answering from memory"
    ) in asked.stderr.splitlines()
    assert not [p.name for p in data.iterdir() if p.name.endswith((".tmp", ".new"))]

    (small_disk / "filler").unlink()
    asked = run_dateline("ask", "What did Putin say about training?", "--json", data_dir=data)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["citations"]
    store = Store(data / "store.sqlite")
    assert {PUTIN_ARTICLE, SHOIGU_ARTICLE} <= set(store.writes.stored_files())
    assert store.integrity_check() == ["ok"]
    store.close()
