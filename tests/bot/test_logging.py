"""Logging: one masked key=value line per event, level from settings, quiet third parties."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot.app import CONSOLE_TOKEN
from bot.console import Console
from bot.logging_setup import (
    WEBHOOK_LOGGER,
    WebhookRefusalFilter,
    configure_logging,
    mask,
)
from handlers.conversation.turn import LIVE

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE"
PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


@pytest.fixture
def log_output(restore_logging):
    """Configure logging into a buffer; the previous configuration comes back afterwards."""
    buffer = io.StringIO()

    def configure(level: str = "INFO", secrets: tuple[str, ...] = (TOKEN,)) -> io.StringIO:
        configure_logging(level, secrets=secrets, stream=buffer)
        return buffer

    return configure


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


def test_mask_hides_tokens_and_codes_in_links():
    assert mask("GET /signin?token=Zk3_x-9&next=/r") == "GET /signin?token=[secret]&next=/r"
    assert mask("open t.me/Bot?start=SPR7KQ4M9_K7QM3XDP") == "open t.me/Bot?start=[link]"
    assert mask("code K7QM-3XDP, K7QM3XDP") == "code [code], [code]"


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


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "report.txt"


@pytest.fixture
def sql_logged():
    """SQLAlchemy's statement log on (an operator debugging the database would turn it on)."""
    engine_log = logging.getLogger("sqlalchemy.engine")
    level = engine_log.level
    engine_log.setLevel(logging.INFO)
    yield
    engine_log.setLevel(level)


async def test_at_debug_a_whole_report_logs_no_code_token_or_personal_data(
    application, api, make_user, settings, log_output, sql_logged
):
    buffer = log_output("DEBUG", secrets=(*settings.secret_values(), CONSOLE_TOKEN))
    victim = make_user(user_id=8_100_000_001, first_name="Alexandra")
    screen = io.StringIO()
    console = Console(victim, api, screen)
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            await console.handle(line)
    shown = screen.getvalue()
    reference = re.search(r"Reference: (SPR-\w{4}-\w{2})", shown).group(1)
    code = re.search(r"Access code: (\w{4}-\w{4})", shown).group(1)
    payload = re.search(r"\?start=(\w+)", shown).group(1)
    # Following the report from other chats: typing the code, and opening the link.
    follower = make_user(user_id=8_100_000_002)
    assert reference in "".join(
        m.text or "" for m in await follower.send(f"/status {reference} {code.lower()}")
    )
    opener = make_user(user_id=8_100_000_003)
    assert reference in "".join(m.text or "" for m in await opener.send(f"/start {payload}"))

    log = buffer.getvalue()
    # DEBUG was really on, for our loggers and the libraries' alike (shapes, not values).
    assert "Calling Bot API endpoint `sendMessage` with parameters `{chat_id: int, text: str" in log
    assert "logger=sqlalchemy.engine" in log
    assert "logger=aiosqlite" in log or application.bot_data["register"].db.is_sqlite is False
    forbidden = {
        "access code": [code, code.replace("-", ""), code.lower(), payload],
        "name": ["Alex Example", "Alexandra"],
        "e-mail": ["alex@example.org"],
        "IMEI": ["352099001761481", "35 209900 176148 1", "176148"],
        "phone number": ["07700 900456", "7700900456", "07911 123456", "7911123456"],
        "free text": ["Bond Street station", "green case", "iPhone 15 Pro"],
        "bot token": [CONSOLE_TOKEN],
    }
    for kind, values in forbidden.items():
        for value in values:
            assert value not in log, f"{kind} {value!r} is in the log"


def test_other_libraries_arguments_are_shapes_and_ours_are_masked(log_output):
    buffer = log_output("DEBUG")
    logging.getLogger("telegram.Bot").debug(
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": 42, "text": "Access code: K7QM-3XDP, Alex Example"},
    )
    logging.getLogger("aiosqlite").debug("executing %s", ("INSERT ...", ("Alex Example", 7)))
    logging.getLogger("reportbot.test").info(
        "mail %s code %s link %s", "alex@example.org", "K7QM3XDP", "t.me/b?start=SPR7KQ4M9_K7QM3XDP"
    )
    typed = "Alex Example"
    try:
        int(typed)
    except ValueError:
        logging.getLogger("reportbot.test").exception("failed")
    # At DEBUG the root logger also takes what a thread left by an earlier test (aiosqlite's)
    # logs meanwhile: this test's four events are picked out by their loggers.
    logged = events(buffer)
    [first] = [e for e in logged if e["logger"] == "telegram.Bot"]
    [third, fourth] = [e for e in logged if e["logger"] == "reportbot.test"]
    assert first["msg"] == (
        "Calling Bot API endpoint `sendMessage` with parameters `{chat_id: int, text: str 36}`"
    )
    assert "executing <tuple 2>" in [e["msg"] for e in logged if e["logger"] == "aiosqlite"]
    assert third["msg"] == "mail [e-mail] code [code] link t.me/b?start=[link]"
    assert "ValueError: invalid literal for int() with base 10: <str 12>" in fourth["exc"]
    assert "Alex" not in buffer.getvalue()
    assert "K7QM" not in buffer.getvalue()


async def test_web_console_lines_name_the_route_and_never_the_path(log_output, register) -> None:
    import httpx

    from handlers.web.app import create_app
    from handlers.web.config import WebConfig

    buffer = log_output("INFO")
    app = create_app(WebConfig(secret=b"k" * 32), register)
    token = "Zx9" * 14
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get(f"/signin/{token}")
        await client.get("/report/SPR-7KQ4-M9")

    messages = [event.get("msg") for event in events(buffer)]
    assert "web GET /signin/{token} 200" in messages
    assert "web GET /report/{reference} 401" in messages
    assert token not in buffer.getvalue() and "SPR-7KQ4-M9" not in buffer.getvalue()
