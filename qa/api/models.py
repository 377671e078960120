"""Request and response bodies of the HTTP API (the answer itself is qa.schema.Answer)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from qa.questions import BLANK, clean_question
from qa.schema import MAX_QUESTION_CHARS, HistoryTurn, SearchFilters, SearchHit

__all__ = [
    "ArticleDeleted",
    "ArticleUpload",
    "ArticleWritten",
    "ArticleDetail",
    "ArticleList",
    "ArticleSummary",
    "ChatRequest",
    "CitedPassage",
    "ErrorBody",
    "FeedbackRecorded",
    "FeedbackRequest",
    "Health",
    "ParagraphBody",
    "Readiness",
    "SearchResponse",
    "Suggestions",
    "QuestionText",
]

# The schema's pattern states what the validator enforces: 1..1000 characters once trimmed.
_QUESTION_PATTERN = (
    rf"^[{BLANK}]*[^{BLANK}](?:[\s\S]{{0,{MAX_QUESTION_CHARS - 2}}}[^{BLANK}])?[{BLANK}]*$"
)


def _valid_question(value: str) -> str:
    value = clean_question(value)
    if len(value) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("the question contains invalid characters (lone surrogates)")
    return value


QuestionText = Annotated[
    str,
    # The pattern is declared for clients; the validator enforces it with readable reasons.
    Field(max_length=10 * MAX_QUESTION_CHARS, json_schema_extra={"pattern": _QUESTION_PATTERN}),
    AfterValidator(_valid_question),
]


class ChatRequest(BaseModel):
    question: QuestionText = Field(description="1 to 1000 characters after trimming.")
    top_k: int = Field(3, ge=1, le=10, description="How many passages to cite at most.")
    history: list[HistoryTurn] = Field(
        default_factory=list, max_length=20, description="Earlier turns, oldest first."
    )
    filters: SearchFilters | None = None
    as_of: date | None = Field(
        None,
        description="The reader's today, YYYY-MM-DD (default: the server's). Articles dated "
        "later are hidden; 'this week' or 'in June' in the question is read against it.",
    )


class CitedPassage(BaseModel):
    article_id: str = Field(pattern=r"^[\w.-]{1,200}$", description="As in the citation.")
    paragraph: int = Field(ge=1, le=1_000_000, description="As in the citation.")


class FeedbackRequest(BaseModel):
    """A reader's verdict on one answer; nothing about the reader is kept."""

    question: QuestionText = Field(description="The question asked, 1 to 1000 characters.")
    passages: list[CitedPassage] = Field(
        default_factory=list, max_length=10, description="The passages the answer cited."
    )
    verdict: Literal["up", "down"] = Field(description="Whether the answer helped.")


class FeedbackRecorded(BaseModel):
    id: int = Field(description="The verdict's number in the archive's feedback.")


class Suggestions(BaseModel):
    suggestions: list[str] = Field(
        description="Questions this archive answers, from its latest articles: starters for "
        "a reader who does not know what to ask. Empty for an empty archive."
    )


class ArticleUpload(BaseModel):
    article_id: str = Field(
        pattern=r"^[\w.-]{1,200}$", description="Letters, digits, '_', '.', '-'; as a file stem."
    )
    text: str = Field(
        min_length=1,
        max_length=60_000,
        description="The article in the seed-file format: header line, one paragraph a line.",
    )


class ArticleWritten(BaseModel):
    article_id: str
    passages: int
    replaced: bool


class ArticleDeleted(BaseModel):
    article_id: str
    deleted: bool


class ErrorBody(BaseModel):
    detail: str


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]
    took_ms: float
    partial: bool = Field(
        False, description="True when some shards of a cluster did not answer: hits from the rest."
    )
    missing_shards: list[str] | None = Field(
        None, description="The shards that did not answer, when partial; null otherwise."
    )


class ArticleSummary(BaseModel):
    article_id: str
    title: str
    date: str | None
    dateline: str | None
    agency: str | None
    passages: int


class ArticleList(BaseModel):
    total: int
    offset: int
    limit: int
    articles: list[ArticleSummary]


class ParagraphBody(BaseModel):
    number: int
    heading: str | None
    text: str
    speaker: str | None


class ArticleDetail(ArticleSummary):
    source_url: str | None = Field(description="The publisher's page of the article, if given.")
    author: str | None
    paragraphs: list[ParagraphBody]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model: str
    articles: int
    passages: int
    sentences: int
    generation: int
    # What an operator should know though the archive answers: a read-only folder, index
    # files behind the store after a committed write could not save them.
    warnings: list[str] = []
