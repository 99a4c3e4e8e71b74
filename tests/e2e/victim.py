"""A person talking to the real bot process through the fake Telegram server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.local_api import ChatMessage, LocalUser
from tests.botapi import FakeTelegram

REPLY_TIMEOUT = 20.0


class Victim(LocalUser):
    """`LocalUser`'s updates, delivered over HTTP: each action queues an update on the server.

    Actions return the bot's output in this chat that followed them (new or edited messages)
    as soon as there is any; `expect` waits for a particular message.
    """

    def __init__(self, server: FakeTelegram, **kwargs: Any) -> None:
        """A user of SERVER's bot (kwargs as for LocalUser: user_id, first_name, ...)."""
        super().__init__(None, server, **kwargs)  # type: ignore[arg-type]
        self.server = server
        self.last_update_id: int | None = None
        self.waiting = True  # whether actions wait for the bot's first answer

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages this chat shows, oldest first."""
        return self.server.bot_messages(self.chat_id)

    def latest(self) -> ChatMessage | None:
        """The bot's newest visible message."""
        messages = self.messages
        return messages[-1] if messages else None

    def describe(self, last: int = 3) -> str:
        """The chat's last few bot messages, for a failing test's report."""
        shown = [f"[{m.message_id}] {(m.text or '')[:80]!r} {m.buttons[:3]}" for m in self.messages]
        return " | ".join(shown[-last:])

    def mark(self) -> int:
        """A position in the chat's activity, for `expect(..., since=...)`."""
        return self.server.activity.get(self.chat_id, 0)

    async def deliver(self, payload: dict[str, Any], *, update_id: int | None = None) -> int:
        """Queue PAYLOAD for the bot (with UPDATE_ID to replay one); returns the update_id."""
        self.last_update_id = self.server.queue_update(payload, update_id)
        return self.last_update_id

    async def _replies(self, payload: dict[str, Any]) -> list[ChatMessage]:
        before = {m.message_id: m.text for m in self.messages}
        since = self.mark()
        await self.deliver(payload)
        if not self.waiting:
            return []
        await self.server.wait_until(
            lambda: self.mark() > since, REPLY_TIMEOUT, f"an answer in chat {self.chat_id}"
        )
        return [m for m in self.messages if before.get(m.message_id, object()) != m.text]

    async def expect(
        self,
        condition: Callable[[ChatMessage], bool],
        *,
        within: float = REPLY_TIMEOUT,
        what: str = "a message",
    ) -> ChatMessage:
        """Wait until one of the bot's visible messages meets CONDITION; the newest such one."""

        def found() -> ChatMessage | None:
            return next((m for m in reversed(self.messages) if condition(m)), None)

        return await self.server.wait_until(found, within, f"{what} in chat {self.chat_id}")

    async def expect_text(self, fragment: str, *, within: float = REPLY_TIMEOUT) -> ChatMessage:
        """Wait for a bot message containing FRAGMENT."""
        return await self.expect(
            lambda m: fragment in (m.text or ""), within=within, what=repr(fragment)
        )
