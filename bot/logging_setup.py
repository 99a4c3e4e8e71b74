"""Logging: one key=value line per event, personal numbers and secrets masked in every record.

Every line reads `time=... level=... logger=... msg="..."`, then any `extra` fields, then
`exc="..."` with the traceback (newlines escaped, so an event stays one line). Before a record
is written, IMEIs become their TAC and `******`, phone numbers lose their last six digits, and
the bot token and webhook secret are replaced, in the message, the extras and the traceback.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# A 15-16 digit run (an IMEI or IMEISV), also written in groups with spaces or dashes.
_IMEI = re.compile(r"(?<![\d+])\d(?:[ -]?\d){14,15}(?!\d)")
# An international number (+ and 10-15 digits) or a national one (0 and 9-10 more digits).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ -]?\d){9,14}|0\d(?:[ -]?\d){8,9})(?!\d)")
# A bot token anywhere, e.g. in a Bot API URL that httpx logs.
_TOKEN = re.compile(r"(?<!\d)\d{3,15}:[A-Za-z0-9_-]{30,}")
_NEEDS_QUOTES = re.compile(r'[\s"=\\]')

WEBHOOK_LOGGER = "telegram.ext.Updater"
_REFUSALS = (
    "Request did not include the secret token",
    "Request had the wrong secret token: %s",
)
REFUSAL_LOG_PERIOD = 3600.0
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "alembic")


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _mask_imei(match: re.Match[str]) -> str:
    return _digits(match.group())[:8] + "******"


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = _digits(text)
    return ("+" if text.startswith("+") else "") + digits[:-6] + "******"


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """TEXT with IMEIs, phone numbers, bot tokens and the given SECRETS masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    text = _TOKEN.sub("[token]", text)
    text = _IMEI.sub(_mask_imei, text)
    return _PHONE.sub(_mask_phone, text)


class MaskingFilter(logging.Filter):
    """Masks personal numbers and secrets in a record's message, extras and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Also replace each of SECRETS (the bot token, the webhook secret) wherever it shows."""
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite RECORD in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged, masked
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, self.secrets)
        for name, value in list(vars(record).items()):
            if name in _STANDARD or value is None or isinstance(value, bool):
                continue
            shown = str(value)
            masked = mask(shown, self.secrets)
            if masked != shown or isinstance(value, str):
                setattr(record, name, masked)
        return True


def _value(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{text}"' if not text or _NEEDS_QUOTES.search(str(value)) else text


class KeyValueFormatter(logging.Formatter):
    """Formats a record as one line of key=value pairs."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as `time=... level=... logger=... msg=...` plus extras and traceback."""
        moment = datetime.fromtimestamp(record.created, UTC)
        pairs: list[tuple[str, Any]] = [
            ("time", moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
            ("level", record.levelname.lower()),
            ("logger", record.name),
            ("msg", record.getMessage()),
        ]
        pairs += [(name, value) for name, value in vars(record).items() if name not in _STANDARD]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            pairs.append(("exc", record.exc_text))
        if record.stack_info:
            pairs.append(("stack", record.stack_info))
        return " ".join(f"{name}={_value(value)}" for name, value in pairs)


class WebhookRefusalFilter(logging.Filter):
    """On PTB's Updater logger: one warning per period for requests without the right secret.

    PTB notes a refused webhook request only at DEBUG (with the wrong token in it). This filter
    lets the logger run at DEBUG, turns the first such note into a warning without the token,
    drops the repeats for REFUSAL_LOG_PERIOD seconds (then says how many there were), and drops
    every other record below LEVEL as the logger's own level would have.
    """

    def __init__(self, level: int, period: float = REFUSAL_LOG_PERIOD) -> None:
        """Pass records at LEVEL and above; report refusals at most once per PERIOD seconds."""
        super().__init__()
        self.level = level
        self.period = period
        self._last: float | None = None
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a refusal into the warning, or drop it; filter the rest by level."""
        if record.msg not in _REFUSALS:
            return record.levelno >= self.level
        now = time.monotonic()
        if self._last is not None and now - self._last < self.period:
            self._suppressed += 1
            return False
        self._last = now
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = (
            "webhook request refused with 403: missing or wrong X-Telegram-Bot-Api-Secret-Token"
            "; the next refusals are only counted for %d s"
        )
        record.args = (int(self.period),)
        if self._suppressed:
            record.msg += "; %d more were refused since the last report"
            record.args += (self._suppressed,)
        self._suppressed = 0
        return True


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to STREAM (stderr) as masked key=value lines at LEVEL."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(MaskingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "reportbot", False):
            root.removeHandler(old)
    handler.reportbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    # httpx logs every request (the long poll included) at INFO; the others chatter at INFO.
    quiet = logging.WARNING if numeric > logging.DEBUG else logging.INFO
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(quiet, numeric))
    updater = logging.getLogger(WEBHOOK_LOGGER)
    updater.setLevel(logging.DEBUG)
    for old_filter in list(updater.filters):
        if isinstance(old_filter, WebhookRefusalFilter):
            updater.removeFilter(old_filter)
    updater.addFilter(WebhookRefusalFilter(numeric))
    return handler
