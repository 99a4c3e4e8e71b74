"""Helpers for the follow-up and delivery tests: a controllable clock, a recording Bot API hook,
reports made in bulk, and a dispatcher wired to the local Bot API."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from bot.delivery import DeliveryConfig, Dispatcher
from bot.local_api import ApiCall, ApiError
from models.register import Register
from models.services.reports import FiledReport, report_context
from models.storage.tables import Notification, Report, StatusChange, Subscription
from models.values.reference import Reference
from models.values.statuses import Status
from tests.factories import new_report

_numbers = itertools.count(1)


class FakeClock:
    """Time that moves only when someone sleeps: hours of delivery run in milliseconds."""

    def __init__(self, start: datetime | None = None) -> None:
        """Start at START (default: now, so rows the database stamps are already due)."""
        self.start = start or datetime.now(UTC)
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Seconds since the start."""
        return self.elapsed

    def now(self) -> datetime:
        """The wall-clock time it is on this clock."""
        return self.start + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        """Move time on at once (and let other tasks run)."""
        self.sleeps.append(seconds)
        self.elapsed += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move time on without sleeping."""
        self.elapsed += seconds


class LockstepClock(FakeClock):
    """Virtual time for WORKERS concurrent tasks: each sleeper wakes exactly at its deadline,
    earliest first, and time moves only while every worker sleeps (none is mid-way through
    something, such as a database write). So what happens during another worker's long wait
    happens in order, by construction, whatever the machine's load."""

    def __init__(self, workers: int, start: datetime | None = None) -> None:
        """Expect WORKERS tasks to share this clock; call leave() as each one ends."""
        super().__init__(start)
        self.workers = workers
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock reaches now + SECONDS."""
        self.sleeps.append(seconds)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self.elapsed + max(0.0, seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._order), woken))
        self._advance()
        try:
            await woken
        finally:
            if not woken.done():  # cancelled: this task runs on without us
                woken.cancel()
                self._advance()

    def leave(self) -> None:
        """One worker has finished: the others no longer wait for it."""
        self.workers -= 1
        self._advance()

    def _advance(self) -> None:
        self._sleepers = [entry for entry in self._sleepers if not entry[2].done()]
        heapq.heapify(self._sleepers)
        if self._sleepers and len(self._sleepers) >= self.workers:
            deadline, _, woken = heapq.heappop(self._sleepers)
            self.elapsed = max(self.elapsed, deadline)
            woken.set_result(None)


@dataclass
class Sent:
    """A sendMessage that Telegram (the local API) accepted."""

    at: float
    chat_id: int
    text: str


Failure = ApiError | Exception


@dataclass
class TelegramScript:
    """The local Bot API's hook: records accepted sends with the fake time, fails on cue.

    `fail_next` holds errors for the next sendMessage calls (in order); `fail_chat` holds errors
    for sends to one chat (each used once, or forever with `blocked`).
    """

    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    attempts: int = 0
    fail_next: list[Failure] = field(default_factory=list)
    fail_chat: dict[int, list[Failure]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    fail_when: Callable[[int, int], Failure | None] | None = None
    refused: list[tuple[float, int, Failure]] = field(default_factory=list)

    def __call__(self, call: ApiCall) -> None:
        """See each call first; raise to make Telegram refuse it."""
        if call.method != "sendMessage":
            return
        self.attempts += 1
        chat_id = int(call.params["chat_id"])
        error: Failure | None = None
        if chat_id in self.blocked:
            error = ApiError(403, "Forbidden: bot was blocked by the user")
        elif self.fail_next:
            error = self.fail_next.pop(0)
        elif self.fail_chat.get(chat_id):
            error = self.fail_chat[chat_id].pop(0)
        elif self.fail_when is not None:
            error = self.fail_when(self.attempts, chat_id)
        if error is not None:
            self.refused.append((self.clock.monotonic(), chat_id, error))
            raise error
        self.sent.append(Sent(self.clock.monotonic(), chat_id, str(call.params["text"])))

    def sent_keys(self) -> list[tuple[int, str]]:
        """(chat, text) of every accepted send: a duplicate appears twice."""
        return [(item.chat_id, item.text) for item in self.sent]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most sends in any half-open window [t, t + WINDOW) that starts at a send."""
    ordered = sorted(times)
    best = 0
    end = 0
    for start_index, start in enumerate(ordered):
        while end < len(ordered) and ordered[end] < start + window - 1e-9:
            end += 1
        best = max(best, end - start_index)
    return best


def min_chat_gap(sent: list[Sent]) -> float:
    """The shortest time between two sends to the same chat (inf if no chat got two)."""
    last: dict[int, float] = {}
    gap = float("inf")
    for item in sorted(sent, key=lambda s: s.at):
        if item.chat_id in last:
            gap = min(gap, item.at - last[item.chat_id])
        last[item.chat_id] = item.at
    return gap


def dispatcher(
    register: Register,
    application,
    clock: FakeClock,
    *,
    worker_id: str = "worker-1",
    **config: float,
) -> Dispatcher:
    """A single dispatcher that sends through APPLICATION's bot on CLOCK (25 a second)."""
    config.setdefault("overall_rate", 25)
    return Dispatcher(
        register,
        application.bot,
        config=DeliveryConfig(**config),  # type: ignore[arg-type]
        clock=clock,
        worker_id=worker_id,
    )


async def file_report(register: Register, **overrides) -> FiledReport:
    """File one report through the register, as the conversation does."""
    return await register.reports.file(new_report(**overrides), f"test-{uuid.uuid4().hex}")


@dataclass(frozen=True, slots=True)
class Made:
    """A report made by `many_reports`, with the chat that follows it."""

    id: int
    reference: str
    chat_id: int


async def many_reports(
    register: Register,
    chats: list[int],
    *,
    created_at: datetime | None = None,
    status: Status = Status.SUBMITTED,
) -> list[Made]:
    """One report per entry of CHATS (subscribed to it), made in one transaction."""
    created_at = created_at or datetime.now(UTC)
    vault = register.vault
    rows = []
    references = []
    unique: set[str] = set()
    while len(unique) < len(chats):
        unique.add(str(Reference.generate()))
    for reference in sorted(unique):
        references.append(reference)
        private = {"model": "iPhone 13", "imeis": [], "language": "en"}
        rows.append(
            {
                "reference": reference,
                "idempotency_key": f"bulk-{next(_numbers)}-{uuid.uuid4().hex[:12]}",
                "status": status.value,
                "created_at": created_at,
                "status_changed_at": created_at,
                "make": "apple",
                "platform": "iphone",
                "imei_count": 0,
                "own_account": True,
                # Never verified: these reports are followed by their own account only.
                "access_code_hash": "0" * 32,
                "sealed": vault.seal_json(private, context=report_context(reference)),
            }
        )
    async with register.db.write() as session:
        await session.execute(insert(Report), rows)
        found = dict(
            (
                await session.execute(
                    select(Report.reference, Report.id).where(Report.reference.in_(references))
                )
            ).all()
        )
        await session.execute(
            insert(StatusChange),
            [
                {
                    "report_id": found[ref],
                    "status": status.value,
                    "changed_at": created_at,
                    "actor": "victim",
                }
                for ref in references
            ],
        )
        await session.execute(
            insert(Subscription),
            [
                {
                    "report_id": found[ref],
                    "chat_id": chat,
                    "via": "own_account",
                    "active": True,
                    "created_at": created_at,
                }
                for ref, chat in zip(references, chats, strict=True)
            ],
        )
    return [Made(found[ref], ref, chat) for ref, chat in zip(references, chats, strict=True)]


async def recover_all(register: Register, made: list[Made]) -> int:
    """Move every report to recovered in ONE transaction, as bulk recovery does."""
    async with register.db.write() as session:
        reports = list(
            (
                await session.execute(select(Report).where(Report.id.in_([m.id for m in made])))
            ).scalars()
        )
        return await register.reports.apply_status_many(
            session, reports, Status.RECOVERED, actor="test"
        )


async def notifications(register: Register) -> list[Notification]:
    """Every outbox row, by id."""
    async with register.db.read() as session:
        return list(
            (await session.execute(select(Notification).order_by(Notification.id))).scalars()
        )
