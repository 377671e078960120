"""Word lists for reading who is quoted: speech cues, roles, titles and honorifics, and the
words that open, fill or end the subject of a cue."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bm25s.stopwords import STOPWORDS_EN_PLUS

from qa.lexicon import GROUP_WORDS, OPENING_WORDS, TITLE_NOUNS

__all__ = [
    "AFTER_SUBJECT_ENDS",
    "ARTICLES",
    "CLAUSE_OPENERS",
    "CUE_PARTICIPLES",
    "CUE_VERBS",
    "CUE_WORDS",
    "HONORIFICS",
    "LEADER_ROLES",
    "LEADER_TITLES",
    "NAME_ABBREVIATIONS",
    "NOT_NAMES",
    "NOT_SURNAMES",
    "PREPOSITIONS",
    "PRONOUNS",
    "ROLE_ENDS",
    "ROLE_NOUNS",
    "SPLIT_WORDS",
    "STOPWORDS",
    "SUBJECT_FILLERS",
    "SUFFIXES",
    "SURNAME_TITLES",
    "TITLE_GENDERS",
    "TITLE_WORDS",
    "WEEKDAYS",
    "alternation",
]


def alternation(words: Iterable[str]) -> str:
    """A word list as a regular-expression alternation, longest first, the same on every run."""
    return "|".join(sorted((re.escape(word) for word in words), key=lambda w: (-len(w), w)))


def _phrases(text: str) -> frozenset[str]:
    """Comma-separated phrases, some of more than one word ("pointed out", "head of state")."""
    return frozenset(" ".join(phrase.split()) for phrase in text.split(","))


# -- cues --------------------------------------------------------------------------------------

# Verbs that attribute the words before or after them to a speaker ("Shoigu said", "said Putin").
CUE_VERBS = _phrases(
    """
    said, says, say, added, adds, stressed, stresses, stated, states, noted, notes, pointed out,
    points out, pointed to, points to, emphasized, emphasised, emphasizes, emphasises,
    underlined, underlines, underscored, underscores, explained, explains, told, tells,
    declared, declares, warned, warns, announced, announces, suggested, suggests, proposed,
    proposes, argued, argues, insisted, insists, urged, urges, remarked, continued, recalled,
    recalls, believes, wrote, writes, asserted, asserts, claimed, claims, acknowledged,
    acknowledges, admitted, admits, observed, commented, reiterated, replied, responded,
    affirmed, concluded, predicted, vowed, vows, promised, promises, complained, confirmed,
    denied, revealed, assured, cautioned, reported, went on, tweeted, tweets, called, calls,
    described, describes, asked, asks, demanded, demands, blasted, criticized, criticised,
    dismissed, mocked, cited, boasted, likened, lauded, praised, scolded, countered, conceded,
    joked, quipped, lamented, bemoaned, chimed in, characterized, accused, slammed, yelled,
    yells, shouted, shouts, sang, sings, recounted, testified, wondered, maintained, pledged,
    touted, hailed, condemned, decried, derided, branded, labeled, labelled, referred to,
    pressed, reacted, opined, estimated
    """
)
# Participles that take the subject of their clause ("Trump mocked the complaint, saying").
CUE_PARTICIPLES = _phrases(
    """
    saying, adding, noting, stressing, telling, arguing, insisting, warning, claiming, calling,
    describing, questioning, promising, urging, asking, explaining, declaring, accusing, vowing,
    suggesting, tweeting, writing, pointing out, emphasizing, emphasising, recalling
    """
)
# Every word of a cue: none ends a title before a name ("Trump told Anna Berg").
CUE_WORDS = frozenset(word for cue in CUE_VERBS | CUE_PARTICIPLES for word in cue.split())

# -- roles and titles --------------------------------------------------------------------------

# The nouns of a role phrase that stands for a person ("the Russian leader", "a spokesman").
ROLE_NOUNS = _phrases(
    """
    head of state, head of government, prime minister, leader, president, minister, secretary,
    chancellor, premier, spokesman, spokeswoman, spokesperson, official, ambassador, envoy,
    general, commander, senator, governor, mayor, director, chairman, chairwoman, chief,
    diplomat, lawmaker, king, queen, pope, ceo, representative, adviser, advisor, deputy,
    nominee, candidate, speaker, congressman, congresswoman, attorney, judge, justice, host,
    executive
    """
)
# Roles that any head of a country fills: "the Russian leader" is whoever is president.
LEADER_ROLES = frozenset({"leader", "head of state", "head of government"})
# The titles a leader role fits.
LEADER_TITLES = frozenset(
    {"president", "prime minister", "chancellor", "premier", "king", "queen", "leader"}
)
# Honorifics: title words, but no part of a title that names one person ("Sen.", "Mr.").
HONORIFICS = frozenset(
    "mr mrs ms miss sir lady dr rep sen gov gen lt col del rev prof sgt capt adm maj".split()
)
# Words written short inside a name, full stop and all ("Sen. Bernie Sanders", "Martin Luther
# King Jr.", "St. John").
NAME_ABBREVIATIONS = (HONORIFICS - {"miss", "sir", "lady"}) | {"jr", "sr", "st"}
# Honorifics and titles that say which pronoun a person takes; any other takes either.
TITLE_GENDERS: Mapping[str, str] = MappingProxyType(
    {
        "mr": "m", "mrs": "f", "ms": "f", "miss": "f", "sir": "m", "lady": "f",
        "spokesman": "m", "chairman": "m", "congressman": "m", "spokeswoman": "f",
        "chairwoman": "f", "congresswoman": "f", "widow": "f", "king": "m", "queen": "f",
    }
)  # fmt: skip
# The words a title is made of ("Russian Defense Minister", "former Secretary of State").
TITLE_WORDS = (
    frozenset(word for role in ROLE_NOUNS for word in role.split())
    | HONORIFICS
    | frozenset(TITLE_GENDERS)
    | {"defense", "defence", "foreign", "vice", "prime", "state", "first", "former", "acting"}
)
# Where a title ends and a name begins: "Avalanche head coach | Jared Bednar".
SPLIT_WORDS = TITLE_WORDS | TITLE_NOUNS
# The nouns a title ends with ("... minister", "... head of state", "... coach").
ROLE_ENDS = frozenset(role.split()[-1] for role in ROLE_NOUNS) | TITLE_NOUNS
# A capitalised last word that is a surname more often than a title ("Charlie King").
SURNAME_TITLES = frozenset({"king", "queen", "general", "justice", "speaker", "host"})

# -- names -------------------------------------------------------------------------------------

# What follows a surname and is no part of it ("Martin Luther King Jr.").
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# "Don" and "Ma" are names; the stopword list has them for "don't" and "ma'am".
NOT_NAMES = (STOPWORDS - {"don", "won", "ma"}) | OPENING_WORDS
# A surname names one person: no group ("Democrats") and no suffix.
NOT_SURNAMES = NOT_NAMES | GROUP_WORDS | SUFFIXES
# The pronouns that refer to the last person of their gender.
PRONOUNS = frozenset({"he", "she"})
# A role after an article ("the spokesman") refers to someone; an article is no title.
ARTICLES = frozenset({"the", "a", "an"})

# -- around a subject --------------------------------------------------------------------------

# Words that open a clause: what follows them can be a subject ("when she said").
CLAUSE_OPENERS = frozenset(
    """
    and but or so yet then when while as because after before since although though if that
    which who where once until
    """.split()
)
# A preposition before a name makes it an object, not a subject ("footage of X").
PREPOSITIONS = frozenset(
    """
    of at in on for with from by to about against toward towards into over under between among
    than like via through during
    """.split()
)
# Words between a subject and its verb ("Shoigu has also said", "Trump later said"), dropped
# before the subject is read; adverbs in "-ly" and days ("on Monday") are dropped too.
SUBJECT_FILLERS = frozenset(
    """
    has have had is are was were been will would could should may might did does not never
    also further then later again earlier once previously just already still even today
    yesterday tonight
    """.split()
)
# Days as the text writes them, capitalised ("Trump on Monday said").
WEEKDAYS = frozenset("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())
# Words that end the subject after an inverted cue: "said Rep. Jane Roe of Ohio", "said Putin
# when ...".
AFTER_SUBJECT_ENDS = frozenset(
    """
    of who at in on for from during after before that as when while to about with and but
    because if
    """.split()
)
