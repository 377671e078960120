"""``python -m bench cluster_serve``: a cluster on Ray Serve against the single archive, over
HTTP on loopback, holding the same Reuters articles.

The single archive (``dateline serve``) and clusters of 2 and 4 shards (``dateline cluster
serve`` on a local Ray: one replica holding every shard of the node, as by default; and the 4
shards with a deployment each, ``DATELINE_CLUSTER_REPLICA_SHARDS=1``, for comparison) hold the
first ``ARTICLES`` Reuters stories, rows copied from the cached Reuters archive: every side
ranks the very same vectors, and nothing is encoded again. One layout runs at a time, beside
the single archive (an idle cluster's Ray takes CPU from the one measured), and one client asks
both the same headlines in turn, each new to either server (no question cache hits): p50 and
p99 of /api/chat and /api/search, and their ratio to the single archive's. Agreement: the share
of questions whose chat citations, and whose search top 10, are the single archive's, in order.

In process, without Ray or HTTP, the same questions through the single archive and through a
cluster whose shards are in the process (``ClusterArchive.open``): what a cluster's fan-out
costs apart from Ray's hops.

Targets: 4 shards' /api/chat p50 <= 2x the single archive's; agreement 1.000; no errors and
no partial answers.
"""

from __future__ import annotations

import http.client
import json
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import reuters
from bench.live import Server, running_server
from bench.report import emit, percentiles, table
from bench.shards import split_archive

__all__ = ["main"]

ARTICLES = 3000
LAYOUTS = (2, 4)
# (shards, shards a replica holds: 0 as by default, those of the node) of each cluster served.
SERVED = ((2, 0), (4, 0), (4, 1))
WARM_UP, QUESTIONS = 20, 300
BACKEND = "onnx-int8"
TARGET_RATIO = 2.0
WORK = reuters.CACHE / "cluster-serve"

Reply = dict[str, Any]
Request = tuple[str, str, Any]  # method, path, JSON body


def _corpus() -> tuple[Path, dict[int, Path], list[str]]:
    """The single archive of ``ARTICLES`` stories, its clusters, and their headlines as
    questions (built once; cached)."""
    from qa.archive import Archive
    from qa.factories import open_encoder, open_store
    from qa.settings import Settings
    from qa.store import STORE_FILE

    source = reuters.ingested_archive("torch")
    single = Settings(data_dir=WORK / f"single-{ARTICLES}", backend=BACKEND)
    clusters = {n: WORK / f"cluster-{ARTICLES}-{n}" for n in LAYOUTS}
    chosen = sorted(p.stem for p in reuters.article_files().iterdir())[:ARTICLES]
    stamp = WORK / f"built-{ARTICLES}.json"
    if not stamp.exists():
        shutil.rmtree(WORK, ignore_errors=True)
        started = time.perf_counter()
        encoder = open_encoder(single)
        store = open_store(single)
        store.writes.copy_articles(source / STORE_FILE, chosen)
        store.close()
        Archive.open(single, encoder).close()  # builds its indexes
        for n, folder in clusters.items():
            split_archive(single, n, folder, encoder)
        stamp.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1)}))
    held = set(chosen)
    questions = [question for question, article in reuters.questions() if article in held]
    return single.data_dir, clusters, questions


def _request(connection: http.client.HTTPConnection, method: str, path: str, body: Any) -> Reply:
    payload = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if payload else {}
    connection.request(method, path, body=payload, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    if answer.status != 200:
        return {"status": answer.status}
    reply: Reply = json.loads(data)
    return {"status": 200, **reply}


def _chat(question: str) -> Request:
    return "POST", "/api/chat", {"question": question}


def _search(question: str) -> Request:
    return "GET", f"/api/search?{urllib.parse.urlencode({'q': question, 'k': 10})}", None


def _ask_in_turn(
    servers: dict[str, Server], questions: list[str], make: Callable[[str], Request]
) -> dict[str, tuple[list[float], list[Reply]]]:
    """Each question asked of each server in turn, one at a time (the machine's slow spells
    fall on all of them alike), each server on its own keep-alive connection."""
    connections = {
        label: http.client.HTTPConnection(server.host, server.port, timeout=60)
        for label, server in servers.items()
    }
    found: dict[str, tuple[list[float], list[Reply]]] = {label: ([], []) for label in servers}
    try:
        for question in questions:
            for label, connection in connections.items():
                started = time.perf_counter()
                reply = _request(connection, *make(question))
                found[label][0].append((time.perf_counter() - started) * 1000)
                found[label][1].append(reply)
    finally:
        for connection in connections.values():
            connection.close()
    return found


def _places(reply: Reply, key: str) -> list[tuple[str, int]]:
    return [(item["article_id"], item["paragraph"]) for item in reply.get(key, [])]


def _measure(servers: dict[str, Server], questions: list[str]) -> list[dict[str, Any]]:
    warm, chat_questions = questions[:WARM_UP], questions[WARM_UP : WARM_UP + QUESTIONS]
    search_questions = questions[WARM_UP + QUESTIONS : WARM_UP + 2 * QUESTIONS]
    _ask_in_turn(servers, warm, _chat)
    chats = _ask_in_turn(servers, chat_questions, _chat)
    searches = _ask_in_turn(servers, search_questions, _search)
    rows = []
    for label, server in servers.items():
        (chat_ms, chat_replies), (search_ms, search_replies) = chats[label], searches[label]
        replies = chat_replies + search_replies
        row = {
            "server": label,
            "chat": percentiles(chat_ms),
            "search": percentiles(search_ms),
            "errors": sum(reply["status"] != 200 for reply in replies),
            "partial": sum(bool(reply.get("partial")) for reply in replies),
            "ready_s": round(server.ready_seconds, 1),
            "citations": [_places(reply, "citations") for reply in chat_replies],
            "hits": [_places(reply, "hits") for reply in search_replies],
        }
        print(
            f"  {label}: chat p50 {row['chat']['p50']} ms, search p50 {row['search']['p50']} "
            f"ms, {row['errors']} errors, {row['partial']} partial, ready in {row['ready_s']} s",
            flush=True,
        )
        rows.append(row)
    return rows


def _in_process(single_dir: Path, clusters: dict[int, Path], questions: list[str]) -> list[Any]:
    """``ask`` p50 without HTTP or Ray: the single archive, and clusters of in-process shards."""
    from qa.archive import Archive
    from qa.cluster.archive import ClusterArchive
    from qa.factories import open_encoder
    from qa.settings import Settings

    settings = Settings(data_dir=single_dir, backend=BACKEND)
    encoder = open_encoder(settings)
    sides: dict[str, Any] = {"single archive": Archive.open(settings, encoder)}
    for n, folder in clusters.items():
        cluster = settings.model_copy(update={"data_dir": folder})
        sides[f"{n} shards in process"] = ClusterArchive.open(cluster, encoder)
    rows = []
    for label, side in sides.items():
        for question in questions[:WARM_UP]:
            side.ask(question)
        samples = []
        for question in questions[WARM_UP : WARM_UP + QUESTIONS]:
            started = time.perf_counter()
            side.ask(question)
            samples.append((time.perf_counter() - started) * 1000)
        side.close()
        rows.append([label, percentiles(samples)["p50"], percentiles(samples)["p99"]])
    return rows


def _agreement(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    single = rows[0][key]
    return {
        row["server"]: round(
            sum(a == b for a, b in zip(row[key], single, strict=True)) / len(single), 3
        )
        for row in rows[1:]
    }


def main() -> None:
    single_dir, clusters, questions = _corpus()
    needed = WARM_UP + 2 * QUESTIONS
    print(
        f"  {ARTICLES:,} Reuters articles; {len(questions):,} headlines, {needed} asked of "
        "each layout and of the single archive beside it",
        flush=True,
    )
    logs = Path(tempfile.mkdtemp(prefix="dateline-cluster-serve-"))
    phases: dict[str, list[dict[str, Any]]] = {}
    # One layout runs at a time: an idle cluster's Ray still takes CPU from the one measured.
    with running_server(single_dir, logs / "single.log", BACKEND) as single:
        for turn, (n, grouped) in enumerate(SERVED):
            name = f"{n} shards" + (", a deployment each" if grouped == 1 else "")
            command = ("cluster", "serve", "--data-dir", str(clusters[n]))
            log = logs / f"cluster-{turn}.log"
            environment = {"DATELINE_CLUSTER_REPLICA_SHARDS": str(grouped)}
            with running_server(clusters[n], log, BACKEND, 600, command, **environment) as shards:
                servers = {f"single archive, beside {name}": single}
                servers[f"{name} (Ray Serve)"] = shards
                phases[name] = _measure(servers, questions[turn * needed : (turn + 1) * needed])
    shutil.rmtree(logs, ignore_errors=True)
    rows = [row for phase in phases.values() for row in phase]
    in_process = _in_process(single_dir, clusters, questions)

    table(
        f"Over HTTP, 1 client, {QUESTIONS} new questions each ({ARTICLES:,} Reuters articles, "
        f"{BACKEND}); each layout beside the single archive, one layout at a time",
        ["server", "chat p50", "chat p99", "search p50", "search p99", "errors", "partial"],
        [
            [
                r["server"],
                r["chat"]["p50"],
                r["chat"]["p99"],
                r["search"]["p50"],
                r["search"]["p99"],
                r["errors"],
                r["partial"],
            ]
            for r in rows
        ],
    )
    table("Archive.ask in process (no HTTP, no Ray)", ["side", "p50 ms", "p99 ms"], in_process)
    agreement = {
        key: {
            name: value
            for phase in phases.values()
            for name, value in _agreement(phase, field).items()
        }
        for key, field in (("chat", "citations"), ("search", "hits"))
    }
    table(
        "Agreement with the single archive (same citations / same top 10, in order)",
        ["server", "chat", "search"],
        [[name, agreement["chat"][name], agreement["search"][name]] for name in agreement["chat"]],
    )
    ratios = {
        name: phase[1]["chat"]["p50"] / phase[0]["chat"]["p50"] for name, phase in phases.items()
    }
    targets = {
        f"4_shards_chat_p50<={TARGET_RATIO}x_single": ratios["4 shards"] <= TARGET_RATIO,
        "agreement_1.000": all(v == 1.0 for side in agreement.values() for v in side.values()),
        "no_errors_no_partial": all(r["errors"] == 0 and r["partial"] == 0 for r in rows),
    }
    print(
        "  chat p50 / the single archive's beside it: "
        + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
        + "; targets: "
        + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in targets.items()),
        flush=True,
    )
    emit(
        {
            "benchmark": "cluster_serve",
            "articles": ARTICLES,
            "questions": QUESTIONS,
            "rows": [{k: v for k, v in r.items() if k not in ("citations", "hits")} for r in rows],
            "chat_p50_ratios": {name: round(ratio, 3) for name, ratio in ratios.items()},
            "in_process": in_process,
            "agreement": agreement,
            "targets": targets,
        }
    )
