"""Speaker attribution, paragraph by paragraph on both seed articles, and its rules."""

from __future__ import annotations

from qa.articles import read_article
from qa.sentences import sentence_spans
from qa.speakers import attribute_speakers, is_attribution, mask_quotes

from .conftest import PUTIN_ARTICLE, SEEDS, SHOIGU_ARTICLE


def _speakers(paragraphs: list[str]) -> tuple[list[str | None], list[list[str | None]]]:
    result = attribute_speakers(paragraphs, [sentence_spans(p) for p in paragraphs])
    return result.paragraphs, result.sentences


def _seed(article_id: str) -> list[str]:
    return [p.text for p in read_article(SEEDS / f"{article_id}.txt", 10**6).paragraphs]


def test_every_shoigu_paragraph() -> None:
    paragraphs, sentences = _speakers(_seed(SHOIGU_ARTICLE))
    assert paragraphs == ["Sergey Shoigu"] * 10
    assert all(speaker == "Sergey Shoigu" for row in sentences for speaker in row)


def test_every_putin_paragraph() -> None:
    paragraphs, _ = _speakers(_seed(PUTIN_ARTICLE))
    assert paragraphs == ["Vladimir Putin"] * 8


def _people(texts: list[str]) -> dict[str, set[str]]:
    people = attribute_speakers(texts, [sentence_spans(t) for t in texts]).people
    return {name: person.aliases for name, person in people.items()}


def test_aliases_collected_from_titles_and_roles() -> None:
    """ "the head of state" names Putin in his article, but every head of state in an archive:
    a bare role is no alias (it was one until bare titles were found naming everyone)."""
    aliases = _people(_seed(PUTIN_ARTICLE))
    assert set(aliases) == {"Vladimir Putin"}
    assert aliases["Vladimir Putin"] == {
        "putin",
        "vladimir putin",
        "russian president",
        "russian leader",
    }


def test_titles_are_aliases_only_when_they_name_one_person() -> None:
    aliases = _people(
        [
            '"Yes," President Joe Biden said.',
            '"No," Prime Minister Boris Johnson said.',
            '"Maybe," Defense Minister Anna Berg said.',
            '"Soon," Russian Defense Minister Sergey Shoigu said.',
            '"Later," Japan’s defense minister Nobuo Kishi said.',
            '"Never," her spokesman Tom Lee said.',
        ]
    )
    assert aliases == {
        "Joe Biden": {"joe biden", "biden"},
        "Boris Johnson": {"boris johnson", "johnson"},
        "Anna Berg": {"anna berg", "berg"},
        "Sergey Shoigu": {"sergey shoigu", "shoigu", "russian defense minister"},
        "Nobuo Kishi": {"nobuo kishi", "kishi", "japan’s defense minister"},
        "Tom Lee": {"tom lee", "lee"},
    }


def test_organisations_are_named_whole() -> None:
    """ "company", "department" or "service" alone would name every body of the kind."""
    texts = [
        '"Rates will rise," Pacific Gas Electric Company said.',
        '"We are watching," the State Department said.',
        '"The park is closed," the National Park Service said.',
        '"Profits fell," the Company said.',
    ]
    paragraphs, _ = _speakers(texts)
    assert paragraphs == [
        "Pacific Gas Electric Company",
        "State Department",
        "National Park Service",
        "Pacific Gas Electric Company",
    ]
    assert _people(texts) == {
        "Pacific Gas Electric Company": {"pacific gas electric company"},
        "State Department": {"state department"},
        "National Park Service": {"national park service"},
    }
    assert _people(['"Profits fell," the Company said.']) == {"Company": set()}


def test_names_are_capitalised_words_only() -> None:
    """No run-in before a name, no possessive or contraction in it, no group for a name."""
    texts = [
        '"We will win," coach Jared Bednar said.',
        '"It was a shock," shortly Trump said.',
        "Joe Biden’s plan was announced on Monday.",
        '"We lost." That’s what Anna Berg told reporters.',
        '"It works," Martin Luther King Jr. said.',
        "Liberal John A. Hobson and Marxist Vladimir Lenin added a new meaning to the term.",
        '"We disagree," Democrats said.',
        '"Much has changed," Much said.',
    ]
    paragraphs, _ = _speakers(texts)
    assert paragraphs == [
        "Jared Bednar",
        "Trump",
        None,
        "Anna Berg",
        "Martin Luther King Jr",
        "Vladimir Lenin",
        None,
        None,
    ]
    aliases = {alias for names in _people(texts).values() for alias in names}
    assert aliases == {
        "jared bednar",
        "bednar",
        "trump",
        "anna berg",
        "berg",
        "martin luther king jr",
        "king",
        "vladimir lenin",
        "lenin",
    }


def test_organisations_are_nobodys_he_or_she() -> None:
    paragraphs, _ = _speakers(
        [
            '"We won," Anna Berg said.',
            "The Washington Post reported the result on Monday.",
            '"It was close," she said.',
        ]
    )
    assert paragraphs == ["Anna Berg", "Washington Post", "Anna Berg"]


def test_narration_has_no_speaker_and_quotes_continue() -> None:
    paragraphs, _ = _speakers(
        [
            "The meeting was held in Minsk on Friday.",
            '"We will act," Foreign Minister Anna Berg said.',
            '"And we will act fast."',
            "Delegates then left the hall.",
            "She added that talks would resume.",
        ]
    )
    assert paragraphs == [None, "Anna Berg", "Anna Berg", None, "Anna Berg"]


def test_inverted_and_according_to() -> None:
    paragraphs, _ = _speakers(
        [
            '"Prices will rise," said John Smith, the bank\'s chief economist.',
            "Exports fell sharply, according to Maria Lopez.",
            "Smith disagreed, the report states.",
        ]
    )
    assert paragraphs == ["John Smith", "Maria Lopez", None]


def test_cues_inside_quotes_are_ignored() -> None:
    paragraphs, _ = _speakers(['"Nobody said it would be easy," Ivan Petrov stressed.'])
    assert paragraphs == ["Ivan Petrov"]
    masked, spans = mask_quotes('a "b c" d')
    assert spans == [(2, 7)] and masked[2:7] == "\x00" * 5


def test_pronoun_without_antecedent_has_no_speaker() -> None:
    assert _speakers(["He said the plan was ready."])[0] == [None]


def test_inverted_cue_with_honorifics_initials_and_party() -> None:
    paragraphs, _ = _speakers(
        [
            '"This is a disgusting day," said Rep. G.K. Butterfield (D-N.C.), head of the caucus.',
            '"There is a need for oversight," said Ronald R. Fieldstone, a Miami lawyer.',
            '"It was a place they found common ground," said the Rev. Peter Wherry of Ohio.',
            '"I thought he did well," said MSNBC host Chris Matthews.',
        ]
    )
    assert paragraphs == [
        "G.K. Butterfield",
        "Ronald R. Fieldstone",
        "Peter Wherry",
        "Chris Matthews",
    ]


def test_appositives_between_name_and_verb() -> None:
    paragraphs, _ = _speakers(
        [
            '"Our assumption is that the veto will fail," Senate Majority Leader Mitch McConnell,'
            " R-Ky., said Tuesday.",
            "Kerr Putney, the Charlotte-Mecklenburg police chief, said the video was"
            ' "inconclusive."',
            "Michael Mulgrew, president of the teachers union, which represents educators, said it"
            ' was "a message."',
            '"It\'s an invasion," Scott Pruitt, the attorney general of Oklahoma, one of the states'
            " suing the EPA, said.",
            "Tad Devine, Sanders' senior media adviser, said Republicans were engaged in"
            ' "mischief."',
        ]
    )
    assert paragraphs == [
        "Mitch McConnell",
        "Kerr Putney",
        "Michael Mulgrew",
        "Scott Pruitt",
        "Tad Devine",
    ]


def test_participles_dashes_and_transcripts() -> None:
    paragraphs, _ = _speakers(
        [
            'Donald Trump attacked Clinton in a speech, saying, "She is trigger-happy."',
            '"Maybe we can build a wall around it." ― Steve Quinlan',
            "PENCE: Well, look, this is serious business.",
            'Hillary Clinton is describing the tweet as "unhinged."',
        ]
    )
    assert paragraphs == ["Donald Trump", "Steve Quinlan", "Pence", "Hillary Clinton"]


def test_pronouns_follow_gender_and_the_subject_of_the_story() -> None:
    paragraphs, _ = _speakers(
        [
            '"We will win," said Mr. John Smith, the mayor.',
            '"We will not," said Ms. Jane Doe, a teacher.',
            '"Never," he added.',
            '"Soon," she said.',
            "Bob Stone blamed local officials on Twitter.",
            '"They made all the wrong moves," he wrote.',
        ]
    )
    assert paragraphs == [
        "John Smith",
        "Jane Doe",
        "John Smith",
        "Jane Doe",
        None,
        "Bob Stone",
    ]


def test_unnamed_and_group_sources_name_nobody() -> None:
    paragraphs, _ = _speakers(
        [
            '"We will act," Foreign Minister Anna Berg said.',
            '"The talks failed," a spokesman said.',
            "Officials said the plan had failed.",
            '"It was a mistake," sources said.',
        ]
    )
    assert paragraphs == ["Anna Berg", None, None, None]


def test_a_paragraph_belongs_to_whoever_it_quotes() -> None:
    paragraphs, sentences = _speakers(
        ['Kerr Putney told CNN the video was unclear. Jennifer Roberts called it "inconclusive."']
    )
    assert paragraphs == ["Jennifer Roberts"]
    assert sentences == [["Kerr Putney", "Jennifer Roberts"]]


def test_people_are_only_those_who_speak() -> None:
    texts = ["Bob Stone met Anna Berg on Friday.", '"We agreed," Berg said.']
    people = attribute_speakers(texts, [sentence_spans(t) for t in texts]).people
    assert set(people) == {"Anna Berg"}
    assert {"anna berg", "berg"} <= people["Anna Berg"].aliases


def test_is_attribution() -> None:
    assert is_attribution("said Russian President Vladimir Putin.")
    assert is_attribution("he added.")
    assert not is_attribution('"We said so," he added.')
    assert not is_attribution("The weather was mild.")


def test_honorifics_alone_are_no_alias() -> None:
    """ "Mr." or "Rep." would name every man or congressman in the archive."""
    texts = ['"We will win," said Rep. John Smith.', '"Yes," said Mr. Bob Stone, the mayor.']
    people = attribute_speakers(texts, [sentence_spans(t) for t in texts]).people
    assert people["John Smith"].aliases == {"john smith", "smith"}
    assert people["Bob Stone"].aliases == {"bob stone", "stone"}


def test_a_surname_named_first_takes_the_full_name_seen_later() -> None:
    """ "Smith" and "John Smith Jr." are one speaker, under the fuller name, in every paragraph."""
    texts = ['"Yes," Smith said.', '"No," John Smith Jr. said.', '"Maybe," Smith added.']
    result = attribute_speakers(texts, [sentence_spans(t) for t in texts])
    assert result.paragraphs == ["John Smith Jr"] * 3
    assert {name: person.aliases for name, person in result.people.items()} == {
        "John Smith Jr": {"john smith jr", "smith"}
    }
