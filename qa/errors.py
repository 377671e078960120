"""Domain errors, each with a message a user can act on; mapped to HTTP in one place (qa.api)."""

from __future__ import annotations

__all__ = [
    "DatelineError",
    "EmptyQuestionError",
    "IndexNotBuiltError",
    "ArticleNotFoundError",
    "DuplicateArticleError",
    "StorageError",
    "DiskFullError",
    "ReadOnlyArchiveError",
    "RESTORE",
    "StoreDamagedError",
    "WriteAheadLogLostError",
    "ClusterError",
    "NotAClusterError",
    "ClusterReadOnlyError",
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


class StorageError(DatelineError):
    """A write the archive's folder could not take; nothing of it was stored."""


class DiskFullError(StorageError):
    def __init__(self, said: str) -> None:
        super().__init__(
            f"the disk holding the archive is full ({said}): free some space and try again;"
            " what was stored before is intact"
        )
        self.said = said


class ReadOnlyArchiveError(StorageError):
    def __init__(self, said: str) -> None:
        super().__init__(
            f"the archive's folder cannot be written ({said}): it answers questions but takes"
            " no writes"
        )


# What to do about a damaged store: its articles are the one thing that cannot be derived.
RESTORE = (
    "restore store.sqlite from a backup made with `dateline backup`, or ingest the articles"
    " again into an empty folder"
)


class StoreDamagedError(DatelineError):
    def __init__(self, said: str) -> None:
        super().__init__(
            f"the archive's store is damaged ({said}): {RESTORE}; `dateline check` tells more"
        )
        self.said = said


class WriteAheadLogLostError(StoreDamagedError):
    """Writes after the log's deletion would be acknowledged and lost at the next start."""

    def __init__(self) -> None:
        DatelineError.__init__(
            self,
            "the store's write-ahead log (store.sqlite-wal) was deleted while the archive was"
            " open: writes are refused from now on, since they would be lost; restart the"
            " server, then add again what was written after the log was deleted",
        )
        self.said = "its write-ahead log was deleted while open"


class ClusterError(DatelineError):
    """A cluster command that cannot go on: the message says why and what to do."""


class NotAClusterError(ClusterError):
    def __init__(self, data_dir: str, said: str) -> None:
        super().__init__(
            f"{data_dir} is not a cluster ({said}): run `dateline cluster ingest` to make one"
        )


class ClusterReadOnlyError(ClusterError):
    """A write sent to a cluster's server, which takes none: the message says where it goes."""
