"""Long polling that confirms to Telegram only the updates whose processing has finished.

Telegram forgets every update below the `offset` of a `getUpdates` call. PTB's Updater sends
last fetched id + 1 as soon as the updates are queued, so a crash loses the ones fetched but
not yet processed. `Poller` sends the lowest id still in flight instead (or last seen + 1 when
nothing is): after a crash Telegram hands the unfinished updates over again, and the ones whose
effect was already stored are skipped by the update processor (`processed_update`).

Updates are handed to the application's update processor as soon as they are fetched (one task
each, in Telegram's order), so per-chat order and cross-chat concurrency are the processor's,
and a slow chat does not hold back fetching. While updates are in flight Telegram returns them
again on every call; those are recognised and skipped, and unless the call came back full (LIMIT
updates: more may be waiting), the next call waits until one of them finishes and the offset
moves (or after STALLED_POLL_SECONDS, so that other chats' new updates still come in while one
chat's update takes long).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

from bot.processing import UpdateDeferred, finish_in_flight
from bot.ratelimit import retry_seconds

log = logging.getLogger("reportbot.polling")

POLL_TIMEOUT_SECONDS = 10
POLL_LIMIT = 100
# While only updates in flight come back, poll again when the offset moves, or after this long.
STALLED_POLL_SECONDS = 0.25
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
# The last getUpdates of a stop, which confirms what was processed, waits no longer than this.
CONFIRM_TIMEOUT_SECONDS = 2.0

Processor = Callable[[Update], Awaitable[Any]]


def application_processor(application: Application) -> Processor:
    """Process an update the way the Application would: through its update processor."""

    def process(update: Update) -> Awaitable[Any]:
        return application.update_processor.process_update(
            update, application.process_update(update)
        )

    return process


class Poller:
    """Fetches updates with `getUpdates` and confirms only those whose processing finished."""

    def __init__(
        self,
        bot: Bot,
        process: Processor,
        *,
        timeout: int = POLL_TIMEOUT_SECONDS,
        limit: int = POLL_LIMIT,
        allowed_updates: Sequence[str] | None = Update.ALL_TYPES,
        stalled_poll: float = STALLED_POLL_SECONDS,
        backoff: Sequence[float] = BACKOFF_SECONDS,
    ) -> None:
        """Poll BOT, handing each new update to PROCESS (awaited in a task of its own)."""
        self.bot = bot
        self.process = process
        self.timeout = timeout
        self.limit = limit
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.stalled_poll = stalled_poll
        self.backoff = tuple(backoff)
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        # Updates handed back unprocessed while stopping: never confirmed, Telegram keeps them.
        self.unfinished: set[int] = set()
        self.last_seen: int | None = None
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = False

    # -- the offset ----------------------------------------------------------------------------

    @property
    def offset(self) -> int | None:
        """What the next getUpdates confirms below: the oldest unfinished update, or the next."""
        if self.in_flight or self.unfinished:
            return min(self.unfinished.union(self.in_flight))
        if self.last_seen is None:
            return None
        return self.last_seen + 1

    def _known(self, update_id: int) -> bool:
        # Telegram's ids only grow: one not above the newest seen was taken by this process
        # (it is in flight, or finished and Telegram has not been told yet).
        return update_id in self.in_flight or (
            self.last_seen is not None and update_id <= self.last_seen
        )

    # -- running -------------------------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The polling loop's task, once started."""
        return self._task

    async def start(self) -> asyncio.Task[None]:
        """Remove any webhook (keeping its pending updates), then poll in a task; returns it."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        # `_fetch` asks for getUpdates' raw answer on purpose; PTB would suggest Bot.get_updates
        # on every call. Silenced here rather than on import, so that it also holds where the
        # filters are reset after imports (pytest does so around each test).
        warnings.filterwarnings("ignore", r"Please use 'Bot\.getUpdates'", PTBUserWarning)
        self._stopping = self._stopped = False
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="reportbot-poller")
        return self._task

    async def stop(self, deadline: float | None = None) -> int:
        """Stop fetching, let the updates in flight finish, then confirm them to Telegram.

        Updates still running at DEADLINE (loop time) are cancelled and not confirmed, so
        Telegram hands them over again. Returns how many were cancelled.
        """
        if self._stopped:
            return 0
        self._stopped = self._stopping = True
        if self._task is not None:
            # The loop awaits only Telegram and waits: cancelling it drops a fetch whose
            # updates were not handed over yet, and Telegram will send those again.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        cancelled = await finish_in_flight(self.in_flight, deadline)
        await self._confirm()
        return cancelled

    async def _confirm(self) -> None:
        offset = self.offset
        if offset is None:
            return
        try:
            # Whatever this returns (limit 1, no waiting) is not processed: Telegram keeps it.
            await asyncio.wait_for(
                self.bot.get_updates(
                    offset=offset, limit=1, timeout=0, allowed_updates=self.allowed_updates
                ),
                CONFIRM_TIMEOUT_SECONDS,
            )
        except (TelegramError, TimeoutError) as exc:
            log.warning(
                "could not confirm the last updates to Telegram; they will be handed over "
                "again at the next start and skipped: %s",
                exc or f"no answer within {CONFIRM_TIMEOUT_SECONDS:g} s",
            )
        else:
            log.info("confirmed every processed update", extra={"offset": offset})

    async def _poll(self) -> None:
        failures = 0
        while not self._stopping:
            offset = self.offset
            try:
                updates, full = await self._fetch(offset, 0 if self.in_flight else self.timeout)
            except InvalidToken:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except Conflict as exc:
                log.error(
                    "Telegram refused getUpdates (409 Conflict): another process is polling "
                    "this bot token, or a webhook is set; retrying: %s",
                    exc,
                )
                failures += 1
                await asyncio.sleep(self._pause(failures))
                continue
            except NetworkError as exc:  # TimedOut included
                failures += 1
                pause = self._pause(failures)
                log.warning("getUpdates failed (%s); retrying in %g s", exc, pause)
                await asyncio.sleep(pause)
                continue
            except TelegramError as exc:
                failures += 1
                pause = self._pause(failures)
                log.error("getUpdates failed: %s; retrying in %g s", exc, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            started = self._dispatch(updates)
            if not self.in_flight or (started and full):
                continue
            # Telegram returns everything from the offset, so while updates are in flight
            # every answer repeats them: after one that held no new update, or held new ones
            # but not as many as it could (nothing more was waiting), poll again once the
            # offset can move, or after a short while for new updates of other chats, instead
            # of at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._offset_moved(offset), self.stalled_poll)

    async def _fetch(self, offset: int | None, wait_seconds: int) -> tuple[Sequence[Update], bool]:
        """The updates from OFFSET not taken yet, and whether the answer was full (LIMIT updates:
        more may be waiting). Objects are built only for the updates not taken yet.

        While updates are in flight every call returns them again (up to LIMIT); parsing each
        into python-telegram-bot's objects only to skip it was a fifth of the bot's CPU.
        """
        raw = await self.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": offset,
                "limit": self.limit,
                "timeout": wait_seconds,
                "allowed_updates": self.allowed_updates,
            },
            read_timeout=(self.bot.request.read_timeout or 0) + wait_seconds,
        )
        fresh = [data for data in raw or () if not self._known(data["update_id"])]
        updates = Update.de_list(fresh, self.bot)
        if isinstance(self.bot, ExtBot):
            for update in updates:
                self.bot.insert_callback_data(update)
        return updates, len(raw or ()) >= self.limit

    async def _offset_moved(self, offset: int | None) -> None:
        while self.offset == offset:
            self._progress.clear()
            await self._progress.wait()

    def _pause(self, failures: int) -> float:
        return self.backoff[min(failures, len(self.backoff)) - 1]

    def _dispatch(self, updates: Sequence[Update]) -> int:
        """Start processing the new ones among UPDATES, in order; returns how many."""
        started = 0
        for update in updates:
            update_id = update.update_id
            if self._known(update_id):
                continue
            if self.last_seen is None or update_id > self.last_seen:
                self.last_seen = update_id
            self.in_flight[update_id] = asyncio.get_running_loop().create_task(
                self._run(update), name=f"reportbot-update-{update_id}"
            )
            started += 1
        return started

    async def _run(self, update: Update) -> None:
        try:
            await self.process(update)
        except UpdateDeferred:
            self.unfinished.add(update.update_id)
        except asyncio.CancelledError:
            self.unfinished.add(update.update_id)
            raise
        except Exception:
            log.exception("processing an update failed", extra={"update_id": update.update_id})
        finally:
            self.in_flight.pop(update.update_id, None)
            self._progress.set()
