"""Delivering the outbox to Telegram, within its limits, each message once.

A `Dispatcher` (one per bot process; several may share one database) claims due notifications
from `register.outbox`, paces them (at most `overall_rate` a second, one a second per chat),
sends them and records every attempt. Telegram's answers decide what happens next:

- accepted: delivered;
- `RetryAfter`: the row goes back to the outbox until then, and every send of this worker
  pauses as long as Telegram asks (the bot's rate limiter never waits it out while the row is
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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram import Bot
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

from bot.ratelimit import NoSlotSoon, retry_seconds
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

    # Per worker. A worker sends one message at a time and stores its outcome before the next,
    # so one worker manages about one send per round trip (~17/s at 50 ms); start_delivery runs
    # DEFAULT_WORKERS of them at 7/s each: 28/s together, under Telegram's ~30. With several
    # bot processes, lower it so that all workers together stay under 30.
    overall_rate: int = 7
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
DEFAULT_RATE = 28


def split_rate(rate: int, workers: int = DEFAULT_WORKERS) -> list[int]:
    """Per-worker rates that add up to RATE a second: at most WORKERS workers, each at least 1."""
    if rate < 1:
        raise ValueError("the overall rate must be at least 1 a second")
    count = min(workers, rate)
    return [rate // count + (1 if number < rate % count else 0) for number in range(count)]


def default_worker_id() -> str:
    """A name for this worker that no other process shares: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Pacer:
    """At most RATE sends in any one second, and PER_CHAT seconds between sends to a chat."""

    def __init__(self, rate: int, per_chat: float) -> None:
        """Start with nothing sent and no pause."""
        if rate < 1:
            raise ValueError("the overall rate must be at least 1 a second")
        self.rate = rate
        self.per_chat = per_chat
        self.resume_at = float("-inf")
        # The last RATE send times: a new send must come a second after the oldest of them.
        self._recent: deque[float] = deque(maxlen=rate)
        self._chat_next: dict[int, float] = {}

    def ready_at(self, chat_id: int, now: float) -> float:
        """The earliest time a message to CHAT_ID may go (NOW or earlier: at once)."""
        ready = max(self.resume_at, self._chat_next.get(chat_id, float("-inf")))
        if len(self._recent) == self.rate:
            ready = max(ready, self._recent[0] + 1.0)
        return ready

    def sent(self, chat_id: int, at: float) -> None:
        """Count a send to CHAT_ID at AT."""
        self._recent.append(at)
        self._chat_next[chat_id] = at + self.per_chat
        if len(self._chat_next) > 4 * self.rate * max(1.0, self.per_chat) + 100:
            self._chat_next = {chat: t for chat, t in self._chat_next.items() if t > at}

    def pause(self, until: float) -> None:
        """Send nothing before UNTIL."""
        self.resume_at = max(self.resume_at, until)


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
    ) -> None:
        """Prepare a worker; nothing runs until run_once(), drain() or run_forever()."""
        self.register = register
        self.bot = bot
        self.config = config or DeliveryConfig()
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self.texts = texts or HandlerConfig()
        self.render = render or self._render
        self.pacer = Pacer(self.config.overall_rate, self.config.per_chat_interval)
        # Notifications this worker set aside because their report could not be opened.
        self.set_aside = 0
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
        """Ask the worker to stop after the message it is sending (unsent claims go back)."""
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

    async def _wait_turn(self, chat_id: int | None) -> bool:
        """Wait until the pacer lets a message go (to CHAT_ID); False if stopped meanwhile."""
        while True:
            now = self.clock.monotonic()
            ready = self.pacer.resume_at if chat_id is None else self.pacer.ready_at(chat_id, now)
            if ready <= now:
                if chat_id is not None:
                    self.pacer.sent(chat_id, now)
                return True
            if not await self._sleep(ready - now):
                return False

    def _backoff(self, attempts: int) -> float:
        return min(self.config.backoff_max, self.config.backoff_base * 2.0 ** max(0, attempts))

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many notifications were claimed."""
        if not await self._wait_turn(None):
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
        for index, item in enumerate(batch):
            if self.stopping or not await self._wait_turn(item.chat_id):
                await self.register.outbox.release(batch[index:], self.worker_id)
                break
            if self.clock.now() > item.claimed_until - timedelta(seconds=config.lease_margin):
                # Held too long (a long pause): another worker may soon take these over.
                await self.register.outbox.release(batch[index:], self.worker_id)
                break
            pause = await self._deliver(item)
            if pause is not None:
                rest = batch[index + 1 :]
                await self.register.outbox.release(rest, self.worker_id, not_before=pause)
                break
        return len(batch)

    async def _deliver(self, item: Claimed) -> datetime | None:
        """Send one notification and record the outcome; a time when all sends must wait."""
        outbox = self.register.outbox
        worker = self.worker_id
        try:
            message = await self.bot.send_message(
                item.chat_id, self.render(item), parse_mode=ParseMode.HTML, **self._limits()
            )
        except NoSlotSoon as error:
            # Nothing was sent: give the row back rather than hold it through the wait.
            self.pacer.pause(self.clock.monotonic() + error.wait)
            resume = self.clock.now() + timedelta(seconds=error.wait)
            await outbox.release([item], worker, not_before=resume)
            return resume
        except RetryAfter as error:
            seconds = retry_seconds(error)
            self.pacer.pause(self.clock.monotonic() + seconds)
            resume = self.clock.now() + timedelta(seconds=seconds)
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
            return resume
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
            # Telegram unreachable (or answering 5xx): this row backs off, and every send
            # waits a little, since the next one would most likely fail the same way.
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
            pause = min(wait, self.config.network_pause_max)
            self.pacer.pause(self.clock.monotonic() + pause)
            return self.clock.now() + timedelta(seconds=pause)
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
        return None

    def _limits(self) -> dict[str, Any]:
        """What the bot's rate limiter may do with a send while this worker holds its claim."""
        if not isinstance(self.bot, ExtBot) or self.bot.rate_limiter is None:
            return {}
        # Never wait out a RetryAfter inside the send (the claim could run out meanwhile):
        # _deliver gives the row back instead.
        return {"rate_limit_args": {"max_wait": self.config.send_wait, "max_retries": 0}}

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

    With RATE (DELIVERY_RATE_PER_SECOND), up to WORKERS workers share it; otherwise WORKERS
    workers each at CONFIG's rate.
    """
    texts = application.bot_data.get("config")
    base = config or DeliveryConfig()
    if rate is not None:
        configs = [replace(base, overall_rate=share) for share in split_rate(rate, workers)]
    else:
        configs = [base] * workers
    running = []
    for number, worker_config in enumerate(configs):
        dispatcher = Dispatcher(
            application.bot_data["register"],
            application.bot,
            config=worker_config,
            clock=clock,
            texts=texts if isinstance(texts, HandlerConfig) else None,
        )
        task = asyncio.create_task(dispatcher.run_forever(), name=f"outbox-delivery-{number}")
        running.append((dispatcher, task))
        log.info("delivery started", extra={"worker": dispatcher.worker_id})
    application.bot_data[DELIVERY_KEY] = running
    return [dispatcher for dispatcher, _ in running]


async def stop_delivery(application: Application) -> None:
    """Stop the background workers, each after its message in flight (from post_stop)."""
    entry = application.bot_data.pop(DELIVERY_KEY, None)
    if entry is None:
        return
    for dispatcher, _ in entry:
        dispatcher.stop()
    await asyncio.gather(*(task for _, task in entry))
