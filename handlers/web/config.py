"""What the web console needs to know about the deployment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

# No tile server unless the operator names one (WEB_TILE_URL): nothing leaves for a third party.
DEFAULT_TILE_URL = ""


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The console's settings; SECRET signs cookies and form tokens."""

    secret: bytes
    base_url: str = "http://127.0.0.1:8080"
    timezone: str = "Europe/London"
    default_region: str = "GB"
    tile_url: str = DEFAULT_TILE_URL
    # The Telegram Login Widget, when the operator set it up: the bot's username, and
    # SHA-256 of its token (the key the widget's answers are signed with).
    login_widget_bot: str | None = None
    login_widget_key: bytes | None = None

    @property
    def login_widget(self) -> bool:
        """Whether the sign-in page offers the Telegram Login Widget."""
        return bool(self.login_widget_bot and self.login_widget_key)

    @property
    def secure(self) -> bool:
        """Whether staff reach the console over HTTPS (cookies are then Secure)."""
        return self.base_url.lower().startswith("https://")

    @property
    def zone(self) -> tzinfo:
        """The register's time zone, in which pages show days and times."""
        return ZoneInfo(self.timezone)

    @property
    def tile_origin(self) -> str:
        """The tile server's origin as a CSP source (`{s}` subdomains become `*`); "" if none."""
        if not self.tile_url:
            return ""
        parts = urlsplit(self.tile_url)
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
