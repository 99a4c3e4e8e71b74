"""When it happened, as analysts record it: the earliest and the latest possible time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from models.errors import RegisterError

__all__ = ["BadWindow", "IncidentWindow"]

# A clock a little fast on the victim's side is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
MAX_SPAN = timedelta(days=31)


class BadWindow(RegisterError):
    """A time window that cannot be right (reversed, in the future, or far too wide)."""


@dataclass(frozen=True, slots=True)
class IncidentWindow:
    """The earliest and latest possible time of the incident (aware datetimes, may be equal)."""

    earliest: datetime
    latest: datetime

    def __post_init__(self) -> None:
        """Refuse naive times, a reversed window and one wider than MAX_SPAN."""
        if self.earliest.tzinfo is None or self.latest.tzinfo is None:
            raise ValueError("an incident window needs aware datetimes")
        if self.latest < self.earliest:
            raise BadWindow("window_reversed")
        if self.latest - self.earliest > MAX_SPAN:
            raise BadWindow("window_too_wide", days=MAX_SPAN.days)

    def check_not_future(self, now: datetime) -> IncidentWindow:
        """This window, unless it starts in the future; BadWindow otherwise.

        A latest time after NOW is brought back to NOW ("between 18:00 and 18:30" said at 18:10).
        """
        if self.earliest > now + CLOCK_SKEW:
            raise BadWindow("window_in_future")
        if self.latest > now:
            return IncidentWindow(self.earliest, max(self.earliest, now))
        return self

    @classmethod
    def at(cls, moment: datetime) -> IncidentWindow:
        """A known moment: earliest and latest the same."""
        return cls(moment, moment)

    @classmethod
    def between(cls, earliest: datetime, latest: datetime) -> IncidentWindow:
        """ "Between 18:00 and 18:30"."""
        return cls(earliest, latest)

    @classmethod
    def day(cls, day: date, zone: tzinfo) -> IncidentWindow:
        """ "Some time yesterday": the whole of DAY in ZONE."""
        start = datetime.combine(day, time(0, 0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        return cls(start, end - timedelta(seconds=1))

    @property
    def is_moment(self) -> bool:
        """Whether the time is known exactly."""
        return self.earliest == self.latest

    @property
    def midpoint(self) -> datetime:
        """The middle of the window (what a single `incident_at` is set to)."""
        return self.earliest + (self.latest - self.earliest) / 2
