"""The question language check (qa.language): English never refused, other languages caught.

- English questions: every SQuAD v1.1 dev question, SQuAD 2.0 dev part 1 and RealTimeQA's quiz
  questions (deduplicated), and the English questions of ``language_questions.json``, which
  name foreign people, places and words. Each one refused is a reader turned away.
- Short English that is no question: PolNeAR's headlines and RealTimeQA's answer choices of
  three words or more (names, titles, brands): the check was not tuned on them.
- Other languages: the questions of ``language_questions.json`` (de, fr, es, it, pt, ru, ar, zh,
  ja), written for this benchmark: caught, and caught as the right language.

Data is read from ``../shared/data``, never copied.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path

from bench.report import emit, peak_rss_mb, table
from qa.language import prepare_language, question_language

__all__ = ["main"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUESTIONS = Path(__file__).with_name("language_questions.json")
_SHOWN = 10  # refused English texts printed in full


def _squad(name: str) -> Iterator[str]:
    data = json.loads((DATA / "squad" / name).read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield qa["question"]


def _realtimeqa(field: str) -> Iterator[str]:
    for path in sorted((DATA / "realtimeqa").glob("*_qa.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            value = json.loads(line)[field]
            yield from value if isinstance(value, list) else [value]


def _headlines() -> Iterator[str]:
    with open(DATA / "polnear" / "metadata.tsv", encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if row["title"] not in ("", "None"):
                yield row["title"]


def _distinct(texts: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(text.strip() for text in texts if text.strip()))


def main() -> None:
    started = time.perf_counter()
    prepare_language()
    load_s = time.perf_counter() - started
    written = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    english = _distinct(
        iter(
            [
                *_squad("dev-v1.1.json"),
                *_squad("dev-v2.0-part1.json"),
                *_realtimeqa("question_sentence"),
                *written["english"],
            ]
        )
    )
    short = [
        text
        for text in _distinct(iter([*_headlines(), *_realtimeqa("choices")]))
        if text not in english and len(text.split()) >= 3
    ]
    started = time.perf_counter()
    refused = [text for text in english if question_language(text) is not None]
    per_check_us = (time.perf_counter() - started) / len(english) * 1e6
    refused_short = [text for text in short if question_language(text) is not None]

    rows: list[list[object]] = [
        ["English questions", len(english), len(refused), "-"],
        ["short English, no question", len(short), len(refused_short), "-"],
    ]
    caught: dict[str, dict[str, int]] = {}
    for language, questions in written["other"].items():
        found = [question_language(text) for text in questions]
        caught[language] = {
            "questions": len(questions),
            "caught": sum(code is not None for code in found),
            "named": sum(code == language for code in found),
        }
        counts = caught[language]
        rows.append([f"{language} questions", len(questions), counts["caught"], counts["named"]])
    table(
        "Question language check (refused: taken for another language)",
        ["texts", "count", "refused", "right language"],
        rows,
    )
    for text in (refused + refused_short)[:_SHOWN]:
        print(f"refused English: {text}")
    others = sum(c["questions"] for c in caught.values())
    emit(
        {
            "benchmark": "language",
            "english_questions": len(english),
            "english_refused": len(refused),
            "short_english": len(short),
            "short_english_refused": len(refused_short),
            "other_questions": others,
            "other_caught": sum(c["caught"] for c in caught.values()),
            "other_named": sum(c["named"] for c in caught.values()),
            "per_language": caught,
            "check_us": round(per_check_us, 1),
            "load_s": round(load_s, 2),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
