"""The webhook server on its own: the secret before the body, bounded bodies, bad bodies refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, Update

from bot.webhook import MAX_BODY_BYTES, SECRET_HEADER, WebhookServer
from tests.e2e.harness import TOKEN, WEBHOOK_SECRET, free_port

WAIT = 10.0
PATH = "/telegram/hook"
HUGE = 100 * 1024 * 1024


class Served:
    """A webhook server on 127.0.0.1 and the updates it handed over."""

    def __init__(self, server: WebhookServer) -> None:
        self.server = server
        self.updates: list[Update] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{PATH}"

    async def raw(self, head: str, body: bytes = b"") -> bytes:
        """Send HEAD (and BODY) on a fresh connection; everything the server answers."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        try:
            writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
            await writer.drain()
            # The server answers and closes; before the fix it waited for the announced body.
            return await asyncio.wait_for(reader.read(), WAIT)
        except ConnectionResetError:
            return b""  # closed with part of what we sent unread: refused without an answer
        finally:
            writer.close()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """A WebhookServer whose processor only records the updates."""
    bot = Bot(TOKEN)
    holder: list[Served] = []

    async def process(update: Update) -> None:
        holder[0].updates.append(update)

    server = WebhookServer(
        bot, process, listen="127.0.0.1", port=free_port(), path=PATH, secret=WEBHOOK_SECRET
    )
    holder.append(Served(server))
    await server.start()
    yield holder[0]
    await server.stop()


def head(*, secret: str | None, length: int | None = None, chunked: bool = False) -> str:
    """A POST's request line and headers (without the blank line that ends them)."""
    lines = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"{SECRET_HEADER}: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return "\n".join(lines) + "\n"


async def test_a_call_without_the_secret_is_refused_before_its_body_is_read(served: Served):
    # 100 MB announced, not a byte of it sent: the answer comes from the headers alone.
    for secret in (None, "guessed-secret"):
        answer = await served.raw(head(secret=secret, length=HUGE))
        assert answer.startswith(b"HTTP/1.1 403 "), answer[:80]
        assert answer.count(b"HTTP/1.1") == 1  # one answer, and the connection closed
    assert served.updates == []


async def test_a_body_larger_than_any_update_is_refused_unread(served: Served, caplog):
    caplog.set_level(logging.INFO)
    answer = await served.raw(head(secret=WEBHOOK_SECRET, length=HUGE))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    assert answer.count(b"HTTP/1.1") == 1
    # Sent in chunks (no size announced): the server stops at its limit and closes.
    chunk = b"x" * (256 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    answer = await served.raw(head(secret=WEBHOOK_SECRET, chunked=True), body)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:80]
    assert served.updates == []
    assert [r.getMessage() for r in caplog.records if r.name == "reportbot.webhook"] == [
        "webhook request larger than any update; answered 413"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_an_update_within_the_limit_is_taken(served: Served):
    text = "x" * 4096
    update = {
        "update_id": 5,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 42, "type": "private"},
            "text": text,
        },
    }
    async with httpx.AsyncClient(timeout=WAIT) as client:
        answer = await client.post(served.url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET})
    assert answer.status_code == 200
    assert [u.update_id for u in served.updates] == [5]
    assert served.updates[0].effective_message.text == text
    assert 100 * len(text) < MAX_BODY_BYTES


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[]",
        b"[1, 2]",
        b"42",
        b'"text"',
        b"true",
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": true}',
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 100_000,
    ],
)
async def test_authenticated_json_that_is_not_an_update_gets_400_logged_once(
    served: Served, caplog, body: bytes
):
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(timeout=WAIT) as client:
        answer = await client.post(
            served.url, content=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
    assert answer.status_code == 400
    assert served.updates == []
    logged = [r for r in caplog.records if r.name.startswith(("reportbot", "tornado"))]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("WARNING", "webhook request with a body that is not an update; answered 400")
    ]
    assert not logged[0].exc_info
