"""Delivering the outbox to Telegram, within its limits, each message once.

A `Dispatcher` (a few per bot process; several processes may share one database) claims due
notifications from `register.outbox`, sends a batch's messages at once, each waiting for its
slot in the process's one rate limiter (`bot.ratelimit.PacedRateLimiter`: at most the rate in
any second as Telegram counts it, one a second per chat, 20 a minute per group), and records
every attempt. Telegram's answers decide what happens next:

- accepted: delivered;
- `RetryAfter`: the row goes back to the outbox until then, and every new message of the
  process pauses as long as Telegram asks (the rate limiter never waits it out while the row is
  held: a claim must outlive every wait it makes, or another worker sends the row too);
- `Forbidden` (bot blocked, user deactivated) or "chat not found": failed, the chat's
  subscriptions end, nothing more is tried for that chat;
- other `BadRequest`: failed with the reason;
- network errors and anything else: retried later with exponential backoff.

Time comes from a `Clock`, so tests run hours of deliveries in milliseconds. See docs/delivery.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ExtBot

from bot.ratelimit import NoSlotSoon, PacedRateLimiter, Withdrawn, retry_seconds
from handlers.context import HandlerConfig
from handlers.followup.notifications import render_notification
from models.register import Register
from models.services.outbox import Claimed
from models.storage.columns import utcnow

log = logging.getLogger("reportbot.delivery")

DELIVERY_KEY = "delivery"
CHAT_GONE = ("chat not found", "user is deactivated", "bot was blocked")


class Clock(Protocol):
    """Where the dispatcher gets its time from (the real one, or a test's)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for pacing."""
        ...

    def now(self) -> datetime:
        """The current wall-clock time (aware, UTC), for the outbox's timestamps."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait SECONDS."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current time in UTC."""
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep()."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """The dispatcher's limits and timings (seconds)."""

    # New messages a second, for the rate limiter the dispatcher makes when its bot has none
    # (start_delivery makes one for all the process's workers: DELIVERY_RATE_PER_SECOND). When
    # the bot has a PacedRateLimiter, that limiter paces every message, replies and
    # notifications together, at the rate it was built with.
    overall_rate: int = 30
    per_chat_interval: float = 1.0
    batch_size: int | None = None  # default: overall_rate, about a second's worth
    lease: float = 120.0
    # A row is only sent while its lease has this long left: longer than any one send takes
    # (max_send_wait in the rate limiter, then the HTTP call's own timeouts, about 16 s).
    lease_margin: float = 60.0
    # The longest a send may wait for its slot in the bot's rate limiter; beyond that the row
    # goes back to the outbox instead. Must stay well under lease_margin (default: half of it).
    max_send_wait: float | None = None
    poll_interval: float = 1.0
    backoff_base: float = 2.0
    backoff_max: float = 900.0
    # After a network error, every send of this worker waits at most this long.
    network_pause_max: float = 30.0

    def __post_init__(self) -> None:
        """Refuse timings under which a claim could run out during a send."""
        if not 0 <= self.send_wait < self.lease_margin < self.lease:
            raise ValueError("need 0 <= max_send_wait < lease_margin < lease")

    @property
    def send_wait(self) -> float:
        """The longest a send may wait in the rate limiter (seconds)."""
        return self.lease_margin / 2 if self.max_send_wait is None else self.max_send_wait

    @property
    def claim_size(self) -> int:
        """How many notifications one claim takes."""
        return self.batch_size or self.overall_rate


DEFAULT_WORKERS = 4


def default_worker_id() -> str:
    """A name for this worker that no other process shares: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def limiter_of(bot: Bot) -> PacedRateLimiter | None:
    """BOT's own rate limiter, if it is the one that paces new messages (as `reportbot run`'s)."""
    if isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, PacedRateLimiter):
        return bot.rate_limiter
    return None


class Dispatcher:
    """Drains the outbox of one register through one bot."""

    def __init__(
        self,
        register: Register,
        bot: Bot,
        *,
        config: DeliveryConfig | None = None,
        clock: Clock | None = None,
        worker_id: str | None = None,
        render: Callable[[Claimed], str] | None = None,
        texts: HandlerConfig | None = None,
        limiter: PacedRateLimiter | None = None,
    ) -> None:
        """Prepare a worker; nothing runs until run_once(), drain() or run_forever().

        Its messages are paced by BOT's own PacedRateLimiter if it has one (as in `reportbot
        run`), else by LIMITER (start_delivery shares one among the process's workers), else by
        a limiter of its own at CONFIG's rate.
        """
        self.register = register
        self.bot = bot
        self.config = config or DeliveryConfig()
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self.texts = texts or HandlerConfig()
        self.render = render or self._render
        own = limiter_of(bot)
        # The bot whose own limiter paces each message (None: this dispatcher paces them).
        self._paced_bot = bot if own is not None and isinstance(bot, ExtBot) else None
        self.limiter = (
            own
            or limiter
            or PacedRateLimiter(
                self.config.overall_rate,
                self.config.per_chat_interval,
                clock=self.clock.monotonic,
                sleep=self.clock.sleep,
            )
        )
        # After a RetryAfter or a network error: no claim, and no request, before this time.
        self.resume_at = float("-inf")
        # Notifications this worker set aside because their report could not be opened.
        self.set_aside = 0
        # Claimed notifications still waiting for their slot (no request made yet).
        self._waiting: set[int] = set()
        self._stopping = asyncio.Event()

    def _render(self, item: Claimed) -> str:
        return render_notification(
            item.kind,
            item.reference,
            item.language,
            self.texts,
            make=item.make,
            platform=item.platform,
            alert_params=item.params,
        )

    def stop(self) -> None:
        """Ask the worker to stop after the messages it is sending (unsent claims go back)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self._stopping.is_set()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early if stopped; False if stopped."""
        if self.stopping:
            return False
        if seconds <= 0:
            return True
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
            await asyncio.gather(sleeper, stopper, return_exceptions=True)
        return not self.stopping

    def _pause(self, seconds: float) -> datetime:
        """Claim and send nothing for SECONDS; the wall-clock time that ends the pause."""
        self.resume_at = max(self.resume_at, self.clock.monotonic() + seconds)
        return self.clock.now() + timedelta(seconds=seconds)

    def _backoff(self, attempts: int) -> float:
        return min(self.config.backoff_max, self.config.backoff_base * 2.0 ** max(0, attempts))

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many notifications were claimed."""
        if not await self._sleep(self.resume_at - self.clock.monotonic()):
            return 0
        config = self.config
        batch = await self.register.outbox.claim(
            self.worker_id,
            self.clock.now(),
            limit=config.claim_size,
            lease=timedelta(seconds=config.lease),
            per_chat_interval=timedelta(seconds=config.per_chat_interval),
        )
        for aside in getattr(batch, "set_aside", ()):
            # Ids and the key id only: the reason never holds what the report says.
            self.set_aside += 1
            log.error(
                "notification set aside as unreadable; the others go on",
                extra={"notification": aside.id, "report": aside.report_id, "reason": aside.reason},
            )
        if batch:
            await self._send_all(list(batch))
        return len(batch)

    async def _send_all(self, batch: list[Claimed]) -> None:
        """Send BATCH at once, each message in its slot; on stop, those still waiting go back."""
        # One notification per chat in a batch (the claim sees to it), so no chat's order is at
        # stake; the rate limiter hands out the slots in the order the sends ask for them.
        tasks: dict[asyncio.Future[Any], Claimed] = {
            asyncio.create_task(self._deliver(item)): item for item in batch
        }
        stopper: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        pending: set[asyncio.Future[Any]] = set(tasks)
        try:
            while pending and not stopper.done():
                _, pending = await asyncio.wait(
                    pending | {stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(stopper)
            # Stopping: the sends whose request has started finish; the others are withdrawn.
            for task in pending:
                if tasks[task].id in self._waiting:
                    task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        except BaseException:
            # Cancelled from outside (a stop's deadline passed): the sends go with it; their
            # claims go back to the outbox when they run out.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            stopper.cancel()
            await asyncio.gather(stopper, return_exceptions=True)
        withdrawn = [item for task, item in tasks.items() if task.cancelled()]
        await self.register.outbox.release(withdrawn, self.worker_id)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    def _still_wanted(self, item: Claimed) -> bool:
        """Whether ITEM may go now that its slot has come (asked just before its request)."""
        if self.stopping or self.clock.monotonic() < self.resume_at:
            return False
        if self.clock.now() > item.claimed_until - timedelta(seconds=self.config.lease_margin):
            # Held too long (a long pause): another worker may soon take it over.
            return False
        self._waiting.discard(item.id)
        return True

    async def _send(self, item: Claimed) -> Message:
        """Send ITEM's message in its slot, or raise NoSlotSoon, Withdrawn or Telegram's error."""
        # Never wait out a RetryAfter inside the send (the claim could run out meanwhile):
        # _deliver gives the row back instead.
        limits: dict[str, Any] = {
            "max_wait": self.config.send_wait,
            "max_retries": 0,
            "still_wanted": lambda: self._still_wanted(item),
        }
        text = self.render(item)
        self._waiting.add(item.id)
        try:
            if self._paced_bot is not None:
                return await self._paced_bot.send_message(
                    item.chat_id, text, parse_mode=ParseMode.HTML, rate_limit_args=limits
                )
            return await self.limiter.send(
                lambda: self.bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML),
                item.chat_id,
                **limits,
            )
        finally:
            self._waiting.discard(item.id)

    async def _deliver(self, item: Claimed) -> None:
        """Send one notification and record the outcome."""
        outbox = self.register.outbox
        worker = self.worker_id
        try:
            message = await self._send(item)
        except Withdrawn:
            # Nothing was sent: stopping, paused, or the claim ran short.
            resume = None
            if self.clock.monotonic() < self.resume_at:
                resume = self.clock.now() + timedelta(
                    seconds=self.resume_at - self.clock.monotonic()
                )
            await outbox.release([item], worker, not_before=resume)
        except NoSlotSoon as error:
            # Nothing was sent: give the row back rather than hold it through the wait.
            resume = self.clock.now() + timedelta(seconds=error.wait)
            await outbox.release([item], worker, not_before=resume)
        except RetryAfter as error:
            seconds = retry_seconds(error)
            resume = self._pause(seconds)
            log.warning("telegram asks to wait %.0f s; all sends pause", seconds)
            await outbox.retry(
                item,
                worker,
                at=self.clock.now(),
                not_before=resume,
                outcome="retry_after",
                detail=str(error),
                counts=False,
            )
        except Forbidden as error:
            await self._end_chat(item, "forbidden", error, "the chat blocked the bot or is gone")
        except ChatMigrated as error:
            await self._end_chat(item, "chat_migrated", error, "the chat moved")
        except BadRequest as error:
            if any(phrase in error.message.lower() for phrase in CHAT_GONE):
                await self._end_chat(item, "bad_request", error, "chat not found")
            else:
                log.error("telegram refused notification %s: %s", item.id, error.message)
                await outbox.fail(
                    item, worker, at=self.clock.now(), outcome="bad_request", detail=error.message
                )
        except (NetworkError, InvalidToken) as error:
            # Telegram unreachable (or answering 5xx): this row backs off, and every send of
            # this worker waits a little, since the next one would most likely fail the same way.
            wait = self._backoff(item.attempts)
            # After a timeout Telegram may have accepted the message: see docs/delivery.md.
            kind = "timed_out" if isinstance(error, TimedOut) else "network_error"
            log.warning("network error sending notification %s: %s", item.id, error)
            await outbox.retry(
                item,
                worker,
                at=self.clock.now(),
                not_before=self.clock.now() + timedelta(seconds=wait),
                outcome=kind,
                detail=f"{type(error).__name__}: {error}",
            )
            self._pause(min(wait, self.config.network_pause_max))
        except Exception as error:
            log.exception("sending notification %s failed", item.id)
            await outbox.retry(
                item,
                worker,
                at=self.clock.now(),
                not_before=self.clock.now() + timedelta(seconds=self._backoff(item.attempts)),
                outcome="error",
                detail=f"{type(error).__name__}: {error}",
            )
        else:
            owned = await outbox.delivered(
                item, worker, at=self.clock.now(), message_id=message.message_id
            )
            if not owned:
                log.warning("notification %s was sent after its claim ran out", item.id)

    async def _end_chat(
        self, item: Claimed, outcome: str, error: TelegramError, reason: str
    ) -> None:
        log.info("chat of notification %s is gone (%s); its subscriptions end", item.id, outcome)
        await self.register.outbox.fail(
            item,
            self.worker_id,
            at=self.clock.now(),
            outcome=outcome,
            detail=error.message,
            end_chat=reason,
        )

    async def drain(self, *, horizon: timedelta = timedelta(hours=1)) -> None:
        """Deliver until nothing unfinished falls due within HORIZON (the clock moves on)."""
        idle_since: datetime | None = None
        step = max(0.05, self.config.per_chat_interval / 4)
        while not self.stopping:
            if await self.run_once():
                idle_since = None
                continue
            now = self.clock.now()
            pending, leased = await self.register.outbox.next_times()
            soonest = min((t for t in (pending, leased) if t is not None), default=None)
            if soonest is None or soonest > now + horizon:
                return
            idle_since = idle_since or now
            if now - idle_since > horizon:
                raise RuntimeError("notifications are due but none could be claimed")
            if leased is not None or pending is None or pending <= now:
                # Another worker is sending, or a chat's pacing holds rows back: step on
                # (never leap to a lease's end: that worker is still busy).
                await self._sleep(step)
            else:
                await self._sleep((pending - now).total_seconds())

    async def run_forever(self) -> None:
        """Deliver until stop(); a failure (database down) is logged and retried."""
        failures = 0
        while not self.stopping:
            try:
                claimed = await self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("delivery round failed; retrying")
                await self._sleep(self._backoff(failures - 1))
                continue
            if not claimed:
                await self._sleep(self.config.poll_interval)


async def start_delivery(
    application: Application,
    config: DeliveryConfig | None = None,
    *,
    clock: Clock | None = None,
    workers: int = DEFAULT_WORKERS,
    rate: int | None = None,
) -> list[Dispatcher]:
    """Start outbox workers in the background (from post_init); stop_delivery ends them.

    The WORKERS share one rate limiter: the bot's own if it paces new messages (as in
    `reportbot run`, at DELIVERY_RATE_PER_SECOND), else one made for them at RATE (default:
    CONFIG's rate) a second.
    """
    texts = application.bot_data.get("config")
    base = config or DeliveryConfig()
    if rate is not None:
        base = replace(base, overall_rate=rate)
    shared = limiter_of(application.bot)
    if shared is None:
        clock_ = clock or SystemClock()
        shared = PacedRateLimiter(
            base.overall_rate, base.per_chat_interval, clock=clock_.monotonic, sleep=clock_.sleep
        )
    running = []
    for number in range(workers):
        dispatcher = Dispatcher(
            application.bot_data["register"],
            application.bot,
            config=base,
            clock=clock,
            texts=texts if isinstance(texts, HandlerConfig) else None,
            limiter=shared,
        )
        task = asyncio.create_task(dispatcher.run_forever(), name=f"outbox-delivery-{number}")
        running.append((dispatcher, task))
        log.info("delivery started", extra={"worker": dispatcher.worker_id})
    application.bot_data[DELIVERY_KEY] = running
    return [dispatcher for dispatcher, _ in running]


async def stop_delivery(application: Application) -> None:
    """Stop the background workers, each after its messages in flight (from post_stop)."""
    entry = application.bot_data.pop(DELIVERY_KEY, None)
    if entry is None:
        return
    for dispatcher, _ in entry:
        dispatcher.stop()
    await asyncio.gather(*(task for _, task in entry))
