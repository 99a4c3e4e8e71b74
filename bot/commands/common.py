"""What every subcommand shares: errors, dates, who is acting."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime

from handlers.texts import describe, has, plain, text
from models.errors import RegisterError


class CliError(Exception):
    """A failure to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        """Remember the message and the exit code."""
        super().__init__(message)
        self.code = code


def parse_when(text: str, *, option: str) -> datetime:
    """A date (YYYY-MM-DD, midnight UTC) or an ISO date-time; CliError naming OPTION otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option}: expected a date like 2026-11-22, got {text!r}", 2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cli_actor() -> str:
    """How the audit trail names whoever runs the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:64]


def format_time(moment: datetime | None) -> str:
    """A timestamp for terminal output, in UTC."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def explain(error: RegisterError) -> str:
    """A coded refusal in words, as plain text for the terminal (English).

    Victims' refusals are `errors.<code>`; those only staff see are `staff.error_<code>`.
    """
    if has(f"errors.{error.code}"):
        return describe(error, html_text=False)
    return plain(text(f"staff.error_{error.code}", **error.params))
