"""A whole report in every language through the console, as a victim on a borrowed phone files it.

The script picks the language on the first screen (the console's account has none), presses
every button by its label in that language and types a day and time the way people write them
in it. Then `reportbot lookup` finds the report, and the review and the filing message showed
their days and times by Babel in that language and the register's time zone.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.cli import main
from bot.console import plain_text
from bot.runtime import open_register
from handlers.context import HandlerConfig
from handlers.i18n.moments import show_moment
from handlers.texts import languages, text
from tests.bot.test_console import console, console_settings  # noqa: F401 (a fixture)
from tests.factories import imei
from tests.handlers.english import english_in

LONDON = HandlerConfig().zone
STOLEN_IMEI = imei(4242)
# "Yesterday at 18:30", as people type it in each language.
YESTERDAY_1830 = {
    "en": "yesterday 18:30",
    "es": "ayer 18:30",
    "fr": "hier 18h30",
    "de": "gestern um 18:30",
    "it": "ieri alle 18:30",
    "pt": "ontem às 18h30",
    "pl": "wczoraj o 18:30",
    "ro": "ieri la 18:30",
    "ar": "أمس 18:30",
    "zh": "昨天 18:30",
}
# What the console prints itself (not the bot): its banner, notes and the echoed input.
_CONSOLE_LINES = re.compile(r"^(> .*|\(.*\)|Console mode:.*)$", re.M)


def label(key: str, language: str) -> str:
    """A conversation button's label in LANGUAGE."""
    return text(f"conversation.button_{key}", language)


def script(language: str) -> str:
    """A whole report, one message or button label a line, in LANGUAGE."""
    pressed = lambda key: label(key, language)  # noqa: E731
    lines = [
        "/start",
        text("common.language_name", language),  # the first screen offers every language
        pressed("agree"),
        pressed("account_borrowed"),
        pressed("make_samsung"),
        "Galaxy S23",
        pressed("skip"),
        STOLEN_IMEI.grouped,
        pressed("imei_right"),
        pressed("no_second_imei"),
        "07700 900456",
        "Vodafone",
        pressed("when_other"),
        YESTERDAY_1830[language],
        pressed("imei_right"),  # "Yes, that's right": the day and time read back
        "location: 51.5142, -0.1494",
        pressed("skip"),
        pressed("loss_theft"),
        pressed("how_snatched_moped"),
        pressed("tracked_no"),
        "Alex Example",
        "07911 123456",
        pressed("skip"),
        pressed("channel_sms"),
        pressed("submit"),
    ]
    return "\n".join(lines) + "\n"


def yesterday_at_1830(now: datetime) -> datetime:
    """18:30 in London the day before NOW's London day, as an aware UTC moment."""
    day = now.astimezone(LONDON).date() - timedelta(days=1)
    return datetime.combine(day, time(18, 30), LONDON).astimezone(UTC)


async def lookup(monkeypatch: pytest.MonkeyPatch, settings, capsys, query: str) -> str:
    """`reportbot lookup QUERY` on the console's database and keys: what it prints."""
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    if settings.database_schema:
        monkeypatch.setenv("DATABASE_SCHEMA", settings.database_schema)
    else:
        monkeypatch.delenv("DATABASE_SCHEMA", raising=False)
    for name in ("DATA_KEYS", "INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["lookup", "--brief", "--no-contact", query]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("language", languages())
async def test_a_whole_report_in_every_language_through_the_console(
    console_settings,  # noqa: F811
    monkeypatch,
    capsys,
    language,
):
    before = datetime.now(UTC)
    out = await console(console_settings, script(language))
    after = datetime.now(UTC)

    reference = re.search(r"SPR-\w{4}-\w{2}", out).group()
    assert plain_text(text("conversation.review_title", language)) in out
    # The typed day and time, in the review, in the language and London time.
    typed = {show_moment(yesterday_at_1830(now), language, LONDON) for now in (before, after)}
    assert any(shown in out for shown in typed), typed
    register = await open_register(console_settings)
    try:
        report = await register.reports.get(reference)
    finally:
        await register.close()
    assert report is not None and report.get("language") == language
    assert report.incident_at in {yesterday_at_1830(now) for now in (before, after)}
    filed_at = show_moment(report.created_at, language, LONDON)
    filed = plain_text(
        text(
            "conversation.filed",
            language,
            reference=reference,
            code="X",
            filed_at=filed_at,
            police_never_ask="",
        )
    ).split("\n")
    assert next(line for line in filed if filed_at in line) in out
    assert "UTC" not in out
    if language != "en":
        # The first screen is English (the account has no language); once picked, no English.
        picked = out.split(f"> {text('common.language_name', language)}\n", 1)[1]
        assert english_in(_CONSOLE_LINES.sub("", picked)) == []

    found = await lookup(monkeypatch, console_settings, capsys, STOLEN_IMEI.grouped)
    assert re.match(rf"{reference}  submitted  Samsung Galaxy S23", found), found
