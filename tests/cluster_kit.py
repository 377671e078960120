"""What the cluster tests share: a wire corpus (the seeds and generated stories with quotes)
and questions about it. Clusters are made from one ingested archive by copying its rows
(``bench.shards.split_archive``), so they rank as the archive does."""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

from .conftest import SEEDS

__all__ = ["QUESTIONS", "pids_titled", "wire_corpus"]

CITIES = ["Geneva", "Nairobi", "Lima", "Oslo", "Hanoi", "Cairo", "Quito", "Riga", "Accra"]
OFFICIALS = [
    ("Minister of Energy Lena Varga", "Varga"),
    ("Health Minister Tomas Okafor", "Okafor"),
    ("Central bank governor Ines Moreau", "Moreau"),
    ("Mayor Daniel Ruiz", "Ruiz"),
    ("Trade Secretary Priya Nair", "Nair"),
]
TOPICS = [
    ("wheat harvest", "farmers expect the wheat harvest to exceed last year's by a wide margin"),
    ("interest rates", "interest rates will stay unchanged until inflation slows"),
    ("hospital beds", "new hospital beds will open in the northern districts this winter"),
    ("flood barriers", "flood barriers along the river were raised after heavy rain"),
    ("electric buses", "the city will buy electric buses to replace its diesel fleet"),
    ("port strike", "the port strike has delayed container ships for a week"),
    ("copper exports", "copper exports rose sharply as demand from smelters recovered"),
    ("school meals", "school meals will be free for every pupil from September"),
]
QUESTIONS = [
    "What did Putin say about training?",
    "What did Shoigu say about color revolutions?",
    "What role should the SCO play in the international system?",
    "What did Varga say about the wheat harvest?",
    "What did the central bank governor say about interest rates?",
    "Where were flood barriers raised?",
    "Which city will buy electric buses?",
    "How long has the port strike delayed ships?",
    "What happened to copper exports this week?",
    "When will school meals be free?",
    "What did Nair say about copper exports in March 2023?",
    "Who is opening hospital beds?",
    "What did Zygmunt Baryczko say about trains?",
    "When was the Baryczko house constructed?",
]


def _article(number: int, rng: random.Random) -> tuple[str, str]:
    """One wire story: a dated header, a lede, quotes with speakers."""
    day = date(2023, 1, 2) + timedelta(days=rng.randrange(180))
    city = rng.choice(CITIES)
    (title, surname), (topic, claim) = rng.choice(OFFICIALS), rng.choice(TOPICS)
    other_topic, other_claim = rng.choice(TOPICS)
    lines = [
        f"date {day.isoformat()} {city.upper()}, {day:%B} {day.day}. /WIRE/. {title} said on"
        f" {day:%A} that {claim}, story {number}.",
        f'"We have studied the {topic} for {rng.randrange(2, 40)} months and the figures are'
        f' clear," {surname} said.',
        f"Officials in {city} added that {other_claim}.",
        f'"The {other_topic} matters to {rng.randrange(1000, 90000)} families here," {surname}'
        " added.",
    ]
    return f"{number:03d}_wire", "\n\n".join(lines) + "\n"


def wire_corpus(folder: Path, stories: int) -> Path:
    """``folder`` holding the seeds and ``stories`` generated ones (always the same)."""
    shutil.copytree(SEEDS, folder)
    rng = random.Random(7)
    for number in range(stories):
        article_id, text = _article(number, rng)
        (folder / f"{article_id}.txt").write_text(text, encoding="utf-8")
    return folder


def pids_titled(title: str) -> list[int]:
    """The processes whose command line holds ``title``, in order: Ray titles its workers by
    their actor (``ray::ServeReplica:APP:NAME``, ``ray::MapWorker(MapBatches(_Encoding))``)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and title.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return sorted(found)
