"""How sure an answer is that it holds what was asked: one calibrated probability.

Several weak signals, each of which alone barely tells an answerable question from one written
to look answerable, are combined by logistic regression. ``bench/calibrate.py`` fits the
coefficients on SQuAD 2.0 dev part 1 (answerable against unanswerable and off-topic questions)
and prints them; they are copied here, so answering needs neither scikit-learn nor the data.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

__all__ = ["COEFFICIENTS", "INTERCEPT", "Signals", "confidence"]


@dataclass(frozen=True)
class Signals:
    """What the best citation says about the answer; the order is the coefficients' order."""

    relevance: float  # best sentence's cosine plus weighted word coverage of its passage
    cosine: float  # best sentence's cosine alone
    kind_missing: bool  # it asks for a name, date, number or place and the quote holds none
    specifics: float  # share of the question's names and numbers found in the passage
    margin: float  # relevance ahead of the next candidate passage
    quote_coverage: float  # share of the question's content words in the quote itself
    negated: bool  # the question says "not" or "never"
    negation_unmatched: bool  # ... and the quote does not

    def features(self) -> tuple[float, ...]:
        return tuple(float(value) for value in astuple(self))


# Fitted by bench/calibrate.py on onnx-int8 vectors. Relevance and cosine overlap, so read
# their weights together.
COEFFICIENTS = (-0.8211, 5.4481, -0.0541, 0.2721, -0.1279, 1.1797, -0.3812, -2.2272)
INTERCEPT = -3.5157


def confidence(signals: Signals) -> float:
    """The probability that the answer is right, by the fitted logistic model."""
    logit = INTERCEPT + sum(w * x for w, x in zip(COEFFICIENTS, signals.features(), strict=True))
    return 1 / (1 + math.exp(-logit))
