"""``python -m bench``: every name it accepts runs a module, a wrong name gets one line, and the
answer matcher the news figures rest on forgives what a reader would and nothing more."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from bench.__main__ import BENCHMARKS, PARTS
from bench.answers import contains, quoted


@pytest.mark.parametrize("name", [*BENCHMARKS, *PARTS])
def test_every_benchmark_name_is_a_module_with_a_main(name: str) -> None:
    assert callable(importlib.import_module(f"bench.{name}").main)


def test_an_unknown_benchmark_gets_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "squad", "squad3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.strip().splitlines() == [
        f"unknown benchmark(s): squad3; choose from {', '.join([*BENCHMARKS, *PARTS])}"
    ]


def test_contains_forgives_case_punctuation_endings_and_small_numbers() -> None:
    quote = "The Denver Nuggets won six games, said the coach."
    assert contains(quote, ["denver nugget"])
    assert contains(quote, ["6 games"])
    assert contains(quote, ["nope", "THE COACH"])
    assert not contains(quote, ["Nug"])  # whole words only
    assert not contains(quote, ["seven games"])
    assert not contains(quote, ["", "  "])  # an empty answer matches nothing


def test_quoted_is_plain_containment_ignoring_case() -> None:
    assert quoted(["In 1066 the Normans", "came."], [" the normans "])
    assert not quoted(["In 1066 the Normans came."], ["Norman conquest"])
    assert not quoted(["The Nuggets won six games."], ["6 games"])
