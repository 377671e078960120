"""Windows: passages longer than the model's window are split, never truncated."""

from __future__ import annotations

from embeddings.encoder import Encoder
from qa.articles import parse_article
from qa.passages import split_article


def _words(text: str) -> int:
    return len(text.split())


def test_short_paragraphs_are_one_passage_each() -> None:
    article = parse_article("a", "date 2024-01-02 OSLO, January 2. /NTB/. One. Two.\nThree here.")
    passages, _ = split_article(article, _words, 256)
    assert [(p.paragraph, p.part, p.text) for p in passages] == [
        (1, 0, "One. Two."),
        (2, 0, "Three here."),
    ]
    assert [(s.start, s.end) for s in passages[0].sentences] == [(0, 4), (5, 9)]


def test_long_paragraph_is_windowed_by_sentences_without_loss() -> None:
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(40)]
    article = parse_article("a", " ".join(sentences))
    passages, _ = split_article(article, _words, 50)
    assert len(passages) > 1
    assert all(_words(p.text) <= 50 for p in passages)
    assert " ".join(p.text for p in passages) == article.paragraphs[0].text
    assert [p.part for p in passages] == list(range(len(passages)))
    for passage in passages:
        assert all(passage.text[s.start : s.end] in sentences for s in passage.sentences)


def test_one_enormous_sentence_is_cut_at_words() -> None:
    article = parse_article("a", " ".join(f"w{i}" for i in range(300)) + ".")
    passages, _ = split_article(article, _words, 64)
    assert all(_words(p.text) <= 64 for p in passages)
    assert " ".join(p.text for p in passages) == article.paragraphs[0].text


def test_real_tokenizer_windows_fit_the_model(encoder: Encoder) -> None:
    paragraph = " ".join(
        f"In meeting {i}, the delegates reviewed logistics, rapid-reaction drills and air defence."
        for i in range(120)
    )
    passages, _ = split_article(
        parse_article("a", paragraph), encoder.count_tokens, encoder.window_tokens
    )
    assert len(passages) > 4
    assert all(encoder.count_tokens(p.text) <= encoder.window_tokens for p in passages)
