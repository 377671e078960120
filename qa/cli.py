"""The ``dateline`` command: ingest, ask, serve."""

from __future__ import annotations

import argparse
import logging
import os
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
        else partial(ingest_directory, settings.seeds_dir)
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


def _serve(args: argparse.Namespace) -> int:
    from qa.api.server import serve

    serve(_settings(args))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if getattr(args, "verbose", False):
        logging.getLogger("qa").setLevel(logging.INFO)
    from embeddings.errors import EmbeddingError
    from qa.errors import DatelineError

    handlers = {"ingest": _ingest, "ask": _ask, "serve": _serve}
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
