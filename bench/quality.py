"""Answer quality, measured through the product's own code paths: ``bench/squad.py`` (SQuAD
v1.1 retrieval, extraction and abstention), ``bench/polnear.py`` (who is quoted) and
``bench/seeds.py`` (the seed questions over a real Archive), one after another.

Data is read from ``../shared/data``, never copied; encodings are cached (``bench/corpus.py``).
"""

from __future__ import annotations

from bench import polnear, seeds, squad

__all__ = ["main"]


def main() -> None:
    for part in (squad, polnear, seeds):
        part.main()
