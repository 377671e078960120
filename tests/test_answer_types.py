"""What a question asks for, and which sentences supply it."""

from __future__ import annotations

import pytest

from qa.answer_types import Kind, expectation, name_runs
from qa.places import is_place


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who won the 2022 Stanley Cup?", Kind.PERSON),
        ("Which actress won the award?", Kind.PERSON),
        ("When are loan payments set to restart?", Kind.TIME),
        ("In what year did the war end?", Kind.TIME),
        ("How many months was her detention extended?", Kind.QUANTITY),
        ("How much did the company pay?", Kind.QUANTITY),
        ("What percentage of voters agreed?", Kind.QUANTITY),
        ("Where was the event?", Kind.PLACE),
        ("Which island nation plunged into chaos?", Kind.PLACE),
        ("Floods hit which states this week?", Kind.PLACE),
        ("Which wildly popular show was renewed?", Kind.NAME),
        ("Which company makes the vaccine?", Kind.NAME),
        ("What did Putin say about training?", Kind.ANY),
        ("What special announcement did the couple make?", Kind.ANY),
        ("Why did cities cancel fireworks?", Kind.ANY),
        # The head noun ends at "of" or a verb: a head of state is a person, not a place.
        ("Which head of state announced his resignation?", Kind.PERSON),
        ("Which measure did lawmakers leave out?", Kind.ANY),
        ("The agency announced it will do what this week?", Kind.ANY),
        # A common noun may be answered by a common noun ("baby formula"); a title by a name.
        ("Which product remains hard to find?", Kind.ANY),
        ("Which movie leads the box office?", Kind.NAME),
        ("What is the mission called?", Kind.NAME),
    ],
)
def test_kind_of_answer_asked_for(question: str, kind: Kind) -> None:
    assert expectation(question).kind is kind


def test_a_name_the_question_already_says_supplies_nothing() -> None:
    expected = expectation("Which team did Deshaun Watson join?")
    assert not expected.supplied_by("Deshaun Watson was suspended for six games.")
    assert expected.supplied_by("Watson signed with the Cleveland Browns in March.")


def test_a_sentence_that_only_describes_the_asked_thing_refers_back() -> None:
    expected = expectation("Which wildly popular show was green lit for a new season?")
    restating = "Netflix announced Sunday that the wildly popular South Korean show is green lit."
    assert expected.refers_back(restating)
    assert not expected.supplied_by(restating)
    assert expected.supplied_by("“Squid Game” is officially coming back.")


def test_times_and_quantities_new_to_the_question() -> None:
    when = expectation("When will the vaccine be available in 2022?")
    assert when.supplied_by("It will ship next month.")
    assert when.supplied_by("Doses arrive on Tuesday.")
    assert not when.supplied_by("The vaccine was developed in 2022.")
    many = expectation("How many baby swings were recalled?")
    assert many.supplied_by("About 2 million swings were recalled.")
    assert many.supplied_by("Three hundred rockers were recalled too.")
    assert not many.supplied_by("Baby swings were recalled after reports of injuries.")


def test_any_question_is_supplied_by_every_sentence() -> None:
    expected = expectation("Why did cities cancel fireworks?")
    assert expected.supplied_by("the drought.")
    assert not expected.refers_back("It was dry.")


def test_specifics_are_the_questions_names_and_numbers() -> None:
    expected = expectation("When was the Baryczko house built in 1562?")
    assert expected.specifics == {"baryczko", "1562"}
    assert expectation("What is the capital of France?").specifics == {"france"}


def test_a_sentence_opening_with_a_pronoun_refers_back_yet_may_name_the_answer() -> None:
    """ "It" sends the reader to the sentence before; a sentence opening with "It" can still be
    that sentence before, when it names the thing asked for."""
    expected = expectation("Which show received the most nominations?")
    lead = "It was a good morning for the cast of “Succession” and “Ted Lasso.”"
    assert expected.refers_back(lead) and expected.supplied_by(lead)
    assert expected.refers_back("The shows on Tuesday earned several nominations.")


def test_a_place_is_a_known_place_or_a_name_after_in_or_near() -> None:
    """ "Which country": a capitalised word is no place ("JMA"); a country, a state, a
    nationality, or a name after "in" is."""
    country = expectation("A volcano eruption in which country prompted a Level 5 alert?")
    assert country.kind is Kind.PLACE
    assert not country.supplied_by("JMA announced a Level 5 alert – the highest level.")
    assert country.supplied_by("Japan’s Sakurajima volcano erupted on Sunday.")
    assert country.supplied_by("Japanese officials raised the alert.")
    assert not country.supplied_by("Rescuers were sent to Whitewood on Monday.")
    assert country.supplied_by("Crews worked through the night in Whitewood.")
    state = expectation("Severe flooding hit which state?")
    assert state.supplied_by("Floods tore through a rural Virginia county.")
    assert not state.supplied_by("Buchanan County Sheriff Eric Breeding said crews searched.")


def test_a_person_is_a_name_that_is_no_place_organisation_or_group() -> None:
    who = expectation("Which NFL star announced his retirement?")
    assert who.supplied_by("Tight end Rob Gronkowski retired on Tuesday.")
    assert not who.supplied_by("The State Department said Democrats in Congress objected.")
    assert not who.supplied_by("The NFL said Wednesday that Japan hosts a game.")
    assert not who.supplied_by("The ruling angered U.S. officials.")
    assert not who.supplied_by("The deal was signed with AT&T on Monday.")


def test_names_are_capitalised_runs_less_openers_dates_and_possessives() -> None:
    assert name_runs("On Monday, the NFL’s Cleveland Browns met in March.") == [
        "NFL",
        "Cleveland Browns",
    ]
    assert name_runs("The deal was signed with AT&T on Monday.") == ["AT&T"]


def test_how_many_of_a_unit_takes_a_figure_of_that_unit() -> None:
    minutes = expectation("How many minutes did the riot go on before the video?")
    assert not minutes.supplied_by("The riot lasted a little more than three hours.")
    assert minutes.supplied_by("Exactly 187 minutes later, a video was posted.")
    swings = expectation("How many baby swings were recalled?")
    assert not swings.supplied_by("Millions of baby swings were recalled.")
    assert not swings.supplied_by("The statement from 4moms urged parents to stop.")


def test_a_figure_counting_another_thing_the_question_names_answers_no_how_much() -> None:
    forgiven = expectation("How much loan forgiveness will eligible borrowers receive?")
    assert not forgiven.supplied_by("Nearly 8 million borrowers may get forgiveness.")
    assert forgiven.supplied_by("Borrowers will have up to $20,000 of their debt forgiven.")
    assert forgiven.supplied_by("About 8 million borrowers will get $10,000 each.")
    counted = expectation("How many borrowers will receive loan forgiveness?")
    assert counted.supplied_by("Nearly 8 million borrowers may get forgiveness.")
    assert counted.supplied_by("Forgiveness reaches 43 million people.")


def test_a_negation_in_the_background_before_the_question_is_not_the_questions() -> None:
    background = "A few major reforms were not included in the deal."
    assert not expectation(f"{background} Which measure did lawmakers leave out?").negated
    assert expectation("Which measure was not included in the deal?").negated
    assert expectation("Who never signed the deal?").negated
    # "U.S." ends no sentence: the question's own "not" stays its own.
    assert expectation("What did the U.S. Senate not pass?").negated


def test_places_are_countries_capitals_provinces_nationalities_and_regions() -> None:
    for place in ("Virginia", "Saudi Arabia", "US", "Kabul", "Kābul", "Japanese", "Southwest"):
        assert is_place(place), place
    for name in ("JMA", "Level", "Netflix", "Squid Game"):
        assert not is_place(name), name
