"""The Telegram side of an in-process benchmark on a thread of its own.

`TelegramThread` runs the Telegram side (the fake Bot API of tests/botapi.py, with Telegram's
limits and latency, and the simulated people) on a thread of its own with its own event loop, and
`RemoteRequest` is the bot's request class that carries each call there and back, as a socket
would: the bot's event loop then runs only the bot, and the Telegram side's CPU time is that
thread's, measured exactly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from telegram.request import RequestData

from bot.local_api import InProcessRequest
from tests.botapi import LimitedBotApi

T = TypeVar("T")


class TelegramThread:
    """The Telegram side on its own thread and event loop; its CPU time is measured apart."""

    def __init__(self) -> None:
        """Prepare the loop; start() runs it."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="telegram-side", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> TelegramThread:
        """Start the thread."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the loop and the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    def cpu_s(self) -> float:
        """CPU time the thread has used so far."""
        assert self._thread.ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(self._thread.ident))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run COROUTINE on the Telegram side."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)


class RemoteRequest(InProcessRequest):
    """The bot's request class: each call goes to the API on the Telegram thread and back."""

    def __init__(self, api: LimitedBotApi, side: TelegramThread) -> None:
        """Talk to API, served on SIDE."""
        self.api = api
        self.side = side

    async def answer(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        """Hand the call to the Telegram thread and wait for its answer."""
        answer = self.side.run(self.api.answer(url, method, request_data))
        return await asyncio.wrap_future(answer)
