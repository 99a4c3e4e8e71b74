"""Settings from the environment and `.env`, with one clear line for every bad value."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.values.coordinates import GREATER_LONDON, Area

DEFAULT_DATA_DIR = Path("data")


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything an operator can configure; names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `WEBHOOK_PORT=` in a .env means "not set", not "set to nothing".
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    database_url: str | None = None
    database_schema: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - the documented default for webhook mode
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    default_region: str = "GB"
    # The register's time zone: every day and time a victim reads or types is in it.
    timezone: str = "Europe/London"
    report_retention_days: int = Field(default=730, ge=1)
    draft_ttl_hours: int = Field(default=24, ge=1)
    data_keys: SecretStr | None = None
    index_key: SecretStr | None = None
    log_level: str = "INFO"
    police_non_emergency: str = "101"
    emergency_number: str = "999"
    max_concurrent_chats: int = Field(default=64, ge=1, le=10_000)
    # Staff alerts: N or more reports' phones tracked within R metres within W hours.
    alert_cluster_min_reports: int = Field(default=3, ge=2, le=1000)
    alert_cluster_radius_metres: float = Field(default=200.0, ge=1, le=50_000)
    alert_cluster_window_hours: float = Field(default=72.0, gt=0, le=24 * 366)
    # On SIGTERM, the updates and notifications in flight get this long to finish; what is
    # left then is handed back to Telegram (updates) or to the outbox (notifications).
    stop_grace_seconds: float = Field(default=7.0, gt=0, le=600)
    # Register: where reports are expected (south,west,north,east; `none` for anywhere), and an
    # optional online geocoder for places the imported gazetteer does not know.
    service_area: str = str(GREATER_LONDON)
    nominatim_url: str | None = None
    nominatim_user_agent: str = "stolen-phone-reportbot"
    recovery_max_file_mb: float = Field(default=20, gt=0, le=1_000)
    # New messages a second this process sends in all (replies and notifications). Telegram
    # allows 30 per bot: with N processes on one database, give each 30 / N.
    delivery_rate_per_second: int = Field(default=30, ge=1, le=30)
    # Staff web console (`reportbot web`): the address staff open (sign-in links are built on
    # it; https makes the session cookie Secure), where the process listens, and how long
    # sign-in links and sessions last.
    web_base_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_link_minutes: float = Field(default=5, gt=0, le=60)
    web_session_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)
    web_session_hours: float = Field(default=12, gt=0, le=24 * 31)
    web_sign_in_failures: int = Field(default=10, ge=1, le=10_000)
    # The map's tiles; {z}/{x}/{y} as Leaflet reads them. The page's CSP allows this origin.
    # Empty (the default): no tile server is asked, the points lie on a plain background.
    web_tile_url: str = ""
    # Signs the session cookie; when unset it is derived from INDEX_KEY (or the key file).
    web_secret: SecretStr | None = None
    # The bot's username, to offer the Telegram Login Widget (after BotFather's /setdomain).
    web_login_bot: str | None = None

    @field_validator("default_region")
    @classmethod
    def _region_known(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}; use a two-letter code such as GB")
        return region

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = value.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {value.strip()[:40]!r}; use a name such as Europe/London"
            ) from None
        return name

    @field_validator("log_level")
    @classmethod
    def _level_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("service_area")
    @classmethod
    def _area(cls, value: str) -> str:
        if value.strip().casefold() in {"none", "off", "anywhere"}:
            return "none"
        return str(Area.parse(value))

    @property
    def service_area_box(self) -> Area | None:
        """The service area as a box, or None when reports may be anywhere."""
        return None if self.service_area == "none" else Area.parse(self.service_area)

    @field_validator("web_login_bot")
    @classmethod
    def _bot_username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        import re

        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise ValueError("a bot's username, such as StolenPhoneBot")
        return name

    @field_validator("web_base_url", "web_tile_url")
    @classmethod
    def _web_url(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "web_tile_url" and not value.strip():
            return ""
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip().rstrip("/")

    @field_validator("telegram_api_base_url", "webhook_url", "nominatim_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip()
        scheme = url.split("://", 1)[0]
        drivers = {
            "sqlite": "sqlite+aiosqlite",
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
        }
        if scheme in drivers:
            return drivers[scheme] + url[len(scheme) :]
        if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://...")
        return url

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        secret = self.webhook_secret_value
        if self.webhook_url and not secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        if secret is not None:
            import re

            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise ValueError(
                    "WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
                )
        return self

    def __repr_args__(self) -> Any:
        """What repr() and str() show: secrets are SecretStr, and a database password is hidden."""
        for name, value in super().__repr_args__():
            if name == "database_url" and value:
                try:
                    value = make_url(value).render_as_string(hide_password=True)
                except ArgumentError:
                    value = "<unreadable URL>"
            yield name, value

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'register.db'}"

    @property
    def key_file(self) -> Path:
        """Where the generated keys live when none are given in the environment."""
        return self.data_dir / "keys.json"

    def require_token(self) -> str:
        """The bot token, or a SettingsError naming TELEGRAM_BOT_TOKEN."""
        token = _reveal(self.telegram_bot_token)
        if not token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get one from @BotFather, "
                "or try the bot offline with `reportbot console`"
            )
        return token

    @property
    def webhook_secret_value(self) -> str | None:
        """The webhook secret in clear, for the webhook server and setWebhook only."""
        return _reveal(self.webhook_secret)

    @property
    def data_keys_value(self) -> str | None:
        """DATA_KEYS in clear, for building the key ring only."""
        return _reveal(self.data_keys)

    @property
    def web_secret_value(self) -> str | None:
        """WEB_SECRET in clear, for signing the web console's cookies only."""
        return _reveal(self.web_secret)

    @property
    def index_key_value(self) -> str | None:
        """INDEX_KEY in clear, for building the key ring only."""
        return _reveal(self.index_key)

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret in clear, for the log filter to blank out wherever it shows."""
        values = [
            _reveal(self.telegram_bot_token),
            self.webhook_secret_value,
            self.index_key_value,
            _reveal(self.web_secret),
        ]
        for entry in (self.data_keys_value or "").split(","):
            values.append(entry.partition(":")[2].strip())
        return tuple(value for value in values if value)


def _reveal(secret: SecretStr | None) -> str | None:
    """A secret's value (None when unset or empty)."""
    if secret is None:
        return None
    return secret.get_secret_value() or None


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except UnicodeDecodeError:
        raise SettingsError(".env: not valid UTF-8 text") from None
    except OSError as exc:
        raise SettingsError(f".env: cannot read it ({exc.strerror or exc})") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        names = [str(part).upper() for part in error.get("loc", ()) if part != "__root__"]
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        problems.append(f"{names[0]}: {message}" if names else message)
    return "bad setting: " + "; ".join(problems)
