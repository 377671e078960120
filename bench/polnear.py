"""``polnear_speakers``: who is quoted, against PolNeAR's attribution annotation.

PolNeAR dev paragraphs holding a direct quote with an annotated source: precision and recall
of the speaker ``split_article`` gives the paragraph (train beside it, to show overfitting);
then which RealTimeQA and SQuAD 2.0 questions ``read_question`` restricts to a speaker, listed
to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import realtimeqa, squad2
from bench.corpus import DATA
from bench.report import emit, table
from embeddings.encoder import Encoder
from qa.articles import Article, parse_article
from qa.factories import open_encoder
from qa.passages import split_article
from qa.questions import SpeakerIndex, read_question
from qa.settings import Settings

__all__ = ["bench_speakers", "main"]

_PRONOUN_SOURCE = re.compile(r"^(?:he|she|him|her)$", re.I)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Sgt|Prof|Rev|St)\.\s*")
_NAME_TOKEN = re.compile(r"^[A-Z][\w'’.-]*$")


@dataclass(frozen=True)
class _Gold:
    """What the annotation says of one paragraph."""

    names: frozenset[str]  # surnames (lower case) of the named sources of its direct quotes
    unnamed: bool  # a direct quote in it has a source that is no name ("the mayor", "sources")
    attributed: bool  # any attribution (quote or paraphrase) touches it


@dataclass(frozen=True)
class _AnnotatedArticle:
    article: Article
    gold: dict[int, _Gold]  # by paragraph number


def _brat(path: Path) -> tuple[dict[str, list[tuple[int, int]]], list[dict[str, str]]]:
    """Spans of the text-bound annotations and the events (role -> annotation id) of a BRAT file."""
    spans: dict[str, list[tuple[int, int]]] = {}
    events: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not re.fullmatch(r"[TE]\d+", fields[0]):
            continue  # the text of a span that crosses a line break goes on over several lines
        if fields[0].startswith("T"):
            offsets = fields[1].partition(" ")[2]
            spans[fields[0]] = [
                (int(a), int(b)) for a, b in (piece.split() for piece in offsets.split(";"))
            ]
        elif fields[0].startswith("E"):
            events.append(dict(arg.split(":", 1) for arg in fields[1].split()))
    return spans, events


def _source_surname(source: str) -> str | None:
    """The surname a Source span names, or None when it is not a name ("the mayor", "sources").

    "House Speaker Paul Ryan, R-Wis.," -> "ryan"; "Mr. Obama" -> "obama"; "Clinton's campaign"
    -> None (its last word is not a capitalised name).
    """
    source = _HONORIFIC.sub("", source.replace("\xa0", " "))
    source = re.split(r"[,(]|\s(?:of|who|to|from|at|in|for|with)\s", source)[0].strip()
    tokens = source.split()
    if not tokens or not _NAME_TOKEN.match(tokens[-1]) or tokens[-1].endswith(("’s", "'s")):
        return None
    if tokens[-1].lower() in {"i", "it", "we", "they", "he", "she"}:
        return None
    return _surname(" ".join(tokens))


def _quote_marks(text: str) -> bool:
    return re.search(r"[\"“”]", text) is not None


def _polnear(split: str) -> list[_AnnotatedArticle]:
    """PolNeAR ``split`` articles, parsed like any article, with gold speakers per paragraph.

    A direct quote is an annotated Content span with quotation marks in the paragraph. A
    "he"/"she" source takes the closest earlier named source of the article (the corpus has no
    coreference); a source inside quotation marks (a quote within a quote) is left out. When
    several people annotated an article, the first annotation file is used.
    """
    folder = DATA / "polnear" / split
    articles: list[_AnnotatedArticle] = []
    for path in sorted((folder / "text").glob("*.txt")):
        annotations = sorted((folder / "attributions").glob(f"{path.stem}_*.ann"))
        if not annotations:
            continue
        text = path.read_text(encoding="utf-8")
        spans, events = _brat(annotations[0])
        quoted = [m.span() for m in re.finditer(r"“[^”]*”|\"[^\"]*\"", text)]
        attributions: list[tuple[int, int, int, str | None]] = []  # source at, content, source
        for event in events:
            if "Content" not in event:
                continue
            content = spans[event["Content"]]
            source = spans.get(event.get("Source", ""))
            if source and any(a < source[0][0] < b for a, b in quoted):
                continue
            source_text = " ".join(text[a:b] for a, b in source) if source else None
            at = source[0][0] if source else content[0][0]
            attributions.append((at, content[0][0], content[-1][1], source_text))
        resolved: list[tuple[int, int, str | None, str | None]] = []  # content, surname, source
        last_named: str | None = None
        for _, start, end, source_text in sorted(attributions):
            surname = _source_surname(source_text) if source_text else None
            if surname is not None:
                last_named = surname
            elif source_text and _PRONOUN_SOURCE.match(source_text.strip()):
                surname = last_named
            resolved.append((start, end, surname, source_text))
        article = parse_article(path.stem, text)
        gold: dict[int, _Gold] = {}
        cursor = 0
        for paragraph in article.paragraphs:
            begin = text.find(paragraph.text, cursor)
            if begin < 0:
                continue
            cursor = finish = begin + len(paragraph.text)
            touching = [r for r in resolved if r[0] < finish and begin < r[1]]
            direct = [
                r for r in touching if _quote_marks(text[max(r[0], begin) : min(r[1], finish)])
            ]
            gold[paragraph.number] = _Gold(
                names=frozenset(r[2] for r in direct if r[2] is not None),
                unnamed=any(r[2] is None for r in direct),
                attributed=bool(touching),
            )
        articles.append(_AnnotatedArticle(article, gold))
    return articles


def _surname(name: str | None) -> str | None:
    """The last word of a name, without suffixes ("Jr.", "II"), lower case."""
    if not name:
        return None
    words = [w for w in name.split() if w.lower().strip(".,") not in {"jr", "sr", "ii", "iii"}]
    return (words or name.split())[-1].strip(".,").lower()


@dataclass
class _SpeakerScore:
    """Paragraph speakers against the annotation, counted as in ``bench_speakers``."""

    articles: int = 0
    judged: int = 0  # paragraphs with a direct quote whose source is a name
    named: int = 0  # ... of which we name a speaker
    correct: int = 0  # ... and it is the annotated one
    strict_named: int = 0  # paragraphs with any direct quote where we name a speaker
    narration: int = 0  # paragraphs no attribution touches
    narration_named: int = 0  # ... where we still name a speaker

    def add(self, gold: _Gold, ours: str | None) -> None:
        if not gold.attributed:
            self.narration += 1
            self.narration_named += ours is not None
        if gold.names or gold.unnamed:
            self.strict_named += ours is not None
        if gold.names:
            self.judged += 1
            self.named += ours is not None
            self.correct += ours in gold.names

    def fractions(self) -> dict[str, tuple[int, int]]:
        """Each rate as (hits, total)."""
        return {
            "precision": (self.correct, self.named),
            "recall": (self.correct, self.judged),
            "precision_strict": (self.correct, self.strict_named),
            "narration_with_speaker": (self.narration_named, self.narration),
        }

    def rates(self) -> dict[str, float]:
        return {
            key: round(hits / max(total, 1), 4) for key, (hits, total) in self.fractions().items()
        }

    def counts(self, rate: str) -> str:
        """The fraction behind one of ``rates()``, as "hits/total"."""
        hits, total = self.fractions()[rate]
        return f"{hits}/{total}"


def _score_speakers(encoder: Encoder, split: str) -> _SpeakerScore:
    score = _SpeakerScore()
    for item in _polnear(split):
        score.articles += 1
        passages, _ = split_article(item.article, encoder.count_tokens, encoder.window_tokens)
        speakers = {p.paragraph: p.speaker for p in passages}
        for number, gold in item.gold.items():
            score.add(gold, _surname(speakers.get(number)))
    return score


def bench_speakers(encoder: Encoder) -> dict[str, Any]:
    """Precision and recall of the paragraph speaker on PolNeAR paragraphs with a direct quote.

    dev is the figure to quote; train is shown beside it because the rules were tuned on
    train (and on a first look at dev misses), so a gap between the two would show overfitting.
    """
    dev, train = _score_speakers(encoder, "dev"), _score_speakers(encoder, "train")
    labels = {
        "precision": "precision: named gold source",
        "recall": "recall: named gold source",
        "precision_strict": "precision: unnamed sources count as wrong",
        "narration_with_speaker": "a speaker on paragraphs with no attribution",
    }
    table(
        f"PolNeAR: speaker of paragraphs holding a direct quote "
        f"(dev {dev.articles} articles, train {train.articles})",
        ("measure", "dev", "count", "train", "count"),
        [
            (label, dev.rates()[key], dev.counts(key), train.rates()[key], train.counts(key))
            for key, label in labels.items()
        ],
    )
    routed = _routed_questions(encoder)
    return {
        "benchmark": "polnear_speakers",
        "split": "dev",
        "articles": dev.articles,
        "quoted_paragraphs": dev.judged,
        **dev.rates(),
        "train": {"articles": train.articles, "quoted_paragraphs": train.judged, **train.rates()},
        "questions_routed": routed,
    }


def _routing_sets() -> dict[str, tuple[list[str], list[str]]]:
    """News and encyclopedia questions that mostly ask no one's words, with their articles:
    RealTimeQA (CNN quizzes and the articles that answer them) and SQuAD 2.0 part 1."""
    news = [
        result["text"]
        for gold in realtimeqa.records("gold")
        for result in realtimeqa.articles(gold)
    ]
    paragraphs = [p for article in squad2.load() for p in article["paragraphs"]]
    return {
        "realtimeqa": (
            list(dict.fromkeys(news)),  # distinct texts, in order
            [record["question_sentence"] for record in realtimeqa.records("qa")],
        ),
        "squad2_part1": (
            [p["context"] for p in paragraphs],
            [q["question"] for p in paragraphs for q in p["qas"]],
        ),
    }


def _routed_questions(encoder: Encoder) -> dict[str, dict[str, int]]:
    """Questions ``read_question`` restricts to a speaker or answers with "no statements by X",
    over the aliases ``split_article`` finds in their own articles. Each should name X as the
    subject of a speech frame ("what did X say", "according to X"); they are printed to read."""
    counts: dict[str, dict[str, int]] = {}
    for name, (texts, questions) in _routing_sets().items():
        aliases: set[tuple[str, str]] = set()
        for number, text in enumerate(texts):
            article = parse_article(f"{name}-{number}", text)
            _, people = split_article(article, encoder.count_tokens, encoder.window_tokens)
            aliases |= {(alias, p.name) for p in people.values() for alias in p.aliases}
        speakers = SpeakerIndex(aliases)
        reads = [read_question(q.strip(), speakers) for q in questions]
        routed = [r for r in reads if r.speakers is not None or r.unknown_person is not None]
        counts[name] = {
            "questions": len(questions),
            "aliases": len(aliases),
            "to_a_speaker": sum(r.speakers is not None for r in routed),
            "unknown_person": sum(r.unknown_person is not None for r in routed),
        }
        table(
            f"{name}: {len(routed)} of {len(questions):,} questions read as asking someone's "
            f"words ({len(aliases):,} aliases from {len(texts):,} articles)",
            ("question", "restricted to", "or unknown"),
            [(r.text, ", ".join(r.speakers or ()), r.unknown_person or "") for r in routed],
        )
    return counts


def main() -> None:
    """On the shipped model (``DATELINE_*`` can change it)."""
    emit(bench_speakers(open_encoder(Settings())))
