"""The Telegram Login Widget's answer, checked as Telegram documents it.

The widget sends the browser back with the user's id, names, `auth_date` and `hash`: an
HMAC-SHA256 of the other fields (sorted `key=value` lines) under SHA-256(bot token). Only that
digest of the token reaches the console (`WebConfig.login_widget_key`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

FIELDS = frozenset({"id", "first_name", "last_name", "username", "photo_url", "auth_date"})


def widget_key(bot_token: str) -> bytes:
    """The key the widget's answers are signed with: SHA-256 of the bot's token."""
    return hashlib.sha256(bot_token.encode()).digest()


def sign(fields: Mapping[str, str], key: bytes) -> str:
    """The `hash` Telegram puts on FIELDS (what the check compares against)."""
    lines = "\n".join(f"{name}={fields[name]}" for name in sorted(fields))
    return hmac.new(key, lines.encode(), hashlib.sha256).hexdigest()


def verified_user(
    answer: Mapping[str, str], key: bytes, *, max_age: timedelta, now: datetime | None = None
) -> int | None:
    """The Telegram user id ANSWER proves, or None if it is forged, altered or too old."""
    given = answer.get("hash", "")
    fields = {name: value for name, value in answer.items() if name in FIELDS}
    if not given or "id" not in fields or "auth_date" not in fields:
        return None
    if set(answer) - FIELDS - {"hash"}:
        return None
    if not hmac.compare_digest(given, sign(fields, key)):
        return None
    try:
        user_id = int(fields["id"])
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    age = (now or datetime.now(UTC)) - signed_at
    if not timedelta(seconds=-60) <= age <= max_age:
        return None
    return user_id if 0 < user_id < 2**63 else None
