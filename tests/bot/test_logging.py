"""Logging: one masked key=value line per event, level from settings, quiet third parties."""

from __future__ import annotations

import io
import logging
import re

import pytest
from telegram.ext import CommandHandler

from bot.logging_setup import (
    QUIET_LOGGERS,
    WEBHOOK_LOGGER,
    WebhookRefusalFilter,
    configure_logging,
    mask,
)
from handlers.conversation.turn import LIVE

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE"
PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


@pytest.fixture
def log_output():
    """Configure logging into a buffer; put the previous configuration back afterwards."""
    root = logging.getLogger()
    names = [*QUIET_LOGGERS, WEBHOOK_LOGGER]
    saved = (root.level, list(root.handlers))
    saved_loggers = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).filters))
        for name in names
    }
    buffer = io.StringIO()

    def configure(level: str = "INFO", secrets: tuple[str, ...] = (TOKEN,)) -> io.StringIO:
        configure_logging(level, secrets=secrets, stream=buffer)
        return buffer

    yield configure
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, (level, filters) in saved_loggers.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).filters[:] = filters


def events(buffer: io.StringIO) -> list[dict[str, str]]:
    """Each line of BUFFER as its key=value pairs (quotes removed, escapes kept)."""
    return [
        {key: value.strip('"') for key, value in PAIR.findall(line)}
        for line in buffer.getvalue().splitlines()
    ]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("imei 353918100000005", "imei 35391810******"),
        ("imeisv 3539181000000512", "imeisv 35391810******"),
        ("grouped 35-391810-000000-5", "grouped 35391810******"),
        ("call +447400123456 now", "call +447400****** now"),
        ("call +44 7400 123456", "call +447400******"),
        ("or 07400 123456.", "or 07400******."),
        (
            "GET https://api.telegram.org/bot" + TOKEN + "/getMe",
            "GET https://api.telegram.org/bot[token]/getMe",
        ),
        ("update 123456789 chat 7000000001", "update 123456789 chat 7000000001"),
        ("at 2026-11-22 09:33:12.123456", "at 2026-11-22 09:33:12.123456"),
        ("group -1001234567890", "group -1001234567890"),
    ],
)
def test_mask_hides_imeis_phone_numbers_and_tokens_but_not_ids(raw: str, masked: str):
    assert mask(raw) == masked


def test_mask_replaces_the_given_secrets():
    assert mask("secret=s3cr3t-value!", ["s3cr3t-value"]) == "secret=[secret]!"


def test_every_event_is_one_line_with_numbers_masked_even_in_tracebacks(log_output):
    buffer = log_output("INFO")
    log = logging.getLogger("reportbot.test")

    log.info(
        "looked up %s for %s", "353918100000005", "+447400123456", extra={"note": "07912 345678"}
    )
    try:
        raise ValueError("no report for 353918100000005, call +447400123456")
    except ValueError:
        log.exception("lookup failed", extra={"update_id": 17})

    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    first, second = events(buffer)
    assert first["level"] == "info"
    assert first["logger"] == "reportbot.test"
    assert first["msg"] == "looked up 35391810****** for +447400******"
    assert first["note"] == "07912******"
    assert second["level"] == "error"
    assert second["update_id"] == "17"
    assert second["exc"].startswith("Traceback (most recent call last):\\n")
    assert "ValueError: no report for 35391810******, call +447400******" in second["exc"]
    output = buffer.getvalue()
    for secret in ("353918100000005", "447400123456", "345678"):
        assert secret not in output


def test_extra_fields_of_any_type_are_masked(log_output):
    buffer = log_output("INFO")
    logging.getLogger("reportbot.test").info(
        "matched", extra={"imeis": ["353918100000005"], "count": 2, "found": True}
    )
    [event] = events(buffer)
    assert event["imeis"] == "['35391810******']"
    assert (event["count"], event["found"]) == ("2", "True")


def test_the_level_comes_from_the_setting(log_output):
    buffer = log_output("WARNING")
    log = logging.getLogger("reportbot.test")
    log.info("not shown")
    log.warning("shown")
    assert [event["msg"] for event in events(buffer)] == ["shown"]


def test_http_request_lines_are_quiet_at_info_and_masked_at_debug(log_output):
    line = f'HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getUpdates "HTTP/1.1 200 OK"'
    buffer = log_output("INFO")
    logging.getLogger("httpx").info(line)
    assert buffer.getvalue() == ""

    log_output("DEBUG")
    logging.getLogger("httpx").info(line)
    assert TOKEN not in buffer.getvalue()
    assert "bot[secret]/getUpdates" in buffer.getvalue()


def test_refused_webhook_requests_make_one_warning_without_the_guess(log_output):
    buffer = log_output("INFO")
    updater = logging.getLogger(WEBHOOK_LOGGER)

    updater.debug("Webhook received data: %s", '{"message": {"text": "my IMEI is ..."}}')
    updater.debug("Request had the wrong secret token: %s", "guessed")
    updater.debug("Request did not include the secret token")
    updater.debug("Request had the wrong secret token: %s", "guessed-again")

    [event] = events(buffer)
    assert event["level"] == "warning"
    assert "refused with 403" in event["msg"]
    assert "guessed" not in buffer.getvalue()
    assert "my IMEI" not in buffer.getvalue()


def test_refusals_are_reported_again_after_the_period_with_a_count():
    refusals = WebhookRefusalFilter(logging.INFO, period=0)
    records = [
        logging.makeLogRecord({"msg": "Request did not include the secret token", "levelno": 10})
        for _ in range(2)
    ]
    assert all(refusals.filter(record) for record in records)
    quiet = WebhookRefusalFilter(logging.INFO, period=3600)
    first, *rest = [
        logging.makeLogRecord({"msg": "Request did not include the secret token", "levelno": 10})
        for _ in range(4)
    ]
    assert quiet.filter(first)
    assert not any(quiet.filter(record) for record in rest)
    quiet._last = -1e9  # the period is over
    again = logging.makeLogRecord({"msg": "Request did not include the secret token"})
    assert quiet.filter(again)
    assert "3 more were refused" in again.getMessage()


async def test_a_failing_handler_logs_a_traceback_and_names_the_draft_in_the_apology(
    application, make_user, log_output
):
    buffer = log_output("INFO")

    async def broken(update, context):
        context.chat_data[LIVE] = "3f9a1c"
        raise RuntimeError("internals for IMEI 353918100000005")

    application.add_handler(CommandHandler("boom", broken), group=-5)
    user = make_user()

    replies = await user.send("/boom")

    assert len(replies) == 1
    assert "Sorry, something went wrong" in replies[0].text
    assert "3f9a1c" in replies[0].text
    assert "internals" not in replies[0].text
    [event] = [event for event in events(buffer) if event["logger"] == "reportbot.errors"]
    assert event["level"] == "error"
    assert event["draft"] == "3f9a1c"
    assert "RuntimeError: internals for IMEI 35391810******" in event["exc"]
    assert "353918100000005" not in buffer.getvalue()
