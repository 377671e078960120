"""Time in questions: the dates a question asks about, read against the day it is asked.

Only a time expression that places the question's event is a window: one after a temporal
preposition ("in June 2022", "during 2019", "on Friday", "since March", "between May and
July"), a deictic phrase ("this week", "last month", "two weeks ago", "the past 24 hours",
"this summer", a season being the Northern Hemisphere's), or a weekday as news English writes
it, without its preposition ("convicted Thursday"). A date inside a noun phrase ("the 2019
agreement", "last year's budget", "in 2019 talks") is a topic, not a window, and is left
alone. Dates after ``as_of`` are the future: a window there is a plan being asked about, not
when anything was reported, so it is no window either.

Every pattern is a bounded sequence of literal words over text whose white space was collapsed
to single spaces: each match attempt reads a bounded number of words, so matching is linear in
the question's length whatever it holds. Most questions name no time at all; one
precompiled scan for a date word settles that, and only an expression that matched a window
pattern reaches dateparser (imported at that first use, not at server start).
"""

from __future__ import annotations

import calendar
import functools
import itertools
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "RECENCY_HALF_LIFE_DAYS",
    "RECENCY_WEIGHT",
    "TimeWindow",
    "prepare_dates",
    "read_time",
    "recency_bonus",
]

# A recency cue adds up to this much to a passage's fused score (0..1, best passage 1): enough
# to order passages of similar relevance newest first, not to lift an off-topic new one.
RECENCY_WEIGHT = 0.2
RECENCY_HALF_LIFE_DAYS = 30
_MOST_TRIED = 4

_Span = tuple[date, date]


@dataclass(frozen=True)
class TimeWindow:
    """The first and last day a question asks about (None: open), and whether it wants news."""

    start: date | None
    end: date | None
    recent: bool
    as_of: date  # the day it was asked: nothing dated later exists for it
    rest: str  # the question without its window's words, for reading its topic
    undated: bool = False  # searched among articles of no date, the window set aside

    @property
    def explicit(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def label(self) -> str:
        """The window in words for an answer that found nothing inside it."""
        if self.start is not None and self.end is not None:
            if self.start == self.end:
                return self.start.isoformat()
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        if self.start is not None:
            return f"{self.start.isoformat()} or later"
        return f"{self.end.isoformat()} or earlier" if self.end is not None else "any day"


def recency_bonus(published: date | None, as_of: date) -> float:
    """What a recency cue adds for an article's age: the full weight on ``as_of``, halving every
    half-life before it; an undated article's age is unknown, so it gets nothing."""
    if published is None:
        return 0.0
    age = max((as_of - published).days, 0)
    return RECENCY_WEIGHT * math.pow(0.5, age / RECENCY_HALF_LIFE_DAYS)


# -- the words ----------------------------------------------------------------------------

# Full names and the usual abbreviations; "mar" is too often a verb to stand for March.
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_COUNTS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple of": 2,
    "a couple of": 2,
    "few": 3,
    "a few": 3,
}
_VAGUE = frozenset({"couple of", "a couple of", "few", "a few"})

_MONTH = rf"(?:{_MONTHS})\b\.?"
_YEAR = r"(?:19|20)\d\d\b"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
_WEEKDAY = rf"(?:{'|'.join(_WEEKDAYS)})\b"
_COUNT = rf"(?:\d{{1,3}}|{'|'.join(sorted(_COUNTS, key=len, reverse=True))})"
_UNIT_NAME = "hour|day|week|month|year"
# The Northern Hemisphere's meteorological seasons, by their first month.
_SEASON_MONTHS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_SEASON = "|".join(_SEASON_MONTHS)
_UNIT = rf"(?:{_UNIT_NAME})s?\b"
_PART = r"(?:early|mid|late)[ -]"  # "in early June": the window is still all of June
_DAYPART = r"(?: (?:morning|afternoon|evening|night)\b)?"  # not "on Saturday afternoons"
# Before a deictic phrase, a part of it that the window does not narrow: "late last week".
_EARLY = r"(?:(?:early|late|earlier) )?"

# A date phrase, longest form first: "Friday, June 3, 2022", "3rd of June", "2022-06-03",
# "June 2022", "June", "the 1990s", "2019", "Friday".
_DATE = (
    rf"(?:(?:{_WEEKDAY},? )?(?:{_MONTH} {_DAY}(?:,? {_YEAR})?|(?:the )?{_DAY}(?: of)? {_MONTH}"
    rf"(?:,? {_YEAR})?)|\d{{4}}-\d\d-\d\d\b|(?:{_PART})?{_MONTH}(?:,| of)? {_YEAR}"
    rf"|(?:{_PART})?{_MONTH}|the (?:early |mid-|late )?(?:19|20)\d0s\b|(?:{_PART})?{_YEAR}"
    rf"|{_WEEKDAY}{_DAYPART})"
)
# A deictic phrase, read against as_of: "this week", "last month", "the past three days".
_DEIXIS = (
    rf"(?:{_EARLY}(?:(?:today|yesterday){_DAYPART}|tonight|(?<!the )last night"
    rf"|the day before yesterday"
    rf"|this (?:morning|afternoon|evening)"
    rf"|(?:so far )?this (?:week|month|year)"
    rf"|(?:last|previous) (?:week|month|year|{_WEEKDAY}{_DAYPART}|{_MONTH})"
    rf"|(?:this|last|previous|the past) (?:{_SEASON})"
    rf"|(?:the |this )?(?:past|last|previous) (?:{_COUNT} )?{_UNIT}"
    rf"|{_COUNT} {_UNIT} ago|(?:the|this|last|this past|the past) weekend))\b"
)
# Words that may follow a time expression that places the event ("in 2019 about", "in 2019,",
# "in 2019 Putin"); any other lower-case word makes the date part of a noun phrase ("in 2019
# talks", "in June elections") and no window.
_FUNCTION_WORDS = (
    "a|about|after|again|against|ago|alone|already|also|amid|an|and|around|as|at|because|before"
    "|between|but|by|can|could|despite|did|do|does|during|for|from|had|has|have|he|her|his|how"
    "|i|if|in|into|is|it|its|may|might|not|on|only|or|over|regarding|said|say|says|she|should"
    "|since|so|than|that|the|their|then|there|they|this|to|told|too|toward|towards|under|until"
    "|up|upon|was|we|were|what|when|where|which|while|who|whom|whose|why|will|with|within"
    "|without|would|you"
)


# Never after a date that places the event: a possessive ("2019's"), a hyphen ("2019-era").
_NOT_MODIFYING = r"(?!['’]s\b)(?!-\w)"


def _followed_by(words: str) -> str:
    """What may come after a date that places the event: no lower-case word but ``words``."""
    return rf"{_NOT_MODIFYING}(?! (?!(?:{words})\b)(?-i:[a-z]))"


_FOLLOW = _followed_by(_FUNCTION_WORDS)
# A day after "on" is followed by the verb it dates in news English ("Biden on Wednesday
# announced"), a past tense: any word in "-ed" but "-eed" ("need", "speed"), or one of these.
# A year or a month is not so read: in "the galleries that opened in 2006 named after" the
# past participle belongs to the sentence, not to the date.
_IRREGULAR_PAST = (
    "became|began|bought|brought|broke|built|came|caught|chose|drew|drove|fell|fled|flew|forbade"
    "|forgave|fought|found|froze|gave|got|grew|held|hid|hit|hung|kept|knew|laid|led|left|lent|lost"
    "|made|meant|met|oversaw|paid|put|quit|ran|rang|rose|sank|saw|sent|set|shook|shot|shut|slid"
    "|sold|sought|spent|spoke|stole|stood|struck|swore|took|taught|threw|tore|underwent|upheld"
    "|withdrew|won|wrote"
)
_DAY_FOLLOW = _followed_by(rf"{_FUNCTION_WORDS}|{_IRREGULAR_PAST}|[a-z]+(?<!e)ed")
# A deictic phrase is followed by the verb it dates in news English ("a wildfire this week
# forced thousands to flee"); only a possessive or "of" ("the last year of the war") makes it
# part of a noun phrase.
_DEIXIS_FOLLOW = rf"{_NOT_MODIFYING}(?! of\b)"
_IN = r"(?:in|during|throughout|over)"
# Before a weekday, words that make it no bare date: a noun phrase's ("the Tuesday debate"), a
# day to come ("by Friday", "next Monday"), or those that other forms read ("on Friday", "last
# Friday").
_NOT_PLACING = (
    r"(?:a|an|any|by|coming|each|every|following|last|next|on|one|previous|some|that|the|this"
    r"|until)"
)
_NOT_OWNED = (
    "".join(
        rf"(?<!\b{word} )" for word in ("his", "her", "its", "their", "our", "my", "your", "whose")
    )
    + r"(?<!['’]s )"
)
# Before a deictic phrase, a part of the period that the window does not narrow: "at the end
# of last month" is last month. Not before a date: "a record set in the middle of June" dates
# the fact, which a later story reports.
_PART_OF = (
    r"(?:at|in|toward|towards|near|around) the (?:very )?"
    r"(?:end|start|beginning|middle|close|first half|second half) of"
)
# Taken out of the topic with a deictic phrase ("for the past week", "at the end of last
# month"); "for 2019" stays a topic.
_AROUND = rf"(?:in|during|throughout|over|within|for|on|{_PART_OF})"
_THROUGH = r"(?: ?[-–] ?| to | until | till | through | and )"

_WINDOW = re.compile(
    rf"\b(?:"
    rf"(?:(?:between|from|{_IN}) (?P<first>{_DATE}){_THROUGH}(?P<last>{_DATE})"
    rf"|(?P<relation>since|before|prior to|after|until|till|through|up to)"
    rf" (?P<anchor>{_DATE}|{_DEIXIS})"
    # "over the summer" is one past summer, where "in the summer" is as often every summer;
    # "in the summer of 1969" is one.
    rf"|{_IN} (?P<within>{_DATE}|the (?:{_SEASON}) of {_YEAR})"
    rf"|over (?P<season>the (?:{_SEASON})\b)"
    # News English drops the preposition before a weekday: "What did Putin say Friday?",
    # "convicted on 12 fraud counts Thursday", "unaccounted for early Thursday". The words
    # around it are not capitalised ("Black Friday", "Sunday Night Football" are names), and
    # the word before is not one that makes it a noun phrase or a day to come ("the Tuesday
    # debate", "by Friday").
    rf"|(?!{_NOT_PLACING}\b)(?-i:[a-z]+),? (?P<bare>(?:(?:early|late) )?{_WEEKDAY}"
    rf"(?-i:{_DAYPART}))\b(?! (?-i:[A-Z]))"
    rf"){_FOLLOW}"
    rf"|on (?P<day>{_DATE}){_DAY_FOLLOW}"
    # "his last year", "Putin's last week": a noun phrase, not the week before this one.
    rf"|(?:{_AROUND} )?{_NOT_OWNED}(?P<deixis>{_DEIXIS}){_DEIXIS_FOLLOW}"
    rf")",
    re.IGNORECASE,
)
_DATE_WORD = re.compile(
    rf"\b(?:{_MONTH}|{_WEEKDAY}|{_YEAR}|{_UNIT}|\d{{4}}-\d\d-\d\d|\d\d\d0s"
    rf"|(?:today|tonight|yesterday|morning|afternoon|evening|night|weekend|{_SEASON}|recent|recently"
    r"|lately|latest|newest|new|just|current|currently)\b)"
)  # searched in the lower-cased question: faster than ignoring case
_RECENCY = re.compile(
    r"\b(?:recent|recently|lately|latest|newest|(?-i:new)|just|current|currently"
    r"|this (?:past )?week)\b",
    re.IGNORECASE,
)

# -- reading ------------------------------------------------------------------------------


def read_time(question: str, as_of: date) -> TimeWindow:
    """The window of the question's first time expression that places its event, and whether
    it asks for the newest news ("latest", "recently", "this week")."""
    if not _DATE_WORD.search(question.lower()):
        return TimeWindow(None, None, False, as_of, question)
    text = " ".join(question.split())
    recent = _RECENCY.search(text) is not None
    # Each expression that does not resolve (a future year, "June 31") may cost a dateparser
    # call; a handful bounds a hostile question's cost.
    for match in itertools.islice(_WINDOW.finditer(text), _MOST_TRIED):
        try:
            window = _window(match, as_of)
        except (OverflowError, ValueError):  # an as_of at the edge of the calendar (year 1)
            window = None
        if window is not None:
            cut = match.span("bare") if match.group("bare") else match.span()
            return TimeWindow(window[0], window[1], recent, as_of, _without(text, cut) or question)
    return TimeWindow(None, None, recent, as_of, question)


def _window(match: re.Match[str], as_of: date) -> tuple[date | None, date] | None:
    """The matched expression as (first day or None, last day), cut at ``as_of``; None for an
    expression that names no past day."""
    found = {name: value.lower() for name, value in match.groupdict().items() if value}
    start: date | None
    if "first" in found:
        # The end's year reads the start: "from June to August 2022" is June 2022.
        last = _span(found["last"], as_of)
        first = _span(found["first"], last[1]) if last is not None else None
        if last is None or first is None:
            return None
        start, end = first[0], last[1]
    elif "relation" in found:
        span = _span(found["anchor"], as_of)
        if span is None:
            return None
        start, end = {
            "since": (span[0], as_of),
            "after": (span[1] + timedelta(1), as_of),
            "before": (None, span[0] - timedelta(1)),
            "prior to": (None, span[0] - timedelta(1)),
        }.get(found["relation"], (None, span[1]))  # until, till, through, up to
    else:
        named = next(
            found[name] for name in ("deixis", "within", "season", "day", "bare") if name in found
        )
        span = _span(named, as_of)
        if span is None:
            return None
        start, end = span
    end = min(end, as_of)
    if start is not None and start > end:
        return None
    return start, end


def _without(text: str, cut: tuple[int, int]) -> str:
    """The text with one phrase taken out, its white space and commas mended."""
    left, right = text[: cut[0]].rstrip(" ,"), text[cut[1] :].lstrip(" ,")
    joined = left + right if not right or right[0] in "?.!;:" else f"{left} {right}"
    joined = joined.strip()
    return joined if any(char.isalnum() for char in joined) else ""


# -- one phrase to its days -----------------------------------------------------------------


def _span(phrase: str, as_of: date) -> _Span | None:
    """The days a date or deictic phrase names, the latest such on or before ``as_of``."""
    phrase = re.sub(rf"^{_EARLY}", "", phrase)
    for pattern, read in _FORMS:
        found = pattern.fullmatch(phrase)
        if found is not None:
            return read(found, as_of)
    return _parsed(re.sub(rf"^{_PART}", "", phrase), as_of)


def _calendar_span(day: date, unit: str) -> _Span:
    """The calendar day, week (Monday first), month or year that holds ``day``."""
    if unit == "week":
        monday = day - timedelta(day.weekday())
        return monday, monday + timedelta(6)
    if unit == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if unit == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


def _months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _to_date(found: re.Match[str], as_of: date) -> _Span:
    """'this week' is the 7 days up to as_of; 'this month' and 'this year' start on their 1st."""
    unit = found["unit"]
    if unit == "week":
        return as_of - timedelta(6), as_of
    return _calendar_span(as_of, unit)[0], as_of


def _previous(found: re.Match[str], as_of: date) -> _Span:
    """'last week', 'last month', 'last year': the calendar one before the current one."""
    unit = found["unit"]
    if unit == "week":
        return _calendar_span(as_of - timedelta(7), unit)
    if unit == "month":
        return _calendar_span(_months_back(as_of, 1), unit)
    return _calendar_span(date(as_of.year - 1, 1, 1), unit)


def _trailing(found: re.Match[str], as_of: date) -> _Span:
    """'the past three days', 'the last month': that many units back, up to as_of."""
    count = _count(found["count"] or "1")
    unit = found["unit"]
    if unit == "hour":  # articles are dated by the day: "the past 24 hours" is since yesterday
        return as_of - timedelta(math.ceil(count / 24)), as_of
    if unit in ("day", "week"):
        days = count * (7 if unit == "week" else 1)
        return as_of - timedelta(days - 1), as_of
    months = count * (12 if unit == "year" else 1)
    return _months_back(as_of, months) + timedelta(1), as_of


def _ago(found: re.Match[str], as_of: date) -> _Span | None:
    """'two weeks ago': the calendar unit that held the day that many units back. A vague count
    ('a few days ago') spans from twice its number of units back to one unit back; hours ago
    are read as the past hours are, articles being dated by the day."""
    count, unit = found["count"], found["unit"]
    if unit == "hour":
        return _trailing(found, as_of)
    last = _parsed(f"{1 if count in _VAGUE else _count(count)} {unit}s ago", as_of)
    if count not in _VAGUE or last is None:
        return last
    first = _parsed(f"{2 * _count(count)} {unit}s ago", as_of)
    return None if first is None else (first[0], last[1])


def _weekday(found: re.Match[str], as_of: date) -> _Span:
    """'Friday' is the latest Friday on or before as_of; 'last Friday' one before as_of."""
    back = (as_of.weekday() - _WEEKDAYS.index(found["weekday"])) % 7
    if found["last"] and back == 0:
        back = 7
    day = as_of - timedelta(back)
    return day, day


def _season(found: re.Match[str], as_of: date) -> _Span:
    """'this summer' is the summer of as_of's year (a winter runs into the next); 'last summer'
    the latest one over by as_of; 'the summer' the latest one begun; 'the summer of 1969' that
    one."""
    first = _SEASON_MONTHS[found["season"]]

    def held(year: int) -> _Span:
        start = date(year, first, 1)
        return start, _months_back(start, -3) - timedelta(1)

    which = found["which"]
    if found["year"]:
        return held(int(found["year"]))
    if which == "this":
        return held(as_of.year - 1 if first == 12 and as_of.month <= 2 else as_of.year)
    seasons = [held(year) for year in (as_of.year, as_of.year - 1, as_of.year - 2)]
    if which == "the":
        return next(span for span in seasons if span[0] <= as_of)
    return next(span for span in seasons if span[1] < as_of)


def _last_month_named(found: re.Match[str], as_of: date) -> _Span | None:
    """'last June': the latest June before the current month."""
    return _parsed(found["month"], as_of.replace(day=1) - timedelta(1))


def _weekend(found: re.Match[str], as_of: date) -> _Span:
    saturday = as_of - timedelta((as_of.weekday() - 5) % 7)
    return saturday, saturday + timedelta(1)


def _decade(found: re.Match[str], as_of: date) -> _Span:
    first = int(found["decade"])
    return date(first, 1, 1), date(first + 9, 12, 31)


def _count(words: str) -> int:
    return int(words) if words.isdigit() else _COUNTS[words]


_Form = tuple[re.Pattern[str], Callable[[re.Match[str], date], _Span | None]]
_FORMS: tuple[_Form, ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), read)
    for pattern, read in (
        (rf"today{_DAYPART}|tonight|this (?:morning|afternoon|evening)", lambda _, d: (d, d)),
        # Last night's news is dated that day or the next morning.
        (r"last night", lambda _, d: (d - timedelta(1), d)),
        (rf"yesterday{_DAYPART}", lambda _, d: (d - timedelta(1), d - timedelta(1))),
        (r"the day before yesterday", lambda _, d: (d - timedelta(2), d - timedelta(2))),
        (r"(?:so far )?this (?P<unit>week|month|year)", _to_date),
        (r"(?:last|previous) (?P<unit>week|month|year)", _previous),
        (
            rf"(?:the |this )?(?:past|last|previous) (?:(?P<count>{_COUNT}) )?"
            rf"(?P<unit>{_UNIT_NAME})s?",
            _trailing,
        ),
        (rf"(?P<count>{_COUNT}) (?P<unit>{_UNIT_NAME})s? ago", _ago),
        (rf"(?P<last>(?:last|previous) )?(?P<weekday>{'|'.join(_WEEKDAYS)}){_DAYPART}", _weekday),
        (rf"(?:last|previous) (?P<month>{_MONTH})", _last_month_named),
        (r"(?:the|this|last|this past|the past) weekend", _weekend),
        (
            rf"(?P<which>this|last|previous|the past|the) (?P<season>{_SEASON})"
            rf"(?: of (?P<year>\d{{4}}))?",
            _season,
        ),
        (r"the (?:early |mid-|late )?(?P<decade>(?:19|20)\d0)s", _decade),
    )
)

# -- dateparser -----------------------------------------------------------------------------

# dateparser's parsers share state between threads (scrapinghub/dateparser#441); a question
# holds the lock only while its few date phrases are read.
_DATEPARSER = threading.Lock()


def prepare_dates() -> None:
    """Import dateparser and load its English data now: a server calls this while it loads, so
    that its first dated question does not hold the GIL while others wait."""
    _parsed.__wrapped__("June 2022", date.today())


@functools.lru_cache(maxsize=4096)  # each phrase is a dateparser call, and readers ask alike
def _parsed(phrase: str, as_of: date) -> _Span | None:
    """dateparser's reading of an absolute date ('3rd of June, 2022', 'June') or an offset
    ('two weeks ago') as its calendar unit; a bare month or day is the latest on or before
    ``as_of``."""
    from dateparser.date import DateDataParser  # a slow import: only once a date is asked

    settings = {
        "RELATIVE_BASE": datetime(as_of.year, as_of.month, as_of.day),
        "PREFER_DATES_FROM": "past",
    }
    with _DATEPARSER:
        found = DateDataParser(languages=["en"], settings=settings).get_date_data(phrase)
    if found.date_obj is None:
        return None
    return _calendar_span(found.date_obj.date(), found.period or "day")
