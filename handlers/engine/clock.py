"""The one clock of the handlers: "now" (aware, UTC) and deadlines for what expires.

Every handler takes the time from here, so that a test can move it in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models.storage.columns import utcnow


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return utcnow()


def deadline(ttl: timedelta) -> float:
    """The POSIX time at which something that lives TTL from now expires."""
    return now().timestamp() + ttl.total_seconds()


def passed(when: float | None) -> bool:
    """Whether the deadline WHEN (POSIX time) has come; a missing deadline has."""
    return when is None or when <= now().timestamp()
