"""Logging: one key=value line per event, with no personal data and nothing that proves access.

Every line reads `time=... level=... logger=... msg="..."`, then any `extra` fields, then
`exc="..."` with the traceback (newlines escaped, so an event stays one line).

Privacy is applied to every record, whichever logger made it and whichever handler writes it:
a log-record factory cleans each record as it is made, and a filter on every handler cleans
what is added later (`extra` fields). At every level:

* records of other libraries (python-telegram-bot, httpx, SQLAlchemy, aiosqlite, ...) keep
  their message but their arguments become shapes (`<str 312>`, `{chat_id: int, text: str[40]}`):
  a Bot API call's parameters, an update, a query's parameters are never written, only what
  kind and how long they were;
* in every message, extra field and traceback, the configured secrets (bot token, webhook
  secret, keys) and anything shaped like a bot token, an access code, a deep-link token or an
  e-mail address are replaced, IMEIs become their TAC and `******`, phone numbers lose their
  last six digits, SQL parameters are dropped, and quoted text in an exception's message
  becomes its shape.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from models.values.reference import ALPHABET

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# What clean_record adds: not shown as fields, nor masked again.
_PRIVATE_FIELDS = _STANDARD | {"private", "template"}

# A 15-16 digit run (an IMEI or IMEISV), also written in groups with spaces or dashes.
_IMEI = re.compile(r"(?<![\d+])\d(?:[ -]?\d){14,15}(?!\d)")
# An international number (+ and 10-15 digits) or a national one (0 and 9-10 more digits).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ -]?\d){9,14}|0\d(?:[ -]?\d){8,9})(?!\d)")
# A bot token anywhere, e.g. in a Bot API URL that httpx logs.
_TOKEN = re.compile(r"(?<!\d)\d{3,15}:[A-Za-z0-9_-]{30,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An access code (K7QM-3XDP, or without its dash) and a deep-link token (SPR7KQ4M9_K7QM3XDP).
_CODE = re.compile(rf"(?<![A-Za-z0-9])[{ALPHABET}]{{4}}-?[{ALPHABET}]{{4}}(?![A-Za-z0-9])")
_LINK = re.compile(r"(?<=start=)[A-Za-z0-9_-]+|(?<![A-Za-z0-9])SPR[A-Za-z0-9]{6}_[A-Za-z0-9]{8}")
# A token, code or secret passed in a URL's query (a sign-in link, for example).
_QUERY_SECRET = re.compile(
    r"(?<=[?&])(token|code|secret|key|signature|sig|auth)=[^&\s\"']+", re.IGNORECASE
)
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
# A quoted word in an exception message that is a name in the code, not data: field_name.
_CODE_NAME = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")
# Arguments of other libraries' records that are kept: a method or endpoint name, HTTP bits.
_SAFE_ARGUMENT = re.compile(r"[A-Za-z]{1,40}|HTTP/[0-9.]{1,5}")
_NEEDS_QUOTES = re.compile(r'[\s"=\\]')
OWN_LOGGER = "reportbot"

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
    """TEXT with secrets, tokens, codes, e-mail addresses, IMEIs and phone numbers masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    text = _TOKEN.sub("[token]", text)
    text = _LINK.sub("[link]", text)
    text = _QUERY_SECRET.sub(lambda match: f"{match.group(1)}=[secret]", text)
    text = _CODE.sub("[code]", text)
    text = _EMAIL.sub("[e-mail]", text)
    text = _IMEI.sub(_mask_imei, text)
    return _PHONE.sub(_mask_phone, text)


def shape(value: object) -> str:
    """What VALUE is and how big, never what it holds: `<str 12>`, `{chat_id: int, ...}`."""
    if isinstance(value, Mapping):
        fields = ", ".join(f"{key}: {_kind(item)}" for key, item in list(value.items())[:30])
        return "{" + fields + ("" if len(value) <= 30 else ", ...") + "}"
    return f"<{_kind(value)}>"


def _kind(value: object) -> str:
    if value is None or isinstance(value, bool | int | float):
        return type(value).__name__
    if isinstance(value, str | bytes | bytearray | list | tuple | set | frozenset | Mapping):
        return f"{type(value).__name__} {len(value)}"
    return type(value).__name__


def _keep_argument(value: object) -> object:
    """An argument of another library's record as it may be logged: itself, or its shape."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if type(value).__name__ == "URL" or (isinstance(value, str) and value.startswith("http")):
        return str(value).split("?", 1)[0]  # the address without its query; masked later
    if isinstance(value, str) and _SAFE_ARGUMENT.fullmatch(value):
        return value
    return shape(value)


def _quoted(match: re.Match[str]) -> str:
    inner = match.group()[1:-1]
    return match.group() if _CODE_NAME.fullmatch(inner) else f"<str {len(inner)}>"


def mask_traceback(text: str, secrets: Iterable[str] = ()) -> str:
    """A formatted traceback with its messages' data removed; the frames stay as they are."""
    lines = []
    for line in _SQL_PARAMETERS.sub("[parameters: hidden]", text).split("\n"):
        # Frames are indented, and the chaining sentences are fixed; the rest are messages.
        if line and not line[0].isspace() and not line.startswith(_TRACEBACK_TEXT):
            line = _QUOTED.sub(_quoted, line)
        lines.append(line)
    return mask("\n".join(lines), secrets)


_TRACEBACK_TEXT = (
    "Traceback (most recent call last)",
    "During handling of the above exception",
    "The above exception was the direct cause",
)


def clean_record(record: logging.LogRecord, secrets: Iterable[str] = ()) -> None:
    """Make RECORD private in place (once): message, arguments, traceback and stack."""
    if getattr(record, "private", False):
        return
    record.private = True
    template, args = record.msg, record.args
    name = record.name or ""
    if not (name == OWN_LOGGER or name.startswith(OWN_LOGGER + ".")):
        if isinstance(args, Mapping):
            args = {key: _keep_argument(value) for key, value in args.items()}
        elif args:
            args = tuple(_keep_argument(value) for value in args)
        if not isinstance(template, str):
            template = shape(template)
    try:
        message = str(template) % args if args else str(template)
    except Exception:  # a malformed record still gets logged, cleaned
        message = f"{template!r} {shape(args)}"
    # Filters that recognise a record by its format string still can (WebhookRefusalFilter).
    record.template = record.msg if isinstance(record.msg, str) else None
    record.msg = mask(message, secrets)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_traceback(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = mask(record.stack_info, secrets)


class PrivateRecords:
    """A log-record factory that cleans every record as it is made, whoever logs it."""

    def __init__(self, base: Callable[..., logging.LogRecord], secrets: Iterable[str]) -> None:
        """Wrap BASE (the factory in place before); SECRETS are replaced wherever they show."""
        self.base = base
        self.secrets = tuple(secret for secret in secrets if secret)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make the record with BASE, then clean it."""
        record = self.base(*args, **kwargs)
        if record.name is not None:  # makeLogRecord() fills a blank record in afterwards
            clean_record(record, self.secrets)
        return record


class MaskingFilter(logging.Filter):
    """On every handler: cleans a record not yet cleaned, and the `extra` fields added to it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Also replace each of SECRETS (the bot token, the webhook secret) wherever it shows."""
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite RECORD in place; never drops it."""
        clean_record(record, self.secrets)
        for name, value in list(vars(record).items()):
            if name in _PRIVATE_FIELDS or value is None or isinstance(value, bool):
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
        pairs += [
            (name, value) for name, value in vars(record).items() if name not in _PRIVATE_FIELDS
        ]
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
        if getattr(record, "template", record.msg) not in _REFUSALS:
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


class OwnHandler(logging.StreamHandler[TextIO]):
    """The handler configure_logging installs (and replaces when called again)."""


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to STREAM (stderr) as masked key=value lines at LEVEL."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    secrets = tuple(secret for secret in secrets if secret)
    factory = logging.getLogRecordFactory()
    while isinstance(factory, PrivateRecords):  # configured again: replace ours, keep the base
        factory = factory.base
    logging.setLogRecordFactory(PrivateRecords(factory, secrets))
    handler = OwnHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, OwnHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    _filter_every_handler(MaskingFilter(secrets))
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


def _filter_every_handler(privacy: MaskingFilter) -> None:
    """Put PRIVACY on every handler there is: the root's and any library's own."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            for old in [f for f in handler.filters if isinstance(f, MaskingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(privacy)
