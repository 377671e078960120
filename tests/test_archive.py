"""End to end with the real model, FAISS and SQLite: questions in, cited extracts out."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.factories import open_store
from qa.ingest import ingest_directory
from qa.schema import HistoryTurn, SearchFilters
from qa.settings import Settings

from .conftest import PUTIN_ARTICLE, SHOIGU_ARTICLE


def test_putin_on_training_cites_only_putin(archive: Archive) -> None:
    answer = archive.ask("What did Putin say about training?")
    assert not answer.abstained and answer.citations
    for citation in answer.citations:
        assert citation.article_id == PUTIN_ARTICLE
        assert citation.speaker == "Vladimir Putin"
        assert "training" in citation.text.lower()
        assert "training" in citation.quote.lower()
        assert citation.url == f"/articles/{PUTIN_ARTICLE}#p{citation.paragraph}"
        assert f"{citation.quote} [{citation.n}]" in answer.answer


def test_quote_is_verbatim_at_its_highlights(archive: Archive) -> None:
    answer = archive.ask("What did Shoigu say about color revolutions?")
    assert answer.citations and answer.citations[0].article_id == SHOIGU_ARTICLE
    for citation in answer.citations:
        pieces = [citation.text[start:end] for start, end in citation.highlights]
        assert " ".join(pieces) == citation.quote
        assert citation.date == "2024-04-26" and citation.dateline == "ASTANA"


def test_off_topic_question_abstains(archive: Archive) -> None:
    for question in ("What is the recipe for chocolate cake?", "Who won the football world cup?"):
        answer = archive.ask(question)
        assert answer.abstained and answer.citations == []
        assert "No passage" in answer.answer


def test_a_count_the_articles_never_give_abstains(archive: Archive) -> None:
    """The seeds speak of the CSTO's rapid reaction forces but never count them."""
    answer = archive.ask("How many soldiers serve in the CSTO rapid reaction forces?")
    assert answer.abstained and answer.citations == []


def test_unknown_person_abstains(archive: Archive) -> None:
    answer = archive.ask("What did Angela Merkel say about training?")
    assert (
        answer.abstained
        and answer.answer == "No statements by Angela Merkel were found in the archive."
    )


def test_title_alias_restricts_to_that_speaker(archive: Archive) -> None:
    answer = archive.ask("What did the Russian defense minister say about exercises?")
    assert answer.citations and {c.speaker for c in answer.citations} == {"Sergey Shoigu"}


def test_follow_up_resolves_pronoun_and_skips_cited(archive: Archive) -> None:
    first = archive.ask("What did Putin say about training?", top_k=1)
    follow = archive.ask(
        "What else did he say?",
        top_k=2,
        history=[HistoryTurn(question=first.question, answer=first.answer)],
    )
    assert follow.citations and {c.speaker for c in follow.citations} == {"Vladimir Putin"}
    assert first.citations[0].quote not in {c.quote for c in follow.citations}


def test_citations_are_distinct_paragraphs(archive: Archive) -> None:
    answer = archive.ask("SCO military cooperation and joint exercises", top_k=5)
    keys = [(c.article_id, c.paragraph) for c in answer.citations]
    assert len(keys) == len(set(keys)) and len(keys) >= 2


def test_search_filters(archive: Archive) -> None:
    hits = archive.search("cooperation", 10, SearchFilters(date_from=date(2024, 1, 1)))
    assert hits and {h.article_id for h in hits} == {SHOIGU_ARTICLE}
    hits = archive.search("cooperation", 10, SearchFilters(speaker="Putin"))
    assert hits and {h.speaker for h in hits} == {"Vladimir Putin"}
    assert archive.search("cooperation", 10, SearchFilters(article_id="nope")) == []


def test_unknown_person_in_lower_case_abstains(archive: Archive) -> None:
    answer = archive.ask("what did merkel say about training")
    assert answer.abstained and answer.citations == []
    assert answer.answer == "No statements by Merkel were found in the archive."


def test_never_answers_with_someone_elses_words(archive: Archive) -> None:
    """Putin never spoke of color revolutions; Shoigu did. The answer must not quote Shoigu."""
    answer = archive.ask("What did Putin say about color revolutions?")
    assert answer.abstained and answer.citations == []
    assert answer.answer == "No statements by Vladimir Putin on this were found in the archive."


def test_according_to_restricts_to_that_speaker(archive: Archive) -> None:
    answer = archive.ask("According to Shoigu, what holds a special place in interstate relations?")
    assert answer.citations and {c.speaker for c in answer.citations} == {"Sergey Shoigu"}
    assert (answer.citations[0].article_id, answer.citations[0].paragraph) == (SHOIGU_ARTICLE, 7)


def test_what_else_did_he_say_repeats_no_passage(archive: Archive) -> None:
    first = archive.ask("What did Putin say about training?")
    follow = archive.ask(
        "What else did he say?",
        history=[HistoryTurn(question=first.question, answer=first.answer)],
    )
    assert not follow.abstained
    assert {c.speaker for c in follow.citations} == {"Vladimir Putin"}
    cited = {(c.article_id, c.paragraph) for c in first.citations}
    assert cited.isdisjoint((c.article_id, c.paragraph) for c in follow.citations)


def test_follow_up_with_a_new_topic_keeps_the_speaker(archive: Archive) -> None:
    first = archive.ask("What did Shoigu say about the CSTO?")
    follow = archive.ask(
        "What did he say about joint exercises?",
        history=[HistoryTurn(question=first.question, answer=first.answer)],
    )
    assert follow.citations and {c.speaker for c in follow.citations} == {"Sergey Shoigu"}
    assert (follow.citations[0].article_id, follow.citations[0].paragraph) == (SHOIGU_ARTICLE, 8)


_SEED_QUESTIONS = json.loads(
    (Path(__file__).resolve().parents[1] / "bench" / "seed_questions.json").read_text()
)["seed_questions"]


@pytest.mark.parametrize(
    "item",
    [q for q in _SEED_QUESTIONS if q.get("speaker") and not q.get("history")],
    ids=lambda q: q["id"],
)
def test_seed_questions_about_a_person_quote_only_them(
    archive: Archive, item: dict[str, object]
) -> None:
    answer = archive.ask(str(item["question"]))
    assert {c.speaker for c in answer.citations} <= {item["speaker"]}
    if not item.get("abstain"):
        assert answer.citations


@pytest.mark.parametrize(
    "item",
    [q for q in _SEED_QUESTIONS if str(q["id"]).startswith(("unknown-", "off-topic-"))],
    ids=lambda q: q["id"],
)
def test_seed_questions_off_topic_or_about_strangers_abstain(
    archive: Archive, item: dict[str, object]
) -> None:
    answer = archive.ask(str(item["question"]))
    assert answer.abstained and answer.citations == []


def test_person_written_about_but_never_quoted_gets_an_unrestricted_answer(
    tmp_path: Path, encoder: Encoder
) -> None:
    """ "No statements by X" is for people the archive never mentions; a person it writes about
    without quoting is answered from what it says of them."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "bridge.txt").write_text(
        "date 2024-05-01 BERGEN, May 1. /NTB/. Prime Minister Erna Solberg opened the new "
        "harbour bridge in Bergen on Monday.\nThe bridge cost four billion kroner to build.\n",
        encoding="utf-8",
    )
    settings = Settings(seeds_dir=articles, data_dir=tmp_path / "data")
    ingest_directory(
        articles, open_store(settings), encoder, settings.data_dir, 10**6, progress=False
    )
    opened = Archive.open(settings, encoder)
    try:
        mentioned = opened.ask("What did Erna Solberg say about the harbour bridge?")
        assert mentioned.speakers is None and mentioned.citations
        assert mentioned.citations[0].paragraph == 1
        stranger = opened.ask("What did Jonas Gahr Store say about the harbour bridge?")
        assert stranger.abstained and stranger.answer.startswith("No statements by Jonas Gahr")
    finally:
        opened.close()
