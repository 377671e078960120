"""The calibrated confidence: one coefficient per signal, and it moves the way the data did."""

from __future__ import annotations

from dataclasses import fields, replace

from qa.confidence import COEFFICIENTS, Signals, confidence

_TYPICAL = Signals(
    relevance=0.9,
    cosine=0.5,
    kind_missing=False,
    specifics=1.0,
    margin=0.1,
    quote_coverage=0.5,
    negated=False,
    negation_unmatched=False,
)


def test_one_coefficient_per_signal() -> None:
    assert len(COEFFICIENTS) == len(fields(Signals)) == len(_TYPICAL.features())


def test_confidence_is_a_probability_that_rises_with_closeness() -> None:
    low, high = confidence(replace(_TYPICAL, cosine=0.2)), confidence(replace(_TYPICAL, cosine=0.8))
    assert 0.0 < low < confidence(_TYPICAL) < high < 1.0


def test_an_unmatched_negation_lowers_confidence() -> None:
    negated = replace(_TYPICAL, negated=True, negation_unmatched=True)
    assert confidence(negated) < confidence(replace(_TYPICAL, negated=True)) < confidence(_TYPICAL)
