"""The ``dateline`` command: ingest, ask, serve, backup, check, feedback export, cluster serve."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import textwrap
from collections.abc import Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, get_args

from pydantic import ValidationError

from qa import __version__
from qa.schema import MAX_QUESTION_CHARS

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
_QUOTATION_MARKS = "\"“”„«»‘’'"


def _quiet_libraries() -> None:
    """Offline by default, and no library progress bars or banners mixed into our output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line, like every other error; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _setting(name: str) -> str:
    """Where a flag's value comes from when it is not given: its variable, then the default."""
    from qa.settings import Settings

    return f"DATELINE_{name.upper()}; default {Settings.model_fields[name].default}"


def _parser() -> argparse.ArgumentParser:
    from qa.settings import Settings

    folder = _Parser(add_help=False)
    folder.add_argument(
        "--data-dir", type=Path, help=f"index folder ({_setting('data_dir')})", metavar="DIR"
    )
    models = _Parser(add_help=False)
    models.add_argument(
        "--model", help=f"sentence-transformers model name or path ({_setting('model')})"
    )
    models.add_argument(
        "--backend",
        choices=get_args(Settings.model_fields["backend"].annotation),
        help=f"encoder runtime ({_setting('backend')})",
    )
    common = _Parser(add_help=False, parents=[folder, models])

    parser = _Parser(prog="dateline", description="Ask a news archive; get cited passages back.")
    parser.add_argument("--version", action="version", version=f"dateline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=summary,
            epilog=f"example: {example}",
        )

    sources = _Parser(add_help=False)
    source = sources.add_mutually_exclusive_group()
    source.add_argument(
        "--seeds",
        type=Path,
        dest="seeds_dir",
        metavar="DIR",
        help=f"folder of articles ({_setting('seeds_dir')})",
    )
    source.add_argument(
        "--jsonl", type=Path, metavar="FILE", help='articles one a line: {"id": ..., "text": ...}'
    )
    sources.add_argument(
        "--follow-links",
        action="store_true",
        help="read links that lead out of the folder (by default they are skipped)",
    )
    sources.add_argument(
        "-v", "--verbose", action="store_true", help="print each article once it is stored"
    )

    ingest = commands.add_parser(
        "ingest",
        parents=[common, sources],
        help="index article files",
        description="index article files",
        epilog="example: dateline ingest --seeds seeds/ -v",
    )
    ingest.add_argument(
        "--rebuild", action="store_true", help="drop the index and build it anew (new model)"
    )

    ask = command(
        "ask", "ask a question", 'dateline ask "What did Putin say about training?" --top-k 2'
    )
    ask.add_argument("question", help=f"at most {MAX_QUESTION_CHARS:,} characters")
    ask.add_argument(
        "--top-k",
        type=int,
        choices=range(1, 11),
        metavar="N",
        help=f"citations, 1..10 ({_setting('top_k')})",
    )
    ask.add_argument("--json", action="store_true", help="print the answer JSON")
    ask.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="ask as on that day (default today): later articles are hidden",
    )

    backup = command(
        "backup",
        "copy the archive into a new folder while it serves",
        "dateline backup /backups/dateline-2026-11-27",
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="a new or empty folder")

    check = command(
        "check", "check the store and the index files, and say the fix", "dateline check --repair"
    )
    check.add_argument(
        "--repair", action="store_true", help="rebuild index files that do not match the store"
    )

    feedback = commands.add_parser(
        "feedback",
        help="readers' verdicts on answers",
        description="Readers' verdicts on answers (POST /api/feedback), kept in the archive.",
    )
    actions = feedback.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export",
        parents=[folder],
        help="write every verdict as CSV",
        description="Write every verdict as CSV (id,created_at,verdict,question,passages).",
        epilog="example: dateline feedback export --output feedback.csv",
    )
    export.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (default: standard output)"
    )

    serve = command(
        "serve", "serve the API and widget", "dateline serve --host 0.0.0.0 --port 8000"
    )
    serve.add_argument("--host", help=f"address to listen on ({_setting('host')})")
    serve.add_argument("--port", type=int, help=f"({_setting('port')})")
    serve.add_argument("--workers", type=int, help=f"server processes ({_setting('workers')})")
    _cluster_parser(commands, models, sources)
    return parser


def _cluster_parser(commands: Any, models: argparse.ArgumentParser, sources: Any) -> None:
    """``dateline cluster ingest|status``: a cluster folder, always named (never the default
    data folder, which holds a single archive)."""
    cluster = commands.add_parser(
        "cluster",
        help="sharded archives on a Ray cluster",
        description="Sharded archives on a Ray cluster (pip install 'dateline[cluster]').",
    )
    actions = cluster.add_subparsers(dest="action", required=True)
    folder = _Parser(add_help=False)
    folder.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="the cluster's folder: a folder per shard, and cluster.json",
    )
    address = _Parser(add_help=False)
    address.add_argument(
        "--address",
        dest="cluster_address",
        metavar="ADDR",
        help="Ray cluster to join, host:port of its head, or auto on one of its nodes"
        " (DATELINE_CLUSTER_ADDRESS; unset: a local Ray, started and stopped)",
    )
    ingest = actions.add_parser(
        "ingest",
        parents=[folder, models, sources, address],
        help="index article files into the shards of a cluster, on Ray",
        description="Index article files into the shards of a cluster, on Ray Data.",
        epilog="example: dateline cluster ingest --shards 4 --seeds seeds/ --data-dir cluster/",
    )
    ingest.add_argument(
        "--shards",
        type=_positive,
        metavar="N",
        help="shards of a new cluster; an existing one moves its buckets to this many (its rows are"
        " copied, nothing is encoded again)",
    )
    ingest.add_argument(
        "--encoders",
        dest="cluster_encoders",
        type=_positive,
        metavar="N",
        help=f"encoder actors ({_setting('cluster_encoders')})",
    )
    serve = actions.add_parser(
        "serve",
        parents=[folder, models, address],
        help="serve the API and widget from a cluster's shards on Ray Serve",
        description="Serve the API and widget from a cluster's shards on Ray Serve: one "
        "deployment per group of shards (by default a node's shards over as many replicas as "
        "it has CPUs), a front with the routes of `dateline serve`.",
        epilog="example: dateline cluster serve --data-dir cluster/ --replicas 2",
    )
    serve.add_argument(
        "--replicas",
        type=_positive,
        dest="cluster_replicas",
        metavar="R",
        help=f"copies of each shard ({_setting('cluster_replicas')})",
    )
    serve.add_argument(
        "--replica-shards",
        type=_natural,
        dest="cluster_replica_shards",
        metavar="N",
        help="shards each replica holds; 0: a node's shards over as many replicas as it has "
        f"CPUs, 1: a deployment per shard ({_setting('cluster_replica_shards')})",
    )
    serve.add_argument("--host", help=f"address to listen on ({_setting('host')})")
    serve.add_argument("--port", type=int, help=f"({_setting('port')})")
    actions.add_parser(
        "status",
        parents=[folder],
        help="the shards of a cluster, their articles and buckets",
        description="The shards of a cluster folder, their articles, buckets and generations.",
        epilog="example: dateline cluster status --data-dir cluster/",
    )


def _natural(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is not 0 or more")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return number


def _settings(args: argparse.Namespace) -> Any:
    from qa.settings import Settings

    names = (
        "data_dir",
        "model",
        "backend",
        "seeds_dir",
        "host",
        "port",
        "workers",
        "cluster_address",
        "cluster_encoders",
        "cluster_replicas",
        "cluster_replica_shards",
    )
    overrides = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return Settings(**overrides)


def _source_problem(args: argparse.Namespace, settings: Any) -> str | None:
    """Why the articles to ingest cannot be read, if they cannot."""
    if args.jsonl is not None and not args.jsonl.is_file():
        return f"{args.jsonl} is not a JSONL file of articles"
    if args.jsonl is None and not settings.seeds_dir.is_dir():
        return f"{settings.seeds_dir} is not a folder of articles"
    return None


def _ingest(args: argparse.Namespace) -> int:
    from qa.factories import index_config, open_encoder, open_store
    from qa.ingest import ingest_directory, ingest_jsonl

    settings = _settings(args)
    problem = _source_problem(args, settings)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(settings)
    if args.rebuild:
        store.writes.clear()
    ingest = (
        partial(ingest_jsonl, args.jsonl)
        if args.jsonl
        else partial(ingest_directory, settings.seeds_dir, follow_links=args.follow_links)
    )
    report = ingest(
        store,
        open_encoder(settings),
        settings.data_dir,
        settings.max_file_bytes,
        index_config=index_config(settings),
        progress=sys.stderr.isatty(),
    )
    counts = store.catalogue.counts()
    print(
        f"{report.summary()}; index: {counts['articles']} articles, {counts['passages']} passages, "
        f"{counts['sentences']} sentences in {settings.data_dir}"
    )
    return 0


def _print_answer(answer: Any) -> None:
    print(textwrap.fill(answer.answer, width=100))
    for c in answer.citations:
        where = " · ".join(
            str(part)
            for part in (c.article_id, c.date, c.dateline, c.agency, f"paragraph {c.paragraph}")
            if part
        )
        print(f"\n[{c.n}] {c.speaker + ': ' if c.speaker else ''}{_in_quotes(c.quote)}")
        print(f"    {where}")


def _in_quotes(quote: str) -> str:
    """The quote in quotation marks, unless it opens with its own ('"The ...," he said.')."""
    return quote if quote[:1] in _QUOTATION_MARKS else f"“{quote}”"


def _ask(args: argparse.Namespace) -> int:
    from qa.archive import Archive
    from qa.errors import EmptyQuestionError
    from qa.questions import clean_question

    try:
        question = clean_question(args.question)
    except EmptyQuestionError:
        print("error: the question is empty", file=sys.stderr)
        return EXIT_USAGE
    if len(question) > MAX_QUESTION_CHARS:
        print(
            f"error: the question is {len(question):,} characters; at most "
            f"{MAX_QUESTION_CHARS:,} are read",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of is not None else None
    except ValueError:
        print("error: --as-of takes a date, YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    archive = Archive.open(_settings(args))
    answer = archive.ask(question, top_k=args.top_k, as_of=as_of)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        _print_answer(answer)
    return 0


def _backup(args: argparse.Namespace) -> int:
    from qa.operations import backup

    data_dir = _settings(args).data_dir
    with_indexes = backup(data_dir, args.destination)
    print(
        f"backed up {data_dir} to {args.destination}; "
        + (
            "its index files came along"
            if with_indexes
            else "its index files changed meanwhile and are rebuilt when the copy is first opened"
        )
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from qa.operations import check, repair

    settings = _settings(args)
    findings = check(settings.data_dir)
    if args.repair and all(f.sound for f in findings if f.part == "store"):
        if not all(f.sound for f in findings):
            unsaved = repair(settings)
            if unsaved is not None:
                print(f"error: the index files could not be saved: {unsaved}", file=sys.stderr)
                return EXIT_ERROR
            print("index files: rebuilt from the store")
        findings = check(settings.data_dir)
    for finding in findings:
        print(f"{finding.part}: {finding.said}")
        if finding.fix:
            print(f"fix: {finding.fix}")
    return 0 if all(f.sound for f in findings) else EXIT_ERROR


def _feedback(args: argparse.Namespace) -> int:
    from qa.feedback import export_feedback

    data_dir = _settings(args).data_dir
    if args.output is None:
        export_feedback(data_dir, sys.stdout)
        return 0
    try:
        output = open(args.output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with output:
        written = export_feedback(data_dir, output)
    print(f"wrote {written} verdict{'' if written == 1 else 's'} to {args.output}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = settings.api_token
    if token is not None and token != token.strip():
        print(
            "error: DATELINE_API_TOKEN begins or ends with whitespace, which is trimmed from "
            "every token a request sends: every write would be refused; remove it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from qa.api.server import serve

    serve(settings)
    return 0


def _cluster(args: argparse.Namespace) -> int:
    action = {"ingest": _cluster_ingest, "serve": _cluster_serve, "status": _cluster_status}
    return action[args.action](args)


def _without_ray() -> bool:
    """Whether Ray is missing, the user then told how to install it.

    Token authentication is chosen first: Ray reads the mode once, as it is imported."""
    import importlib.util

    from qa.cluster.engine import use_token_auth

    use_token_auth()
    if importlib.util.find_spec("ray") is not None:
        return False
    print("error: the cluster commands need Ray: pip install 'dateline[cluster]'", file=sys.stderr)
    return True


def _cluster_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    problem = _source_problem(args, settings)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if _without_ray():
        return EXIT_ERROR
    from qa.cluster.engine import ray_session
    from qa.cluster.ingest import ingest_cluster

    with ray_session(settings.cluster_address):
        report, manifest = ingest_cluster(
            settings,
            shards=args.shards,
            jsonl=args.jsonl,
            follow_links=args.follow_links,
            progress=sys.stderr.isatty(),
        )
    totals = {
        part: sum(getattr(shard, part) for shard in manifest.shards)
        for part in ("articles", "passages", "sentences")
    }
    print(
        f"{report.summary()}; cluster: {len(manifest.shards)} shards, {totals['articles']}"
        f" articles, {totals['passages']} passages, {totals['sentences']} sentences in"
        f" {settings.data_dir}"
    )
    return 0


def _cluster_serve(args: argparse.Namespace) -> int:
    if _without_ray():
        return EXIT_ERROR
    from qa.cluster.serve import serve_cluster

    settings = _settings(args)
    serve_cluster(settings, settings.cluster_address)
    return 0


def _cluster_status(args: argparse.Namespace) -> int:
    from qa.cluster.manifest import load_manifest

    data_dir = _settings(args).data_dir
    manifest = load_manifest(data_dir)
    print(
        f"cluster {data_dir}: {len(manifest.shards)} shards, model {manifest.model}"
        f" ({manifest.dimension} dimensions), generation {manifest.generation}"
    )
    buckets = manifest.bucket_counts()
    header = ("shard", "articles", "passages", "sentences", "buckets", "data generation")
    rows = [
        (
            shard.name,
            *(f"{count:,}" for count in (shard.articles, shard.passages, shard.sentences)),
            f"{buckets[shard.name]:,}",
            f"{shard.data_generation:,}"
            + ("" if manifest.shard_dir(data_dir, shard.name).is_dir() else " (folder missing)"),
        )
        for shard in manifest.shards
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    if manifest.resharding_to is not None:
        print(
            f"moving its buckets to {manifest.resharding_to} shards, unfinished: run `dateline"
            f" cluster ingest --shards {manifest.resharding_to}` to finish"
        )
    for stray in manifest.stray_folders(data_dir):
        print(
            f"{stray.name}: a folder the manifest names no shard for (a move of buckets made or"
            " emptied it; the next `dateline cluster ingest` finishes the move or removes it)"
        )
    return 0


def _storage_error(exc: BaseException, args: argparse.Namespace) -> str | None:
    """One line naming why the data folder or an article could not be read or written; None
    for an error that is not about them (a bug, whose traceback is wanted)."""
    from qa.errors import DiskFullError
    from qa.faults import storage_error

    data_dir: Path = _settings(args).data_dir
    error = storage_error(exc, data_dir)
    if error is None:
        return None
    if not isinstance(error, DiskFullError):
        return str(error)
    if args.command == "ask":
        return f"the disk holding {data_dir} is full ({error.said}): free some space and ask again"
    return (
        f"the disk holding {data_dir} is full ({error.said}): free some space and run "
        f"`dateline {args.command}` again; what was stored before is intact"
    )


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if getattr(args, "verbose", False):
        logging.getLogger("qa").setLevel(logging.INFO)
    from embeddings.errors import EmbeddingError
    from qa.errors import DatelineError

    handlers = {
        "ingest": _ingest,
        "ask": _ask,
        "serve": _serve,
        "backup": _backup,
        "check": _check,
        "feedback": _feedback,
        "cluster": _cluster,
    }
    try:
        return handlers[args.command](args)
    except (DatelineError, EmbeddingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid configuration: {problems}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        problem = _storage_error(exc, args)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_ERROR
