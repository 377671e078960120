"""Time in questions: windows read against a fixed day, noun-phrase dates left alone, fast."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

import pytest

from qa.timeframe import (
    RECENCY_HALF_LIFE_DAYS,
    RECENCY_WEIGHT,
    TimeWindow,
    read_time,
    recency_bonus,
)

WEDNESDAY = date(2024, 5, 8)
FRIDAY = date(2024, 5, 10)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What did Putin say this week?", date(2024, 5, 2), WEDNESDAY),
        ("What did Putin say last week about NATO?", date(2024, 4, 29), date(2024, 5, 5)),
        ("What did Shoigu say this month?", date(2024, 5, 1), WEDNESDAY),
        ("What happened last month?", date(2024, 4, 1), date(2024, 4, 30)),
        ("Which town did a wildfire this week force to evacuate?", date(2024, 5, 2), WEDNESDAY),
        ("A storm last month closed which port?", date(2024, 4, 1), date(2024, 4, 30)),
        ("Which senator on Friday announced his retirement?", date(2024, 5, 3), date(2024, 5, 3)),
        ("Who on May 3 won the race?", date(2024, 5, 3), date(2024, 5, 3)),
        ("What did he say yesterday?", date(2024, 5, 7), date(2024, 5, 7)),
        ("What did he say today?", WEDNESDAY, WEDNESDAY),
        ("What did they say this morning?", WEDNESDAY, WEDNESDAY),
        ("What did he say yesterday evening?", date(2024, 5, 7), date(2024, 5, 7)),
        ("What did he say the day before yesterday?", date(2024, 5, 6), date(2024, 5, 6)),
        ("What did Putin say Monday morning?", date(2024, 5, 6), date(2024, 5, 6)),
        ("What did Putin say on Friday?", date(2024, 5, 3), date(2024, 5, 3)),
        ("What did Putin say Friday about training?", date(2024, 5, 3), date(2024, 5, 3)),
        ("What did he say last Wednesday?", date(2024, 5, 1), date(2024, 5, 1)),
        ("What was agreed in June 2022?", date(2022, 6, 1), date(2022, 6, 30)),
        ("What was agreed in June?", date(2023, 6, 1), date(2023, 6, 30)),
        ("What was agreed in May?", date(2024, 5, 1), WEDNESDAY),
        ("What did they say last June?", date(2023, 6, 1), date(2023, 6, 30)),
        ("What did Putin say in 2019?", date(2019, 1, 1), date(2019, 12, 31)),
        ("What did Putin say during 2019?", date(2019, 1, 1), date(2019, 12, 31)),
        ("what did putin say in 2019 about nato", date(2019, 1, 1), date(2019, 12, 31)),
        ("In 2019, what did Putin say about NATO?", date(2019, 1, 1), date(2019, 12, 31)),
        ("What did Putin say in mid-June 2023?", date(2023, 6, 1), date(2023, 6, 30)),
        ("What did Putin say in the 1990s?", date(1990, 1, 1), date(1999, 12, 31)),
        ("What did Putin say on 3 May?", date(2024, 5, 3), date(2024, 5, 3)),
        ("What did Putin say on Friday, May 3?", date(2024, 5, 3), date(2024, 5, 3)),
        ("What did Putin say on the 3rd of June, 2022?", date(2022, 6, 3), date(2022, 6, 3)),
        ("What was said on 2023-11-02?", date(2023, 11, 2), date(2023, 11, 2)),
        ("What has Putin said since March?", date(2024, 3, 1), WEDNESDAY),
        ("What has Putin said since last week?", date(2024, 4, 29), WEDNESDAY),
        ("What did Putin say last year?", date(2023, 1, 1), date(2023, 12, 31)),
        ("What has Putin said earlier this year?", date(2024, 1, 1), WEDNESDAY),
        ("What did Putin say two weeks ago?", date(2024, 4, 22), date(2024, 4, 28)),
        ("What did Putin say 3 days ago?", date(2024, 5, 5), date(2024, 5, 5)),
        ("What did they say a few days ago?", date(2024, 5, 2), date(2024, 5, 7)),
        ("What did Putin say in the past three days?", date(2024, 5, 6), WEDNESDAY),
        ("What did Putin say over the last month?", date(2024, 4, 9), WEDNESDAY),
        ("What did Putin say in the past year?", date(2023, 5, 9), WEDNESDAY),
        ("What did he say over the weekend?", date(2024, 5, 4), date(2024, 5, 5)),
        ("What did Putin say between March and May?", date(2024, 3, 1), WEDNESDAY),
        ("What did Putin say from June to August 2022?", date(2022, 6, 1), date(2022, 8, 31)),
        ("What did he say in 1941-1945?", date(1941, 1, 1), date(1945, 12, 31)),
        ("What did Putin say before 2020?", None, date(2019, 12, 31)),
        ("What did Putin say until June 2020?", None, date(2020, 6, 30)),
        ("What did Putin say after March 2024?", date(2024, 4, 1), WEDNESDAY),
        # A weekday without its preposition, as news English writes it.
        ("Who was convicted on 12 fraud counts Monday?", date(2024, 5, 6), date(2024, 5, 6)),
        ("Who was missing early Tuesday after the flood?", date(2024, 5, 7), date(2024, 5, 7)),
        ("Which team won Sunday night?", date(2024, 5, 5), date(2024, 5, 5)),
        # Seasons (the Northern Hemisphere's) and hours.
        ("What did the band release last summer?", date(2023, 6, 1), date(2023, 8, 31)),
        ("What hobby surged over the winter?", date(2023, 12, 1), date(2024, 2, 29)),
        ("Which bird was spotted this spring?", date(2024, 3, 1), WEDNESDAY),
        ("What happened in the past 24 hours?", date(2024, 5, 7), WEDNESDAY),
        ("Which bands played in the summer of 1969?", date(1969, 6, 1), date(1969, 8, 31)),
        ("What did he post three hours ago?", date(2024, 5, 7), WEDNESDAY),
        # Last night's news is dated that day or the next; "this past" is "the past".
        ("Who won the election last night?", date(2024, 5, 7), WEDNESDAY),
        ("What did Putin say last Tuesday night?", date(2024, 5, 7), date(2024, 5, 7)),
        ("What did NASA launch this past weekend?", date(2024, 5, 4), date(2024, 5, 5)),
        ("What did Putin say this past month?", date(2024, 4, 9), WEDNESDAY),
        # Early or late in a deictic period is still that period.
        ("What did the senate pass late last week?", date(2024, 4, 29), date(2024, 5, 5)),
        ("What did Putin say early this month?", date(2024, 5, 1), WEDNESDAY),
    ],
)
def test_time_expressions_become_windows(question: str, start: date | None, end: date) -> None:
    window = read_time(question, WEDNESDAY)
    assert (window.start, window.end) == (start, end)
    assert window.explicit and window.as_of == WEDNESDAY


@pytest.mark.parametrize(
    "question",
    [
        "What did Putin say about training?",
        "What did Putin say about the 2019 agreement?",
        "What did Putin say about last year's budget?",
        "What did Putin say about this week's summit?",
        "What happened in 2019 talks?",
        "Who took part in June elections?",
        "What was said at the Friday meeting?",
        "What did Putin say about the May 9 parade?",
        "What is the forecast for 2025?",
        "What did Putin say about goals in 2030?",  # after as_of: a plan, not a date of report
        "What will Putin say next week?",
        "What did Putin say about the New START treaty?",
        "Who is Theresa May?",
        "What did the minister say about the 2000 troops?",
        "What did he say in June 31?",
        "What did Putin say in his last year as prime minister?",
        "What did Putin say in the last year of the war?",
        "What did Putin say in Putin's last week in office?",
        "What did Putin say at his last press conference?",
        "Who were the galleries that opened in 2006 named after?",
        "What did shoppers buy on Black Friday?",
        "When did Sunday Night Football premiere on NBC?",
        "What is the Tuesday debate about?",
        "Must the union decide by Friday?",
        "What will the board vote on next Monday?",
        "What do they sell every Sunday?",
        "When is sports programming provided by ABC on Saturday afternoons?",
        "Why do leaves change color in the fall?",
        "What is this summer's biggest hit?",
        "Which park will open this summer?",  # after as_of
        "What did she wear the last night of the tour?",
        "What did she sing on the last night she performed?",
    ],
)
def test_dates_that_do_not_place_the_event_are_no_window(question: str) -> None:
    window = read_time(question, WEDNESDAY)
    assert (window.start, window.end) == (None, None) and not window.explicit
    assert window.rest == question


def test_weekdays_count_back_from_as_of() -> None:
    assert read_time("What did he say on Friday?", FRIDAY).start == FRIDAY
    assert read_time("What did he say last Friday?", FRIDAY).start == date(2024, 5, 3)
    assert read_time("What did he say on Saturday?", FRIDAY).start == date(2024, 5, 4)


def test_a_month_is_the_latest_one_not_after_as_of() -> None:
    june_10 = date(2024, 6, 10)
    window = read_time("What was agreed in June?", june_10)
    assert (window.start, window.end) == (date(2024, 6, 1), june_10)
    assert read_time("What was agreed in June?", date(2024, 5, 31)).start == date(2023, 6, 1)


@pytest.mark.parametrize(
    ("question", "rest"),
    [
        (
            "What did Putin say about training in December 2022?",
            "What did Putin say about training?",
        ),
        ("In 2019, what did Putin say about NATO?", "what did Putin say about NATO?"),
        ("What did Putin say this week about the SCO?", "What did Putin say about the SCO?"),
        ("What did Putin say Friday about training?", "What did Putin say about training?"),
        ("Who was convicted Monday, and why?", "Who was convicted and why?"),
        ("What did the president sign late last week?", "What did the president sign?"),
        ("What did he say earlier today about NATO?", "What did he say about NATO?"),
        ("What did the Fed do at the end of last month?", "What did the Fed do?"),
        ("What was set in the middle of June?", "What was set in the middle of June?"),
        ("Since March?", "Since March?"),  # nothing would be left to read a topic from
    ],
)
def test_the_window_words_leave_the_topic(question: str, rest: str) -> None:
    assert read_time(question, WEDNESDAY).rest == rest


@pytest.mark.parametrize(
    ("question", "recent"),
    [
        ("What is the latest on the SCO?", True),
        ("What did Putin say recently about training?", True),
        ("What has Shoigu said lately?", True),
        ("What are the newest sanctions?", True),
        ("What new sanctions were announced?", True),
        ("What did Putin just say?", True),
        ("What is the current position of the SCO?", True),
        ("What did Putin say this week?", True),
        ("What did Putin say this past week?", True),
        ("What did Putin say about the New START treaty?", False),
        ("What did Putin say in 2019?", False),
        ("What did Putin say about training?", False),
    ],
)
def test_recency_cues(question: str, recent: bool) -> None:
    assert read_time(question, WEDNESDAY).recent is recent


def test_a_first_expression_that_names_no_past_day_gives_way_to_the_next() -> None:
    window = read_time("What did he say about plans for 2030 in 2019?", WEDNESDAY)
    assert (window.start, window.end) == (date(2019, 1, 1), date(2019, 12, 31))


def test_label_says_the_window_in_words() -> None:
    assert read_time("What happened yesterday?", WEDNESDAY).label == "2024-05-07"
    assert read_time("What happened this week?", WEDNESDAY).label == "2024-05-02 to 2024-05-08"
    assert read_time("What happened before 2020?", WEDNESDAY).label == "2019-12-31 or earlier"
    assert TimeWindow(date(2024, 1, 1), None, False, WEDNESDAY, "").label == "2024-01-01 or later"


def test_the_edges_of_the_calendar_are_no_error() -> None:
    assert not read_time("What happened yesterday?", date.min).explicit
    assert not read_time("What happened last year?", date.min).explicit
    assert read_time("What happened yesterday?", date.max).start == date(9999, 12, 30)


def test_recency_bonus_halves_with_each_half_life() -> None:
    assert recency_bonus(WEDNESDAY, WEDNESDAY) == RECENCY_WEIGHT
    older = date.fromordinal(WEDNESDAY.toordinal() - RECENCY_HALF_LIFE_DAYS)
    assert recency_bonus(older, WEDNESDAY) == pytest.approx(RECENCY_WEIGHT / 2)
    assert recency_bonus(None, WEDNESDAY) == 0.0
    assert recency_bonus(date(2024, 6, 1), WEDNESDAY) == RECENCY_WEIGHT  # no more than today's


@pytest.mark.parametrize(
    "unit",
    [
        "in ",
        "in 2019 talks ",
        "between june and ",
        "from 3rd of june, 2022 to ",
        "the past ",
        "last ",
        "a couple of ",
        "said friday's ",
        "may ",
        "2019",
        "in 2031 ",  # future years: each resolves, and fails, through dateparser
        "on 2024-13-45 ",
    ],
)
def test_hostile_questions_are_read_in_linear_time(unit: str) -> None:
    question = (unit * (50_000 // len(unit))) + " what?"
    started = time.perf_counter()
    read_time(question, WEDNESDAY)
    read_time(" ".join([question] * 2), WEDNESDAY)
    assert time.perf_counter() - started < 1.0


def test_dateparser_loads_only_for_a_date_or_a_server() -> None:
    """The import costs ~75 ms: a CLI question without a date never pays it, a dated one does,
    and a server pays it while it loads (``prepare_dates``), before its first question."""
    script = (
        "import sys; from datetime import date; "
        "from qa.timeframe import prepare_dates, read_time; "
        "import qa.api.app; "
        "read_time('What did Putin say about the 2019 agreement?', date(2024, 5, 8)); "
        "read_time('What is the latest on the SCO?', date(2024, 5, 8)); "
        "assert 'dateparser' not in sys.modules; "
        "prepare_dates(); "
        "assert 'dateparser' in sys.modules; "
        "assert read_time('What did Putin say in June 2022?', date(2024, 5, 8)).explicit"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
