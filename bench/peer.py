"""A peer side by side: txtai's Embeddings and Dateline on the same corpus, questions and model.

The corpus is the passages Dateline cut from the first N Reuters-21578 stories; the questions
are their headlines, and a question is answered when a passage of its own story comes back
(known-item recall@1 and @10). Both run in process, one question at a time, on the same
bundled all-MiniLM-L6-v2: txtai dense (its default, faiss) and txtai hybrid (with its BM25),
against Dateline's hybrid ranker on torch and on ONNX int8.

txtai is never a Dateline dependency: it is installed on first use into its own virtual
environment under the bench cache (with Dateline's torch; txtai chooses its own transformers),
and the benchmark is skipped with a message when that cannot be done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import reuters
from bench.report import emit, percentiles, table

__all__ = ["main"]

ARTICLES = int(os.environ.get("DATELINE_BENCH_PEER_ARTICLES", "2000"))
TXTAI = "txtai==9.14.0"
VENV = reuters.CACHE / "txtai-venv"
WORK = reuters.CACHE / "peer"
INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 3600

# Runs inside the txtai venv: index the corpus (cached), then answer every question.
_TXTAI_WORKER = r"""
import json, os, sys, time
import numpy as np
from txtai import Embeddings

spec = json.load(open(sys.argv[1]))
rows = json.load(open(spec["corpus"]))
questions = json.load(open(spec["questions"]))
results = {}
for name, config in (("txtai dense", {}), ("txtai hybrid", {"hybrid": True})):
    folder = os.path.join(spec["work"], name.replace(" ", "-"))
    embeddings = Embeddings(path=spec["model"], content=False, **config)
    if os.path.exists(os.path.join(folder, "config.json")):
        embeddings.load(folder)
        seconds = json.load(open(os.path.join(folder, "bench-index.json")))["seconds"]
    else:
        started = time.perf_counter()
        embeddings.index([(row["id"], row["text"], None) for row in rows])
        seconds = time.perf_counter() - started
        embeddings.save(folder)
        json.dump({"seconds": seconds}, open(os.path.join(folder, "bench-index.json"), "w"))
    for question in questions[:5]:
        embeddings.search(question, 10)
    latencies, found = [], []
    for question in questions:
        started = time.perf_counter()
        hits = embeddings.search(question, 10)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append([int(hit[0]) for hit in hits])
    results[name] = {"index_seconds": seconds, "latencies_ms": latencies, "ids": found}
json.dump(results, open(spec["out"], "w"))
"""


def _venv_python() -> Path | None:
    """The txtai venv's python, installing it the first time; None (and why) if impossible."""
    python = VENV / "bin" / "python"
    if (VENV / "installed").exists():
        return python
    from importlib.metadata import version

    # Only torch is pinned (to the local CPU wheel); txtai picks its own transformers, which
    # may differ from ours: the model files are the same.
    pins = [f"torch=={version('torch').split('+')[0]}", TXTAI]
    print(f"  installing {TXTAI} into {VENV} (once)…", flush=True)
    try:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(VENV)], check=True, timeout=120
        )
        # pip from this venv installs into the other one: no network fetch of pip itself.
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", *pins],
            check=True,
            timeout=INSTALL_TIMEOUT,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        print(f"  peer benchmark skipped: cannot install txtai ({exc}) {detail[-500:]!r}")
        return None
    (VENV / "installed").touch()
    return python


def _dateline_data_dir(backend: str) -> Path:
    """The first ARTICLES Reuters stories ingested by Dateline (once; cached)."""
    folder = reuters.first_articles(ARTICLES, WORK / f"articles-{ARTICLES}")
    data_dir = WORK / f"dateline-{ARTICLES}-{reuters.encoder_tag(backend)}"
    return reuters.ingested(folder, data_dir, backend)


def _dateline(data_dir: Path, backend: str, questions: list[str]) -> dict[str, Any]:
    from embeddings.encoder import Encoder
    from qa.archive import Archive
    from qa.settings import Settings

    settings = Settings(data_dir=data_dir)
    archive = Archive.open(settings, Encoder(settings.model, settings.batch_size, backend=backend))
    hits_of: list[list[str]] = []
    latencies: list[float] = []
    for question in questions[:5]:
        archive.search(question, 10)
    for question in questions:
        started = time.perf_counter()
        hits = archive.search(question, 10)
        latencies.append((time.perf_counter() - started) * 1000)
        hits_of.append([hit.article_id for hit in hits])
    archive.close()
    seconds = json.loads((data_dir / "bench-complete.json").read_text())["seconds"]
    return {"index_seconds": seconds, "latencies_ms": latencies, "articles": hits_of}


def _recall(found: list[list[str]], wanted: list[str]) -> tuple[float, float]:
    at1 = np.mean([bool(f) and f[0] == w for f, w in zip(found, wanted, strict=True)])
    at10 = np.mean([w in f[:10] for f, w in zip(found, wanted, strict=True)])
    return float(at1), float(at10)


def main() -> None:
    python = _venv_python()
    if python is None:
        emit({"benchmark": "peer", "skipped": "txtai could not be installed"})
        return
    import sqlite3

    from embeddings.encoder import resolve_model_path

    data_dirs = {backend: _dateline_data_dir(backend) for backend in ("torch", "onnx-int8")}
    with sqlite3.connect(f"file:{data_dirs['torch'] / 'store.sqlite'}?mode=ro", uri=True) as db:
        passages = db.execute("SELECT id, article_id, text FROM passages ORDER BY id").fetchall()
    article_of = {int(row[0]): str(row[1]) for row in passages}
    in_corpus = set(article_of.values())
    pairs = [(q, a) for q, a in reuters.questions() if a in in_corpus]
    questions, wanted = [q for q, _ in pairs], [a for _, a in pairs]
    print(
        f"  {len(passages):,} passages from {len(in_corpus):,} stories; "
        f"{len(questions):,} headline questions",
        flush=True,
    )
    WORK.mkdir(parents=True, exist_ok=True)
    corpus = WORK / f"corpus-{ARTICLES}.json"
    corpus.write_text(json.dumps([{"id": int(r[0]), "text": r[2]} for r in passages]))
    (WORK / "questions.json").write_text(json.dumps(questions))
    (WORK / "worker.py").write_text(_TXTAI_WORKER)
    spec = {
        "corpus": str(corpus),
        "questions": str(WORK / "questions.json"),
        "model": resolve_model_path("all-MiniLM-L6-v2"),
        "work": str(WORK / f"txtai-{ARTICLES}"),
        "out": str(WORK / "txtai-results.json"),
    }
    (WORK / "spec.json").write_text(json.dumps(spec))
    print("  txtai: indexing (first run only) and searching…", flush=True)
    completed = subprocess.run(
        [str(python), str(WORK / "worker.py"), str(WORK / "spec.json")],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        check=False,
    )
    if completed.returncode != 0:
        print(f"  peer benchmark skipped: txtai failed: {completed.stderr[-1500:]}")
        emit({"benchmark": "peer", "skipped": "txtai failed to run"})
        return
    results: dict[str, dict[str, Any]] = json.loads(Path(spec["out"]).read_text())
    for result in results.values():
        result["articles"] = [[article_of.get(i, "") for i in ids] for ids in result.pop("ids")]
    for backend, data_dir in data_dirs.items():
        print(f"  Dateline ({backend}): searching…", flush=True)
        results[f"Dateline hybrid ({backend})"] = _dateline(data_dir, backend, questions)
    rows = []
    for name, result in results.items():
        at1, at10 = _recall(result["articles"], wanted)
        latency = percentiles(result["latencies_ms"])
        rows.append(
            {
                "system": name,
                "recall_at1": round(at1, 4),
                "recall_at10": round(at10, 4),
                "p50_ms": latency["p50"],
                "p95_ms": latency["p95"],
                "index_s": round(result["index_seconds"], 1),
            }
        )
    table(
        f"Same corpus ({len(passages):,} Reuters passages), same {len(questions):,} headline "
        "questions, same model; in process, one question at a time",
        ["system", "recall@1", "recall@10", "p50 ms", "p95 ms", "index s"],
        [list(r.values()) for r in rows],
    )
    emit(
        {
            "benchmark": "peer",
            "passages": len(passages),
            "questions": len(questions),
            "txtai": TXTAI,
            "rows": rows,
        }
    )
