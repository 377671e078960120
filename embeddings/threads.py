"""Running one call on the calling thread alone, for libraries with per-thread OpenMP teams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["threads_limited"]


@contextmanager
def threads_limited(
    get: Callable[[], int], set_to: Callable[[int], None], n: int = 1
) -> Iterator[None]:
    """Run the block with ``n`` threads, then restore the count (OpenMP's is per thread)."""
    before = get()
    set_to(n)
    try:
        yield
    finally:
        set_to(before)
