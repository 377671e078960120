"""The JSON contract shared by the CLI (``--json``) and the HTTP API; it may grow, never shrink."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_QUESTION_CHARS",
    "Answer",
    "Citation",
    "DateWindow",
    "HistoryTurn",
    "SearchFilters",
    "SearchHit",
    "Segment",
]

# The longest question the API and the CLI take, once trimmed.
MAX_QUESTION_CHARS = 1000


class Citation(BaseModel):
    n: int = Field(description="The marker [n] in the answer text.")
    article_id: str
    title: str
    date: str | None = Field(
        description="ISO date of the article, null if it had no readable header."
    )
    dateline: str | None
    agency: str | None
    paragraph: int = Field(description="1-based paragraph number in the article.")
    text: str = Field(description="The whole cited passage.")
    quote: str = Field(description="The extracted sentence(s), verbatim from text.")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) offsets of the quote in text, in Unicode code points."
    )
    speaker: str | None = Field(description="Who is quoted in the passage, if anyone.")
    score: float
    url: str = Field(description="Article page, anchored at the paragraph.")
    source_url: str | None = Field(
        description="The publisher's page of the article, null if the archive was not given one."
    )


class Segment(BaseModel):
    """One piece of an answer: a quote and the citation it comes from. Clients render these;
    nothing needs to read the markers in ``answer`` back."""

    text: str = Field(
        max_length=20_000, description="The quote, verbatim from its citation's text."
    )
    citation: int = Field(description="The n of the citation it comes from.")


class DateWindow(BaseModel):
    """Either end may be open: "before 2020" has no first day."""

    # "from" is a Python keyword: the field is from_, the JSON key "from" (CLI --json included).
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    from_: date | None = Field(alias="from", description="First day, YYYY-MM-DD.")
    to: date | None = Field(description="Last day, YYYY-MM-DD.")


class Answer(BaseModel):
    question: str
    answer: str = Field(description="Extracted sentences, each followed by its marker [n].")
    abstained: bool = Field(description="True when nothing relevant was found; nothing is cited.")
    citations: list[Citation]
    segments: list[Segment] = Field(
        default_factory=list,
        description="The answer as its quotes in order, each with its citation's n; empty "
        "when it abstained (``answer`` then says why).",
    )
    confidence: float = Field(
        description="Calibrated probability (0..1) that the answer holds what was asked; the "
        "answer abstains below the archive's min_confidence."
    )
    speakers: list[str] | None = Field(
        None,
        description="Whose words the answer is restricted to, when the question asks what "
        "someone said ('What did Putin say about training?'); null when anyone may be quoted.",
    )
    time_window: DateWindow | None = Field(
        None,
        description="The dates the question named ('this week', 'in June 2022'), read against "
        "as_of; only articles dated inside them were searched. Null when it named none, or when "
        "no dated article answered and articles of no date did.",
    )
    took_ms: float
    language: str | None = Field(
        None,
        description="ISO 639-1 code of the question's language when it is surely not English "
        "(the answer then says which languages are answered, unless the archive reads this "
        "one); null for English, and when the archive checks no language.",
    )
    partial: bool = Field(
        False,
        description="True when some shards of a cluster did not answer in time: the answer "
        "comes from the others. Always false for a single archive.",
    )
    missing_shards: list[str] | None = Field(
        None, description="The shards that did not answer, when partial; null otherwise."
    )


class HistoryTurn(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=20_000)
    segments: list[Segment] | None = Field(
        None,
        max_length=10,
        description="The earlier answer's segments, as it came: their quotes are not repeated. "
        "Without them, no passage whose quote the answer text holds is repeated.",
    )


class SearchFilters(BaseModel):
    date_from: date | None = Field(None, description="Earliest article date, YYYY-MM-DD.")
    date_to: date | None = Field(None, description="Latest article date, YYYY-MM-DD.")
    speaker: str | None = Field(None, max_length=200)
    article_id: str | None = Field(None, max_length=200)

    @property
    def dated(self) -> bool:
        """Whether they ask for articles of some dates (which undated ones are not)."""
        return self.date_from is not None or self.date_to is not None

    @model_validator(mode="after")
    def _dates_in_order(self) -> SearchFilters:
        """A reversed range is a mistake to report, not a question with no answer."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self


class SearchHit(BaseModel):
    article_id: str
    title: str
    date: str | None
    dateline: str | None
    agency: str | None
    paragraph: int
    heading: str | None
    text: str
    speaker: str | None
    score: float
    dense: float = Field(description="Cosine similarity of the question and the passage.")
    lexical: float = Field(description="BM25 score of the question against the passage.")
    url: str
    source_url: str | None = Field(
        description="The publisher's page of the article, null if the archive was not given one."
    )
