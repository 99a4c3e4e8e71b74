"""Proving access (reference + code) and remembering it briefly for this chat's buttons.

A verified chat gets a short random token; buttons carry `f:<action>:<token>` and every press
looks the token up in chat_data, with an expiry. The button alone proves nothing, and losing
chat_data (a restart) only means sending /status again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from handlers.engine import callbacks
from models.values.reference import (
    PREFIX,
    InvalidAccessCode,
    InvalidReference,
    Reference,
    normalise_access_code,
)

PREFIX_DATA = "f"
SESSIONS = "followup_sessions"
SESSION_TTL = timedelta(minutes=30)
MAX_SESSIONS = 8
_REFERENCE_CHARS = 6
_CODE_CHARS = 8
TICKETS = callbacks.Tickets(SESSIONS, SESSION_TTL, most=MAX_SESSIONS)


class MissingArguments(ValueError):
    """/status was sent without a reference and code."""


class MissingCode(ValueError):
    """/status was sent with a reference but no access code."""


@dataclass(frozen=True, slots=True)
class Session:
    """A chat's proof, for a while, that it knows a report's access code."""

    token: str
    reference: str
    report_id: int
    via: str


def callback(action: str, token: str) -> str:
    """The callback data of a follow-up button."""
    return callbacks.pack(PREFIX_DATA, action, token)


def parse_callback(data: str) -> tuple[str, str] | None:
    """(action, token) from a follow-up button's data, or None if it is not one."""
    parts = callbacks.unpack(data, PREFIX_DATA, 2)
    return (parts[0], parts[1]) if parts is not None else None


def open_session(
    chat_data: MutableMapping[str, Any], reference: str, report_id: int, via: str
) -> str:
    """Remember that this chat proved access to REFERENCE; returns the token for its buttons."""
    while (found := TICKETS.find(chat_data, reference=reference)) is not None:
        TICKETS.drop(chat_data, found[0])
    return TICKETS.issue(chat_data, {"reference": reference, "report_id": report_id, "via": via})


def get_session(chat_data: MutableMapping[str, Any] | None, token: str) -> Session | None:
    """The live session for TOKEN in this chat (its expiry renewed), or None."""
    entry = TICKETS.get(chat_data, token, renew=True)
    if entry is None:
        return None
    return Session(token, entry["reference"], entry["report_id"], entry["via"])


def live_sessions(chat_data: MutableMapping[str, Any] | None) -> list[Session]:
    """This chat's live sessions, the one used least recently first."""
    return [
        Session(token, entry["reference"], entry["report_id"], entry["via"])
        for token, entry in TICKETS.live(chat_data)
    ]


def end_session(chat_data: MutableMapping[str, Any] | None, token: str) -> None:
    """Forget a session (the report is gone)."""
    TICKETS.drop(chat_data, token)


def parse_status_args(args: list[str]) -> tuple[Reference, str]:
    """The reference and canonical access code typed after /status, however spaced.

    Raises MissingArguments, MissingCode, or InvalidReference / InvalidAccessCode (whose
    message says what is wrong, for the user).
    """
    words = [word for word in args if word.strip()]
    if not words:
        raise MissingArguments("no reference")
    if len(words) == 1:
        return _parse_run_together(words[0])
    first_error: ValueError | None = None
    # "SPR-7KQ4-M9 K7QM-3XDP", but also "SPR 7KQ4 M9 K7QM 3XDP": try each split point.
    for split in range(1, len(words)):
        try:
            reference = Reference.parse("".join(words[:split]))
            return reference, normalise_access_code("".join(words[split:]))
        except (InvalidReference, InvalidAccessCode) as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _parse_run_together(word: str) -> tuple[Reference, str]:
    compact = "".join(ch for ch in word if ch.isalnum()).upper()
    body = compact.removeprefix(PREFIX)
    if len(body) == _REFERENCE_CHARS + _CODE_CHARS:
        return Reference.parse(body[:_REFERENCE_CHARS]), normalise_access_code(
            body[_REFERENCE_CHARS:]
        )
    Reference.parse(word)  # raises, saying what is wrong with the reference
    raise MissingCode("no access code")
