"""Tests for settings: defaults, the environment and .env, and one-line errors."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import SettingsError, load_settings

pytestmark = pytest.mark.usefixtures("clean_environment")


def one_line_error(**environment: str) -> str:
    """The SettingsError message for ENVIRONMENT; fails unless it is one line."""
    with mock.patch.dict(os.environ, environment), pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message
    assert "\n" not in message and "\r" not in message
    return message


def test_defaults() -> None:
    loaded = load_settings()

    assert loaded.database_url is None
    assert loaded.effective_database_url == "sqlite+aiosqlite:///data/register.db"
    assert loaded.data_dir == Path("data")
    assert loaded.key_file == Path("data/keys.json")
    assert loaded.default_region == "GB"
    assert loaded.timezone == "Europe/London"
    assert loaded.webhook_url is None
    assert loaded.webhook_secret is None
    assert loaded.webhook_listen == "0.0.0.0"
    assert loaded.webhook_port == 8443
    assert loaded.telegram_bot_token is None
    assert loaded.telegram_api_base_url is None
    assert loaded.database_schema is None
    assert loaded.report_retention_days == 730
    assert loaded.draft_ttl_hours == 24
    assert loaded.log_level == "INFO"


def test_the_map_asks_no_tile_server_unless_one_is_named() -> None:
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"

    assert load_settings().web_tile_url == ""
    assert load_settings(web_tile_url=" ").web_tile_url == ""
    assert load_settings(web_tile_url=tiles).web_tile_url == tiles


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook/")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_-X")
    monkeypatch.setenv("WEBHOOK_LISTEN", "127.0.0.1")
    monkeypatch.setenv("WEBHOOK_PORT", "8080")
    monkeypatch.setenv("default_region", " je ")
    monkeypatch.setenv("TIMEZONE", " Europe/Madrid ")
    monkeypatch.setenv("REPORT_RETENTION_DAYS", "90")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("LOG_LEVEL", "debug")

    loaded = load_settings()

    assert loaded.require_token() == "123:abc"
    assert loaded.telegram_api_base_url == "http://127.0.0.1:8081"
    assert loaded.webhook_url == "https://bot.example.org/hook"
    assert (loaded.webhook_secret_value, loaded.webhook_listen, loaded.webhook_port) == (
        "s3cret_-X",
        "127.0.0.1",
        8080,
    )
    assert loaded.default_region == "JE"
    assert loaded.timezone == "Europe/Madrid"
    assert loaded.report_retention_days == 90
    assert loaded.log_level == "DEBUG"
    assert loaded.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/store/register.db"
    assert loaded.key_file == tmp_path / "store" / "keys.json"


def test_dotenv_is_read_and_the_environment_wins(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / ".env").write_text(
        "DEFAULT_REGION=FR\nWEBHOOK_PORT=9000\nTELEGRAM_BOT_TOKEN=from-dotenv\n", "utf-8"
    )
    monkeypatch.setenv("WEBHOOK_PORT", "9001")

    loaded = load_settings()

    assert (loaded.default_region, loaded.webhook_port) == ("FR", 9001)
    assert loaded.require_token() == "from-dotenv"


def test_empty_values_mean_not_set(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text(
        "WEBHOOK_PORT=\nDATA_DIR=\nDATABASE_URL=\nDEFAULT_REGION=\n", "utf-8"
    )

    loaded = load_settings()

    assert loaded.webhook_port == 8443
    assert loaded.default_region == "GB"
    assert loaded.effective_database_url == "sqlite+aiosqlite:///data/register.db"


def test_dotenv_that_is_not_text(clean_environment: Path) -> None:
    (clean_environment / ".env").write_bytes(b"DEFAULT_REGION=\xff\xfe\n")

    assert ".env" in one_line_error()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_PORT", "abc"),
        ("WEBHOOK_PORT", "0"),
        ("WEBHOOK_PORT", "70000"),
        ("DEFAULT_REGION", "XX"),
        ("DEFAULT_REGION", "Great Britain"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "postgresql+psycopg2://u@h/db"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081"),
        ("WEBHOOK_URL", "ftp://bot.example.org"),
        ("REPORT_RETENTION_DAYS", "0"),
        ("DRAFT_TTL_HOURS", "a day"),
        ("LOG_LEVEL", "loud"),
        ("TIMEZONE", "Mars/Olympus_Mons"),
        ("TIMEZONE", "../../etc/passwd"),
        ("WEBHOOK_SECRET", "has spaces"),
        ("WEB_TILE_URL", "tiles.example.org/{z}/{x}/{y}.png"),
    ],
)
def test_malformed_value_is_one_line_naming_it(name: str, value: str) -> None:
    message = one_line_error(**{name: value})

    assert name in message


def test_webhook_url_needs_a_secret() -> None:
    message = one_line_error(WEBHOOK_URL="https://bot.example.org/hook")

    assert "WEBHOOK_SECRET" in message
    assert "WEBHOOK_URL" in message


def test_database_url_error_does_not_echo_a_password() -> None:
    message = one_line_error(DATABASE_URL="mysql://user:hunter2@db.example.org/register")

    assert "hunter2" not in message


def test_several_problems_in_one_line() -> None:
    message = one_line_error(WEBHOOK_PORT="abc", DEFAULT_REGION="XX")

    assert "WEBHOOK_PORT" in message and "DEFAULT_REGION" in message


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("postgres://u:p@db:5432/reg", "postgresql+asyncpg://u:p@db:5432/reg"),
        ("postgresql://u@db/reg", "postgresql+asyncpg://u@db/reg"),
        ("postgresql+asyncpg://u@db/reg", "postgresql+asyncpg://u@db/reg"),
        ("sqlite:////srv/reg.db", "sqlite+aiosqlite:////srv/reg.db"),
        (" sqlite+aiosqlite:///x.db ", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_gets_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given_url: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given_url)

    loaded = load_settings()

    assert loaded.database_url == expected
    assert loaded.effective_database_url == expected


def test_missing_token_is_one_line_naming_it() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings().require_token()

    assert "TELEGRAM_BOT_TOKEN" in str(raised.value)
    assert "\n" not in str(raised.value)


_ENV_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(
        ["WEBHOOK_PORT", "DEFAULT_REGION", "DATABASE_URL", "WEBHOOK_URL", "TIMEZONE"]
    ),
    value=_ENV_TEXT,
)
def test_any_value_loads_or_fails_in_one_line_naming_it(name: str, value: str) -> None:
    with mock.patch.dict(os.environ, {name: value}):
        try:
            loaded = load_settings()
        except SettingsError as exc:
            message = str(exc)
            assert "\n" not in message and "\r" not in message
            assert name in message or (name == "WEBHOOK_URL" and "WEBHOOK_SECRET" in message)
            return
    if name == "WEBHOOK_PORT":
        assert 1 <= loaded.webhook_port <= 65535
    elif name == "DATABASE_URL" and loaded.database_url is not None:
        assert loaded.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))


def test_the_time_zone_reaches_the_handlers() -> None:
    from zoneinfo import ZoneInfo

    from bot.app import handler_config
    from handlers.context import HandlerConfig

    config = handler_config(load_settings(timezone="America/New_York"))
    assert config.zone == ZoneInfo("America/New_York")
    assert HandlerConfig().zone == ZoneInfo("Europe/London")


def test_printing_the_settings_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE",
        "WEBHOOK_SECRET": "hook-secret-Value_42",
        "DATA_KEYS": "k2:" + "A" * 43 + ",k1:" + "B" * 43,
        "INDEX_KEY": "C" * 43,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("DATABASE_URL", "postgresql://reportbot:db-Passw0rd@db.example.org/register")

    loaded = load_settings()
    shown = "\n".join((repr(loaded), str(loaded), f"{loaded!r}", f"{loaded}"))

    for value in (*secrets.values(), "A" * 43, "B" * 43, "db-Passw0rd"):
        assert value not in shown
    assert "db.example.org" in shown  # the rest is still there to read
    assert loaded.require_token() == secrets["TELEGRAM_BOT_TOKEN"]
    assert loaded.webhook_secret_value == secrets["WEBHOOK_SECRET"]
    assert set(loaded.secret_values()) >= {secrets["INDEX_KEY"], "A" * 43, "B" * 43}


def test_the_service_area_and_the_online_geocoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from models.values.coordinates import GREATER_LONDON, Area

    assert load_settings().service_area_box == GREATER_LONDON
    assert load_settings().nominatim_url is None
    monkeypatch.setenv("SERVICE_AREA", " 53.3, -2.4, 53.6, -2.0 ")
    monkeypatch.setenv("NOMINATIM_URL", "http://127.0.0.1:8080/")
    loaded = load_settings()
    assert loaded.service_area_box == Area(53.3, -2.4, 53.6, -2.0)
    assert loaded.nominatim_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("SERVICE_AREA", "none")
    assert load_settings().service_area_box is None


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SERVICE_AREA", "51,0,50,1", "south,west,north,east"),
        ("SERVICE_AREA", "London", "four numbers"),
        ("NOMINATIM_URL", "ftp://example.org", "http"),
    ],
)
def test_bad_register_settings_are_one_line(name: str, value: str, words: str) -> None:
    message = one_line_error(**{name: value})
    assert name in message and words in message
