"""Answer quality, measured through the product's own code paths, one JSON line per benchmark.

- ``squad_retrieval``: SQuAD v1.1 dev paragraph retrieval. Every context is parsed and cut like
  any article (``parse_article``, ``split_article``), encoded and indexed (``VectorIndex``,
  ``LexicalIndex``) and ranked by ``HybridRanker``; each question is a query. Recall@1/5/10 and
  MRR@10 for BM25 alone, dense alone, reciprocal rank fusion and min-max fusion at several BM25
  weights, in one run.
- ``squad_extraction``: is a gold answer inside the sentences ``compose_answer`` quotes in its
  top 3 citations, with abstention as shipped and without it.
- ``squad_abstention``: SQuAD questions (all answerable) against our own off-topic and
  unanswerable questions (``seed_questions.json``): ROC AUC of the answer's calibrated
  confidence, and what each threshold refuses (the SQuAD 2.0 sweep is in ``bench/news.py``).
- ``polnear_speakers``: PolNeAR dev paragraphs holding a direct quote with an annotated source:
  precision and recall of the speaker ``split_article`` gives the paragraph; then which
  RealTimeQA and SQuAD 2.0 questions ``read_question`` restricts to a speaker, listed to read.
- ``seed_questions``: ``seed_questions.json`` asked of a real ``Archive`` over the seeds,
  ingested into a temporary folder: right paragraph at top 1 and top 3, speaker purity,
  abstention precision and recall.

Data is read from ``../shared/data``, never copied. Encodings are cached outside the repo
(``~/.cache/dateline-bench``), keyed by model and texts: the first run encodes for about five
minutes on two cores, later ones start at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.report import emit, table
from embeddings.encoder import Encoder
from embeddings.index import VectorIndex
from qa.answer import Candidate, Query, compose_answer
from qa.archive import Archive, open_encoder, open_store
from qa.articles import Article, parse_article
from qa.ingest import ingest_directory
from qa.lexical import LexicalIndex
from qa.passages import Passage, split_article
from qa.questions import SpeakerIndex, read_question
from qa.retrieval import HybridRanker, RankedPassage
from qa.schema import HistoryTurn
from qa.settings import Settings
from qa.store import PassageRecord, SentenceRecord

__all__ = ["main"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED_QUESTIONS = Path(__file__).with_name("seed_questions.json")
CACHE = Path(os.environ.get("DATELINE_BENCH_CACHE", "~/.cache/dateline-bench")).expanduser()

Vectors = npt.NDArray[np.float32]


# -- shared helpers ---------------------------------------------------------------------------


def _encode_cached(encoder: Encoder, texts: Sequence[str], label: str) -> Vectors:
    """Encode ``texts``, or load the vectors a previous run saved for the same model and texts."""
    digest = hashlib.sha256(f"{encoder.name}|{getattr(encoder, 'backend', 'torch')}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    path = CACHE / f"{label}-{digest.hexdigest()[:20]}.npy"
    if path.exists():
        cached: Vectors = np.load(path)
        if cached.shape == (len(texts), encoder.dimension):
            return cached
    started = time.perf_counter()
    print(f"  encoding {len(texts):,} {label} texts (cached for next time)…", flush=True)
    vectors = encoder.encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    print(f"  encoded in {time.perf_counter() - started:.0f} s", flush=True)
    return vectors


# -- an in-memory corpus over the product's own parsing, indexes and ranker --------------------


@dataclass
class _Corpus:
    """Articles cut by ``split_article``, encoded, indexed as the store and indexes would be."""

    documents: list[int]  # passage id -> document number
    passages: list[PassageRecord]
    sentences: list[list[SentenceRecord]]  # by passage id
    passage_vectors: Vectors
    passage_index: VectorIndex
    sentence_index: VectorIndex
    sentence_owner: npt.NDArray[np.int64]
    lexical: LexicalIndex

    def ranker(self, settings: Settings) -> HybridRanker:
        return HybridRanker(
            self.passage_index,
            self.sentence_index,
            self.lexical,
            lambda ids: {i: self.passage_vectors[i] for i in ids},
            lambda ids: {i: int(self.sentence_owner[i]) for i in ids if i >= 0},
            settings.candidates,
            settings.lexical_weight,
        )

    def candidates(self, ranked: Sequence[RankedPassage]) -> list[Candidate]:
        return [Candidate(self.passages[r.id], self.sentences[r.id], r) for r in ranked]


def _build_corpus(encoder: Encoder, texts: Sequence[str], label: str) -> _Corpus:
    documents: list[int] = []
    cut: list[tuple[str, Passage]] = []
    for number, text in enumerate(texts):
        article = parse_article(f"{label}-{number}", text)
        passages, _ = split_article(article, encoder.count_tokens, encoder.window_tokens)
        for passage in passages:
            documents.append(number)
            cut.append((article.article_id, passage))
    passage_texts = [p.text for _, p in cut]
    sentence_texts = [p.text[s.start : s.end] for _, p in cut for s in p.sentences]
    passage_vectors = _encode_cached(encoder, passage_texts, f"{label}-passages")
    sentence_vectors = _encode_cached(encoder, sentence_texts, f"{label}-sentences")
    records: list[PassageRecord] = []
    sentences: list[list[SentenceRecord]] = []
    owners: list[int] = []
    for passage_id, (article_id, passage) in enumerate(cut):
        records.append(
            PassageRecord(
                id=passage_id,
                article_id=article_id,
                title=article_id,
                date=None,
                dateline=None,
                agency=None,
                paragraph=passage.paragraph,
                part=passage.part,
                heading=passage.heading,
                text=passage.text,
                speaker=passage.speaker,
            )
        )
        row = []
        for sentence in passage.sentences:
            row.append(
                SentenceRecord(
                    id=len(owners),
                    passage_id=passage_id,
                    start=sentence.start,
                    end=sentence.end,
                    speaker=sentence.speaker,
                    vector=sentence_vectors[len(owners)],
                )
            )
            owners.append(passage_id)
        sentences.append(row)
    passage_ids = np.arange(len(cut), dtype=np.int64)
    return _Corpus(
        documents=documents,
        passages=records,
        sentences=sentences,
        passage_vectors=passage_vectors,
        passage_index=VectorIndex.build(passage_ids, passage_vectors, encoder.dimension),
        sentence_index=VectorIndex.build(
            np.arange(len(owners), dtype=np.int64), sentence_vectors, encoder.dimension
        ),
        sentence_owner=np.asarray(owners, dtype=np.int64),
        lexical=LexicalIndex.build(passage_ids, passage_texts),
    )


# -- PolNeAR: who is quoted -------------------------------------------------------------------

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

    def counts(self, rate: str) -> str:
        """The fraction behind one of ``rates()``, as "hits/total"."""
        return {
            "precision": f"{self.correct}/{self.named}",
            "recall": f"{self.correct}/{self.judged}",
            "precision_strict": f"{self.correct}/{self.strict_named}",
            "narration_with_speaker": f"{self.narration_named}/{self.narration}",
        }[rate]

    def rates(self) -> dict[str, float]:
        return {
            "precision": round(self.correct / max(self.named, 1), 4),
            "recall": round(self.correct / max(self.judged, 1), 4),
            "precision_strict": round(self.correct / max(self.strict_named, 1), 4),
            "narration_with_speaker": round(self.narration_named / max(self.narration, 1), 4),
        }


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
        "bench": "polnear_speakers",
        "split": "dev",
        "articles": dev.articles,
        "quoted_paragraphs": dev.judged,
        **dev.rates(),
        "train": {"articles": train.articles, "quoted_paragraphs": train.judged, **train.rates()},
        "questions_routed": routed,
    }


# Ad-feedback forms that RealTimeQA scraped in place of some articles.
_AD_FORM = "1. How relevant is this ad to you?"


def _routing_sets() -> dict[str, tuple[list[str], list[str]]]:
    """News and encyclopedia questions that mostly ask no one's words, with their articles:
    RealTimeQA (CNN quizzes and the articles that answer them) and SQuAD 2.0 part 1."""
    questions: list[str] = []
    articles: dict[str, None] = {}  # distinct texts, in order
    for path in sorted((DATA / "realtimeqa").glob("*_qa.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            questions.append(json.loads(line)["question_sentence"])
    for path in sorted((DATA / "realtimeqa").glob("*_gold.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for result in json.loads(line)["search_result"]:
                text = result.get("text") or ""
                if text and not text.startswith(_AD_FORM):
                    articles[text] = None
    squad = json.loads((DATA / "squad" / "dev-v2.0-part1.json").read_text(encoding="utf-8"))
    paragraphs = [p for article in squad["data"] for p in article["paragraphs"]]
    return {
        "realtimeqa": (list(articles), questions),
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


# -- SQuAD: paragraph retrieval and sentence extraction ---------------------------------------

# Min-max fusion weights compared (BM25 share); 0 and 1 are the two rankers alone over the
# product's candidate pool (dense there is a passage's best of its own and its sentences' cosine).
_WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
_RRF_K = 60
_CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class _Squad:
    contexts: list[str]
    questions: list[str]
    gold: list[int]  # context number of each question
    answers: list[list[str]]


def _load_squad() -> _Squad:
    data = json.loads((DATA / "squad" / "dev-v1.1.json").read_text(encoding="utf-8"))
    contexts: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    answers: list[list[str]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                gold.append(len(contexts) - 1)
                answers.append([answer["text"] for answer in qa["answers"]])
    return _Squad(contexts, questions, gold, answers)


def _documents(corpus: _Corpus, passage_ids: Iterable[int], k: int = 10) -> list[int]:
    """Documents in the order their first passage appears, up to ``k``."""
    seen: list[int] = []
    for passage_id in passage_ids:
        document = corpus.documents[passage_id]
        if document not in seen:
            seen.append(document)
            if len(seen) == k:
                break
    return seen


@dataclass
class _RetrievalScore:
    """Recall@k and MRR@10 accumulated over queries."""

    hits: dict[int, int]
    reciprocal: float = 0.0
    queries: int = 0

    def add(self, ranked: Sequence[int], gold: int) -> None:
        self.queries += 1
        if gold in ranked[:10]:
            position = ranked.index(gold) + 1
            self.reciprocal += 1 / position
            for k in _CUTOFFS:
                self.hits[k] += position <= k

    def row(self) -> dict[str, float]:
        n = max(self.queries, 1)
        return {
            **{f"recall@{k}": round(self.hits[k] / n, 4) for k in _CUTOFFS},
            "mrr@10": round(self.reciprocal / n, 4),
        }


def _rrf(lists: Sequence[Sequence[int]], k: int = _RRF_K) -> list[int]:
    """Reciprocal rank fusion (Cormack et al. 2009), over the candidates each ranker listed."""
    scores: dict[int, float] = defaultdict(float)
    for ranked in lists:
        for position, item in enumerate(ranked, start=1):
            scores[item] += 1 / (k + position)
    return sorted(scores, key=lambda item: -scores[item])


def _quoted(quotes: Sequence[str], answers: Sequence[str]) -> bool:
    text = " ".join(quotes).lower()
    return any(answer.strip().lower() in text for answer in answers)


# Confidence thresholds shown beside the shipped one in the off-topic abstention table.
_CONFIDENCE_SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5)


def bench_squad(encoder: Encoder, settings: Settings) -> list[dict[str, Any]]:
    """Paragraph retrieval by every method, sentence extraction and abstention as shipped."""
    squad = _load_squad()
    _, unanswerable = _seed_questions()
    corpus = _build_corpus(encoder, squad.contexts, "squad")
    vectors = _encode_cached(encoder, squad.questions, "squad-questions")
    ranker = corpus.ranker(settings)
    weights = sorted({*_WEIGHTS, settings.lexical_weight})
    scores = {
        name: _RetrievalScore(dict.fromkeys(_CUTOFFS, 0))
        for name in ["bm25 (index alone)", "dense (index alone)", "rrf k=60", *map(str, weights)]
    }
    extracted = answered = extracted_any = 0
    answerable_confidence: list[float] = []
    started = time.perf_counter()
    for question, vector, gold, answers in zip(
        squad.questions, vectors, squad.gold, squad.answers, strict=True
    ):
        lexical = corpus.lexical.scores(question)
        top_lexical = np.argsort(-lexical, kind="stable")[:30]
        scores["bm25 (index alone)"].add(
            _documents(corpus, (int(corpus.lexical.ids[i]) for i in top_lexical)), gold
        )
        dense_hits = corpus.passage_index.search(vector, 30)
        scores["dense (index alone)"].add(_documents(corpus, dense_hits.ids.tolist()), gold)
        by_weight: dict[float, list[RankedPassage]] = {}
        for weight in weights:
            ranker.lexical_weight = weight
            by_weight[weight] = ranker.rank(vector, question, settings.candidates)
            scores[str(weight)].add(_documents(corpus, (r.id for r in by_weight[weight])), gold)
        fused = _rrf([[r.id for r in by_weight[0.0]], [r.id for r in by_weight[1.0]]])
        scores["rrf k=60"].add(_documents(corpus, fused), gold)

        candidates = corpus.candidates(by_weight[settings.lexical_weight])
        unrestricted = compose_answer(
            candidates, Query.of(vector, question), 3, 0.0, min_relevance=settings.min_relevance
        )
        shipped = unrestricted.confidence >= settings.min_confidence
        answered += shipped
        extracted += shipped and _quoted([c.quote for c in unrestricted.citations], answers)
        extracted_any += _quoted([c.quote for c in unrestricted.citations], answers)
        answerable_confidence.append(unrestricted.confidence)
    ranker.lexical_weight = settings.lexical_weight
    unanswerable_confidence = [
        compose_answer(
            corpus.candidates(ranker.rank(vector, question, settings.candidates)),
            Query.of(vector, question),
            3,
            0.0,
            min_relevance=settings.min_relevance,
        ).confidence
        for question, vector in zip(
            unanswerable, _encode_cached(encoder, unanswerable, "squad-unanswerable"), strict=True
        )
    ]
    n = len(squad.questions)
    label = {
        "bm25 (index alone)": "BM25 alone (bm25s, stemmed)",
        "dense (index alone)": "dense alone (passage cosine)",
        "rrf k=60": "RRF k=60 (pool ranks, w=0 and w=1)",
        **{str(w): f"min-max fusion, BM25 weight {w}" for w in weights},
    }
    label["0.0"] = "pool, dense only (w=0: passage or best sentence)"
    label["1.0"] = "pool, BM25 only (w=1)"
    rows = {name: score.row() for name, score in scores.items()}
    table(
        f"SQuAD v1.1 dev paragraph retrieval: {len(squad.contexts):,} paragraphs "
        f"({len(corpus.passages):,} passages), {n:,} questions, "
        f"{time.perf_counter() - started:.0f} s",
        ("method", "R@1", "R@5", "R@10", "MRR@10"),
        [(label[name], *row.values()) for name, row in rows.items()],
    )
    best = max(weights, key=lambda w: (rows[str(w)]["recall@1"], rows[str(w)]["mrr@10"]))
    print(f"  shipped: BM25 weight {settings.lexical_weight}; best recall@1 here: weight {best}")
    table(
        "SQuAD sentence extraction: gold answer inside the quotes of the top 3 citations",
        ("setting", "share", "count"),
        [
            ("as shipped (abstention on)", extracted / n, f"{extracted:,}/{n:,}"),
            ("abstention off", extracted_any / n, f"{extracted_any:,}/{n:,}"),
            ("answered (did not abstain)", answered / n, f"{answered:,}/{n:,}"),
        ],
    )
    abstention = _abstention_sweep(answerable_confidence, unanswerable_confidence, settings)
    return [
        {
            "bench": "squad_retrieval",
            "paragraphs": len(squad.contexts),
            "questions": n,
            "shipped_lexical_weight": settings.lexical_weight,
            "methods": {label[name]: row for name, row in rows.items()},
            "ours": rows[str(settings.lexical_weight)],
        },
        {
            "bench": "squad_extraction",
            "questions": n,
            "share": round(extracted / n, 4),
            "share_without_abstention": round(extracted_any / n, 4),
            "answered": round(answered / n, 4),
        },
        abstention,
    ]


def _abstention_sweep(
    answerable: list[float], unanswerable: list[float], settings: Settings
) -> dict[str, Any]:
    """Abstention on SQuAD questions (should answer) and our off-topic and unanswerable ones
    (should not), by the answer's calibrated confidence: ROC AUC, and what each threshold
    refuses, the shipped one included."""
    positive, negative = np.array(unanswerable), np.array(answerable)
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    auc = _roc_auc(labels, -np.r_[positive, negative])
    thresholds = sorted({*_CONFIDENCE_SWEEP, settings.min_confidence})
    rows = [
        (threshold, float((positive < threshold).mean()), float((negative < threshold).mean()))
        for threshold in thresholds
    ]
    table(
        f"Abstention: {len(answerable):,} SQuAD questions (answerable) vs {len(unanswerable)} "
        f"off-topic/unanswerable ones, by answer confidence (ROC AUC {auc:.3f}; shipped "
        f"min_confidence {settings.min_confidence})",
        ("refuse below", "off-topic refused", "answerable refused"),
        rows,
    )
    recall = float((positive < settings.min_confidence).mean())
    false_rate = float((negative < settings.min_confidence).mean())
    return {
        "bench": "squad_abstention",
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "min_confidence": settings.min_confidence,
        "roc_auc": round(auc, 4),
        "recall": round(recall, 4),
        "false_abstention_rate": round(false_rate, 4),
    }


def _roc_auc(labels: npt.NDArray[np.float64], scores: npt.NDArray[np.float64]) -> float:
    """Area under the ROC curve (scikit-learn, installed with sentence-transformers)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


# -- seed questions: the real Archive over the shipped seeds -----------------------------------


@dataclass(frozen=True)
class _SeedQuestion:
    id: str
    question: str
    article_id: str | None
    paragraphs: frozenset[int]
    speaker: str | None
    abstain: bool
    history: tuple[str, ...]


def _seed_questions() -> tuple[list[_SeedQuestion], list[str]]:
    data = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8"))
    questions = [
        _SeedQuestion(
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


@dataclass
class _Abstention:
    """Abstention as a classifier whose positives are the questions that should abstain."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    def add(self, should: bool, did: bool) -> None:
        self.true_positive += should and did
        self.false_positive += did and not should
        self.false_negative += should and not did

    def precision(self) -> tuple[float, str]:
        abstained = self.true_positive + self.false_positive
        return self.true_positive / max(abstained, 1), f"{self.true_positive}/{abstained}"

    def recall(self) -> tuple[float, str]:
        should = self.true_positive + self.false_negative
        return self.true_positive / max(should, 1), f"{self.true_positive}/{should}"


@dataclass(frozen=True)
class _SeedOutcome:
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


def _ask_seed(archive: Archive, item: _SeedQuestion) -> _SeedOutcome:
    """Ask one seed question, after the earlier questions of its conversation."""
    history = [
        HistoryTurn(question=earlier, answer=archive.ask(earlier).answer)
        for earlier in item.history
    ]
    answer = archive.ask(item.question, history=history)
    right = [
        c.article_id == item.article_id and c.paragraph in item.paragraphs for c in answer.citations
    ]
    speakers = [c.speaker == item.speaker for c in answer.citations] if item.speaker else []
    if os.environ.get("DATELINE_BENCH_VERBOSE"):
        cited = [(c.paragraph, c.speaker) for c in answer.citations]
        print(f"  {item.id}: {answer.answer[:120]!r} {cited}")
    return _SeedOutcome(
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
    questions, _ = _seed_questions()
    with tempfile.TemporaryDirectory(prefix="dateline-bench-") as folder:
        root = Path(folder)
        seeds = root / "seeds"
        shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", seeds)
        local = settings.model_copy(update={"seeds_dir": seeds, "data_dir": root / "data"})
        store = open_store(local)
        ingest_directory(
            seeds, store, encoder, local.data_dir, local.max_file_bytes, progress=False
        )
        store.close()
        archive = Archive.open(local, encoder)
        try:
            outcomes = [_ask_seed(archive, item) for item in questions]
        finally:
            archive.close()
    answerable = [o for o in outcomes if not o.should_abstain]
    n = len(answerable)
    top1 = sum(o.top1 for o in answerable)
    top3 = sum(o.top3 for o in answerable)
    pure = sum(o.speaker_right for o in outcomes)
    cited = sum(o.speaker_total for o in outcomes)
    abstention = _Abstention()
    for outcome in outcomes:
        abstention.add(outcome.should_abstain, outcome.abstained)
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
            ("abstention precision", *abstention.precision()),
            ("abstention recall", *abstention.recall()),
        ],
    )  # fmt: skip
    if not_right:
        print(f"  not right: {', '.join(not_right)}")
    return {
        "bench": "seed_questions",
        "questions": len(outcomes),
        "answerable": n,
        "top1_paragraph": round(top1 / max(n, 1), 4),
        "top3_paragraph": round(top3 / max(n, 1), 4),
        "speaker_purity": round(pure / max(cited, 1), 4),
        "abstention_precision": round(abstention.precision()[0], 4),
        "abstention_recall": round(abstention.recall()[0], 4),
        "not_right": not_right,
    }


def main() -> None:
    """Every quality benchmark, on the shipped settings (``DATELINE_*`` can change them)."""
    import faiss

    # One query at a time: OpenMP's thread start-up costs ten times the search itself here.
    # This changes how fast the benchmark runs, not a single result.
    faiss.omp_set_num_threads(1)
    settings = Settings()  # the shipped defaults, or DATELINE_* variables (DATELINE_BACKEND...)
    encoder = open_encoder(settings)
    for record in bench_squad(encoder, settings):
        emit(record)
    emit(bench_speakers(encoder))
    emit(bench_seeds(encoder, settings))
