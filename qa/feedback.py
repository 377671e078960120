"""Readers' verdicts on answers: kept in the archive's store, exported as CSV to review them.

A verdict holds the question, the passages the answer cited and "up" or "down", with the time
it was given: nothing about who gave it (no address, no browser).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from qa.faults import storage_errors
from qa.operations import NoArchiveError
from qa.store import STORE_FILE, FeedbackRecord, Store

__all__ = ["CSV_HEADER", "Verdict", "export_feedback", "record_feedback"]

Verdict = Literal["up", "down"]
CSV_HEADER = FeedbackRecord._fields


def record_feedback(
    store: Store, question: str, passages: Sequence[tuple[str, int]], verdict: Verdict
) -> int:
    """Keep one verdict on the answer that cited ``passages`` (article id, paragraph); its id."""
    cited = json.dumps(
        [{"article_id": article_id, "paragraph": paragraph} for article_id, paragraph in passages]
    )
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with storage_errors(store.path.parent):
        return store.feedback.add(question, cited, verdict, created_at)


def export_feedback(data_dir: Path, output: TextIO) -> int:
    """Write every verdict of the archive in ``data_dir`` as CSV, oldest first; how many."""
    if not (data_dir / STORE_FILE).is_file():
        raise NoArchiveError(data_dir)
    with storage_errors(data_dir):
        store = Store(data_dir / STORE_FILE)
    try:
        writer = csv.writer(output)
        writer.writerow(CSV_HEADER)
        written = 0
        for record in store.feedback.records():
            writer.writerow(record)
            written += 1
    finally:
        store.close()
    return written
