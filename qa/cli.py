"""The ``dateline`` command: ingest, ask, serve, backup, check."""

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
from typing import Any

from pydantic import ValidationError

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2


def _quiet_libraries() -> None:
    """Offline by default, and no library progress bars or banners mixed into our output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="index folder (DATELINE_DATA_DIR)")
    common.add_argument("--model", help="sentence-transformers model name or path (DATELINE_MODEL)")
    common.add_argument(
        "--backend", help="encoder runtime: torch, onnx or onnx-int8 (DATELINE_BACKEND)"
    )

    parser = argparse.ArgumentParser(
        prog="dateline", description="Ask a news archive; get cited passages back."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", parents=[common], help="index article files")
    source = ingest.add_mutually_exclusive_group()
    source.add_argument("--seeds", type=Path, dest="seeds_dir", help="folder of articles")
    source.add_argument(
        "--jsonl", type=Path, metavar="FILE", help='articles one a line: {"id": ..., "text": ...}'
    )
    ingest.add_argument(
        "--rebuild", action="store_true", help="drop the index and build it anew (new model)"
    )
    ingest.add_argument(
        "--follow-links",
        action="store_true",
        help="read links that lead out of the folder (by default they are skipped)",
    )
    ingest.add_argument(
        "-v", "--verbose", action="store_true", help="print each article once it is stored"
    )

    ask = commands.add_parser("ask", parents=[common], help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, choices=range(1, 11), metavar="N", help="1..10")
    ask.add_argument("--json", action="store_true", help="print the answer JSON")
    ask.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="ask as on that day (default today): later articles are hidden",
    )

    backup = commands.add_parser(
        "backup", parents=[common], help="copy the archive into a new folder while it serves"
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="a new or empty folder")

    check = commands.add_parser(
        "check", parents=[common], help="check the store and the index files, and say the fix"
    )
    check.add_argument(
        "--repair", action="store_true", help="rebuild index files that do not match the store"
    )

    serve = commands.add_parser("serve", parents=[common], help="serve the API and widget")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="server processes (DATELINE_WORKERS)")
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from qa.settings import Settings

    names = ("data_dir", "model", "backend", "seeds_dir", "host", "port", "workers")
    overrides = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return Settings(**overrides)


def _ingest(args: argparse.Namespace) -> int:
    from qa.archive import index_config, open_encoder, open_store
    from qa.ingest import ingest_directory, ingest_jsonl

    settings = _settings(args)
    if args.jsonl is not None and not args.jsonl.is_file():
        print(f"error: {args.jsonl} is not a JSONL file of articles", file=sys.stderr)
        return EXIT_USAGE
    if args.jsonl is None and not settings.seeds_dir.is_dir():
        print(f"error: {settings.seeds_dir} is not a folder of articles", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(settings)
    if args.rebuild:
        store.clear()
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
    counts = store.counts()
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
        print(f"\n[{c.n}] {c.speaker + ': ' if c.speaker else ''}“{c.quote}”")
        print(f"    {where}")


def _ask(args: argparse.Namespace) -> int:
    from qa.archive import Archive

    if not args.question.strip():
        print("error: the question is empty", file=sys.stderr)
        return EXIT_USAGE
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of is not None else None
    except ValueError:
        print("error: --as-of takes a date, YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    archive = Archive.open(_settings(args))
    answer = archive.ask(args.question, top_k=args.top_k, as_of=as_of)
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
