"""Proving access (reference + code) and remembering it briefly for this chat's buttons.

A verified chat gets a short random token; buttons carry `f:<action>:<token>` and every press
looks the token up in chat_data, with an expiry. The button alone proves nothing, and losing
chat_data (a restart) only means sending /status again.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models.storage.columns import utcnow
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
    """The callback data of a follow-up button (well under 64 bytes)."""
    data = f"{PREFIX_DATA}:{action}:{token}"
    assert len(data.encode()) <= 64
    return data


def parse_callback(data: str) -> tuple[str, str] | None:
    """(action, token) from a follow-up button's data, or None if it is not one."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != PREFIX_DATA:
        return None
    return parts[1], parts[2]


def _now() -> float:
    return utcnow().timestamp()


def open_session(
    chat_data: MutableMapping[str, Any], reference: str, report_id: int, via: str
) -> str:
    """Remember that this chat proved access to REFERENCE; returns the token for its buttons."""
    sessions: dict[str, dict[str, Any]] = chat_data.setdefault(SESSIONS, {})
    _prune(sessions)
    for token, entry in list(sessions.items()):
        if entry["reference"] == reference:
            del sessions[token]
    while len(sessions) >= MAX_SESSIONS:
        oldest = min(sessions, key=lambda token: sessions[token]["expires"])
        del sessions[oldest]
    token = secrets.token_urlsafe(6)
    sessions[token] = {
        "reference": reference,
        "report_id": report_id,
        "via": via,
        "expires": _now() + SESSION_TTL.total_seconds(),
    }
    return token


def get_session(chat_data: MutableMapping[str, Any] | None, token: str) -> Session | None:
    """The live session for TOKEN in this chat (its expiry renewed), or None."""
    if chat_data is None:
        return None
    sessions: dict[str, dict[str, Any]] = chat_data.get(SESSIONS) or {}
    _prune(sessions)
    entry = sessions.get(token)
    if entry is None:
        return None
    entry["expires"] = _now() + SESSION_TTL.total_seconds()
    return Session(token, entry["reference"], entry["report_id"], entry["via"])


def live_sessions(chat_data: MutableMapping[str, Any] | None) -> list[Session]:
    """This chat's live sessions, the one used least recently first."""
    if chat_data is None:
        return []
    sessions: dict[str, dict[str, Any]] = chat_data.get(SESSIONS) or {}
    _prune(sessions)
    ordered = sorted(sessions.items(), key=lambda item: item[1]["expires"])
    return [
        Session(token, entry["reference"], entry["report_id"], entry["via"])
        for token, entry in ordered
    ]


def end_session(chat_data: MutableMapping[str, Any] | None, token: str) -> None:
    """Forget a session (the report is gone)."""
    if chat_data is not None:
        (chat_data.get(SESSIONS) or {}).pop(token, None)


def _prune(sessions: dict[str, dict[str, Any]]) -> None:
    now = _now()
    for token in [token for token, entry in sessions.items() if entry["expires"] <= now]:
        del sessions[token]


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
