"""Why a typed day or time is not kept: a coded refusal, put into words by `describe()`."""

from __future__ import annotations

from models.errors import RegisterError


class UnclearMoment(RegisterError):
    """A typed day or time that is not kept; the code says why (`errors.when_*`).

    Codes: when_unreadable, when_future (moment), when_too_old (moment), when_no_time (day),
    when_no_day, when_no_such_date, when_no_such_time, when_ambiguous_date (typed, first,
    second), when_ambiguous_hour (morning, evening), when_ambiguous_weekday (today, week_ago),
    when_clock_gap (day, time), when_clock_repeat (day, time).
    """
