"""The typed context every handler receives: the register and the handlers' settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from models.register import Register


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    """What the handlers need to know about the deployment."""

    default_region: str = "GB"
    draft_ttl_hours: int = 24
    emergency_number: str = "999"
    non_emergency_number: str = "101"
    timezone: str = "Europe/London"
    # Where staff open the web console; `/web` links are built on it.
    web_base_url: str = "http://127.0.0.1:8080"

    @property
    def zone(self) -> tzinfo:
        """The register's time zone, in which victims read and type days and times."""
        return ZoneInfo(self.timezone)


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """CallbackContext with typed access to the register and the handler settings."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        """Create the context as PTB does."""
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def register(self) -> Register:
        """The stolen-phone register."""
        register: Register = self.application.bot_data["register"]
        return register

    @property
    def config(self) -> HandlerConfig:
        """The handlers' settings."""
        config: HandlerConfig = self.application.bot_data["config"]
        return config

    @property
    def chat_state(self) -> dict[str, Any]:
        """This chat's data: the handlers that use it only ever see updates from a chat."""
        data = self.chat_data
        assert data is not None
        return data


def install(
    application: Application[Any, Any, Any, Any, Any, Any],
    register: Register,
    config: HandlerConfig,
) -> None:
    """Make REGISTER and CONFIG reachable from every handler's context."""
    application.bot_data["register"] = register
    application.bot_data["config"] = config
