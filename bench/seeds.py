"""``seed_questions``: ``seed_questions.json`` asked of a real Archive over the shipped seeds.

Right paragraph at top 1 and top 3, speaker purity, abstention precision and recall. The same
file lists the off-topic and unanswerable questions that ``bench/squad.py`` asks of SQuAD.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import precision_score, recall_score

from bench.corpus import archive, one_query_at_a_time
from bench.report import emit, table
from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.factories import open_encoder
from qa.schema import HistoryTurn
from qa.settings import Settings

__all__ = ["SeedQuestion", "bench_seeds", "load", "main"]

SEED_QUESTIONS = Path(__file__).with_name("seed_questions.json")
_SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@dataclass(frozen=True)
class SeedQuestion:
    id: str
    question: str
    article_id: str | None
    paragraphs: frozenset[int]
    speaker: str | None
    abstain: bool
    history: tuple[str, ...]


def load() -> tuple[list[SeedQuestion], list[str]]:
    """The seed questions, and the off-topic and unanswerable questions asked of SQuAD."""
    data = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8"))
    questions = [
        SeedQuestion(
            id=item["id"],
            question=item["question"],
            article_id=item.get("article_id"),
            paragraphs=frozenset(item.get("paragraphs", ())),
            speaker=item.get("speaker"),
            abstain=bool(item.get("abstain", False)),
            history=tuple(item.get("history", ())),
        )
        for item in data["seed_questions"]
    ]
    return questions, list(data["squad_unanswerable"])


@dataclass(frozen=True)
class _Outcome:
    id: str
    should_abstain: bool
    abstained: bool
    top1: bool
    top3: bool
    speaker_right: int  # citations quoting the person asked about
    speaker_total: int

    @property
    def right(self) -> bool:
        return (
            self.should_abstain == self.abstained
            and (self.should_abstain or self.top1)
            and self.speaker_right == self.speaker_total
        )


def _ask(seeds: Archive, item: SeedQuestion) -> _Outcome:
    """Ask one seed question, after the earlier questions of its conversation."""
    history = [
        HistoryTurn(question=earlier, answer=seeds.ask(earlier).answer) for earlier in item.history
    ]
    answer = seeds.ask(item.question, history=history)
    right = [
        c.article_id == item.article_id and c.paragraph in item.paragraphs for c in answer.citations
    ]
    speakers = [c.speaker == item.speaker for c in answer.citations] if item.speaker else []
    if os.environ.get("DATELINE_BENCH_VERBOSE"):
        cited = [(c.paragraph, c.speaker) for c in answer.citations]
        print(f"  {item.id}: {answer.answer[:120]!r} {cited}")
    return _Outcome(
        id=item.id,
        should_abstain=item.abstain,
        abstained=answer.abstained,
        top1=bool(right) and right[0],
        top3=any(right[:3]),
        speaker_right=sum(speakers),
        speaker_total=len(speakers),
    )


def bench_seeds(encoder: Encoder, settings: Settings) -> dict[str, Any]:
    """Ask every seed question of a real Archive over the seeds, ingested into a temp folder."""
    questions, _ = load()

    def write(folder: Path) -> None:
        shutil.copytree(_SEEDS, folder, dirs_exist_ok=True)

    with archive(settings, write, encoder) as seeds:
        outcomes = [_ask(seeds, item) for item in questions]
    answerable = [o for o in outcomes if not o.should_abstain]
    n = len(answerable)
    top1 = sum(o.top1 for o in answerable)
    top3 = sum(o.top3 for o in answerable)
    pure = sum(o.speaker_right for o in outcomes)
    cited = sum(o.speaker_total for o in outcomes)
    should = np.array([o.should_abstain for o in outcomes])
    did = np.array([o.abstained for o in outcomes])
    precision = float(precision_score(should, did, zero_division=0))
    recall = float(recall_score(should, did, zero_division=0))
    right = int((should & did).sum())
    not_right = [o.id for o in outcomes if not o.right]
    table(
        f"Seed questions over a real Archive of the seeds: {len(outcomes)} "
        f"({n} answerable, {len(outcomes) - n} to abstain)",
        ("measure", "value", "count"),
        [
            ("top-1 citation: an expected paragraph", top1 / max(n, 1), f"{top1}/{n}"),
            ("top-3 citations: an expected paragraph", top3 / max(n, 1), f"{top3}/{n}"),
            ("speaker purity (citations quoting the asked person)", pure / max(cited, 1),
             f"{pure}/{cited}"),
            ("abstention precision", precision, f"{right}/{did.sum()}"),
            ("abstention recall", recall, f"{right}/{should.sum()}"),
        ],
    )  # fmt: skip
    if not_right:
        print(f"  not right: {', '.join(not_right)}")
    return {
        "benchmark": "seed_questions",
        "questions": len(outcomes),
        "answerable": n,
        "top1_paragraph": round(top1 / max(n, 1), 4),
        "top3_paragraph": round(top3 / max(n, 1), 4),
        "speaker_purity": round(pure / max(cited, 1), 4),
        "abstention_precision": round(precision, 4),
        "abstention_recall": round(recall, 4),
        "not_right": not_right,
    }


def main() -> None:
    """On the shipped settings (``DATELINE_*`` can change them)."""
    one_query_at_a_time()
    settings = Settings()
    emit(bench_seeds(open_encoder(settings), settings))
