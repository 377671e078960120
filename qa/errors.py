"""Domain errors, each with a message a user can act on; mapped to HTTP in one place (qa.api)."""

from __future__ import annotations

__all__ = [
    "DatelineError",
    "EmptyQuestionError",
    "IndexNotBuiltError",
    "ArticleNotFoundError",
    "DuplicateArticleError",
]


class DatelineError(Exception):
    """Base of every error the user should see as one line, never as a traceback."""


class EmptyQuestionError(DatelineError, ValueError):
    def __init__(self) -> None:
        super().__init__(
            "The question is empty: ask something, e.g. 'What did Putin say about training?'"
        )


class IndexNotBuiltError(DatelineError):
    def __init__(self, data_dir: str) -> None:
        super().__init__(f"No index in {data_dir}: run `dateline ingest` first.")


class ArticleNotFoundError(DatelineError, LookupError):
    def __init__(self, article_id: str) -> None:
        super().__init__(f"No article with id {article_id!r}.")
        self.article_id = article_id


class DuplicateArticleError(DatelineError):
    def __init__(self, article_id: str, twin: str) -> None:
        super().__init__(f"Article {article_id!r} has the same text as article {twin!r}.")
