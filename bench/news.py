"""Real news questions and adversarial unanswerable ones, asked of a real Archive:
``bench/realtimeqa.py`` then ``bench/squad2.py``.

Data is read from ``../shared/data``, never copied.
"""

from __future__ import annotations

from bench import realtimeqa, squad2

__all__ = ["main"]


def main() -> None:
    for part in (realtimeqa, squad2):
        part.main()
