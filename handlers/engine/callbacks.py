"""The one callback-data codec: every button of every exchange is packed and read here.

Callback data is `<prefix>:<part>:...:<last part>`: the prefix says whose button it is ("c" the
victim's conversation, "f" the follow-up, "s:.." staff), the parts are the button's own; only the
last part may hold ":". Telegram takes at most 64 bytes: `pack` refuses more when the keyboard is
built, never when it is pressed.

A button proves nothing by itself and may be pressed long after it was sent. What a button stands
for that must not outlive a while (a follow-up session, a file waiting for Confirm, a question
waiting for its answer) is held in chat_data as a `Ticket`: a short random token the button
carries, with an expiry from the one clock. A press whose data does not unpack, or whose token is
unknown or expired, is stale: the exchange says so and shows what is current.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from handlers.engine import clock

MAX_BYTES = 64
SEPARATOR = ":"
EXPIRES = "expires"
TOKEN_BYTES = 6


class CallbackTooLong(ValueError):
    """Callback data that Telegram would refuse (over 64 bytes)."""


def pack(prefix: str, *parts: object) -> str:
    """The callback data for PARTS under PREFIX; refuses what Telegram would not take."""
    text_parts = [str(part) for part in parts]
    if any(SEPARATOR in part for part in text_parts[:-1]):
        raise ValueError(f"only the last part may hold {SEPARATOR!r}: {text_parts!r}")
    data = SEPARATOR.join([prefix, *text_parts])
    if len(data.encode()) > MAX_BYTES:
        raise CallbackTooLong(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def unpack(data: str | None, prefix: str, arity: int) -> tuple[str, ...] | None:
    """The ARITY parts of DATA under PREFIX, or None when it is not ours, malformed or empty."""
    head = prefix + SEPARATOR
    if not data or not data.startswith(head):
        return None
    parts = tuple(data[len(head) :].split(SEPARATOR, arity - 1))
    if len(parts) != arity or not all(parts):
        return None
    return parts


def pattern(prefix: str) -> str:
    """The regular expression a CallbackQueryHandler uses to take PREFIX's buttons."""
    return f"^{prefix}{SEPARATOR}"


@dataclass(frozen=True, slots=True)
class Tickets:
    """Tokens that buttons carry, each standing for a value held in chat_data until it expires.

    Held under KEY as {token: {...value, "expires": POSIX time}}; at most MOST at a time (the
    oldest goes first).
    """

    key: str
    ttl: timedelta
    most: int | None = None

    def _held(self, chat_data: MutableMapping[str, Any]) -> dict[str, dict[str, Any]]:
        held: dict[str, dict[str, Any]] = chat_data.setdefault(self.key, {})
        for token in [token for token, entry in held.items() if clock.passed(entry.get(EXPIRES))]:
            del held[token]
        return held

    def issue(self, chat_data: MutableMapping[str, Any], value: Mapping[str, Any]) -> str:
        """Hold VALUE for a while; returns the token a button carries to reach it."""
        held = self._held(chat_data)
        while self.most is not None and len(held) >= self.most:
            del held[min(held, key=lambda token: held[token][EXPIRES])]
        token = secrets.token_urlsafe(TOKEN_BYTES)
        held[token] = {**value, EXPIRES: clock.deadline(self.ttl)}
        return token

    def get(
        self, chat_data: MutableMapping[str, Any] | None, token: str, *, renew: bool = False
    ) -> dict[str, Any] | None:
        """The live value TOKEN stands for (its time renewed when RENEW), or None if stale."""
        if chat_data is None:
            return None
        entry = self._held(chat_data).get(token)
        if entry is not None and renew:
            entry[EXPIRES] = clock.deadline(self.ttl)
        return entry

    def take(self, chat_data: MutableMapping[str, Any] | None, token: str) -> dict[str, Any] | None:
        """The live value TOKEN stands for, taken out: a second press finds nothing."""
        if chat_data is None:
            return None
        return self._held(chat_data).pop(token, None)

    def drop(self, chat_data: MutableMapping[str, Any] | None, token: str | None = None) -> None:
        """Forget TOKEN (every token when None)."""
        if chat_data is None:
            return
        if token is None:
            chat_data.pop(self.key, None)
        else:
            self._held(chat_data).pop(token, None)

    def find(
        self, chat_data: MutableMapping[str, Any] | None, **match: Any
    ) -> tuple[str, dict[str, Any]] | None:
        """The live (token, value) whose value holds MATCH, if any."""
        if chat_data is None:
            return None
        for token, entry in self._held(chat_data).items():
            if all(entry.get(name) == wanted for name, wanted in match.items()):
                return token, entry
        return None

    def live(self, chat_data: MutableMapping[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
        """Every live (token, value), the one that expires first first."""
        if chat_data is None:
            return []
        return sorted(self._held(chat_data).items(), key=lambda item: item[1][EXPIRES])
