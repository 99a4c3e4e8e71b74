"""A report's statuses and the moves allowed between them."""

from __future__ import annotations

from enum import StrEnum

from models.errors import RegisterError


class Status(StrEnum):
    """Where a report stands."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    LOCATED = "located"
    RECOVERED = "recovered"
    RETURNED = "returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN = frozenset({Status.SUBMITTED, Status.UNDER_REVIEW, Status.LOCATED})
FINAL = frozenset({Status.CLOSED, Status.WITHDRAWN})
# The victim hears about these; the others are staff bookkeeping.
NOTIFY_VICTIM = frozenset({Status.LOCATED, Status.RECOVERED, Status.RETURNED, Status.CLOSED})

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.SUBMITTED: (
        Status.UNDER_REVIEW,
        Status.LOCATED,
        Status.RECOVERED,
        Status.CLOSED,
        Status.WITHDRAWN,
    ),
    Status.UNDER_REVIEW: (Status.LOCATED, Status.RECOVERED, Status.CLOSED, Status.WITHDRAWN),
    Status.LOCATED: (Status.UNDER_REVIEW, Status.RECOVERED, Status.CLOSED, Status.WITHDRAWN),
    Status.RECOVERED: (Status.RETURNED, Status.CLOSED),
    Status.RETURNED: (Status.CLOSED,),
    # A closed or withdrawn report can be reopened by staff.
    Status.CLOSED: (Status.UNDER_REVIEW,),
    Status.WITHDRAWN: (Status.UNDER_REVIEW,),
}


def allowed_next(status: Status) -> tuple[Status, ...]:
    """The statuses a report in STATUS may move to."""
    return TRANSITIONS[status]


class UnknownStatus(RegisterError, ValueError):
    """A status name that is not one of ours: code `status_unknown` (typed, statuses)."""


def parse_status(text: str) -> Status:
    """A status from its name, forgiving case, spaces and dashes; UnknownStatus otherwise."""
    cleaned = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Status(cleaned)
    except ValueError:
        names = ", ".join(status.value for status in Status)
        raise UnknownStatus("status_unknown", typed=text.strip()[:30], statuses=names) from None
