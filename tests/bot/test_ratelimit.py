"""Pacing new messages within Telegram's limits, on a fake clock."""

import asyncio
import itertools

import pytest
from telegram.error import RetryAfter

from bot.app import default_rate_limiter
from bot.ratelimit import NoSlotSoon, PacedRateLimiter, Withdrawn
from bot.settings import load_settings
from tests.followup_fixtures import max_in_window


class Clock:
    """A clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(clock: Clock, **kwargs) -> PacedRateLimiter:
    return PacedRateLimiter(
        overall_rate=10, chat_interval=1.0, clock=clock, sleep=clock.sleep, **kwargs
    )


async def send(limiter_: PacedRateLimiter, clock: Clock, endpoint: str, chat_id: int, sent: list):
    async def call():
        sent.append((endpoint, chat_id, clock.now))
        return True

    return await limiter_.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)


async def test_messages_to_one_chat_are_a_second_apart():
    clock, sent = Clock(), []
    paced = limiter(clock)
    for _ in range(3):
        await send(paced, clock, "sendMessage", 7, sent)
    times = [at for _, _, at in sent]
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [1.0, 1.0]


async def test_different_chats_only_wait_for_the_overall_spacing():
    clock, sent = Clock(), []
    paced = limiter(clock)
    for chat in (1, 2, 3):
        await send(paced, clock, "sendMessage", chat, sent)
    times = [at for _, _, at in sent]
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.1, 0.1]


async def test_edits_and_callback_answers_are_not_delayed():
    clock, sent = Clock(), []
    paced = limiter(clock)
    await send(paced, clock, "sendMessage", 7, sent)
    await send(paced, clock, "editMessageText", 7, sent)
    await send(paced, clock, "answerCallbackQuery", 7, sent)
    assert clock.sleeps == []


async def test_retry_after_waits_as_asked_then_sends():
    clock, tries = Clock(), []
    paced = limiter(clock)

    async def refused_once():
        tries.append(clock.now)
        if len(tries) == 1:
            raise RetryAfter(3)
        return True

    assert await paced.process_request(refused_once, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert tries == [100.0, 103.0]
    # The pause holds for every chat, not only the refused one.
    sent = []
    clock.now = 101.0
    paced._paused_until = 104.0
    await send(paced, clock, "sendMessage", 2, sent)
    assert sent[0][2] >= 104.0


async def test_retry_after_is_raised_when_telegram_keeps_refusing():
    clock = Clock()
    paced = limiter(clock, max_retries=2)

    async def always_refused():
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await paced.process_request(always_refused, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert clock.sleeps.count(1.0) == 2


async def test_quiet_chats_are_forgotten():
    clock, sent = Clock(), []
    paced = limiter(clock)
    for chat in range(50):
        await send(paced, clock, "sendMessage", chat, sent)
    clock.now += 1000
    await send(paced, clock, "sendMessage", 999, sent)
    assert set(paced._next_for_chat) == {999}


async def test_slots_that_fire_together_after_a_stall_still_keep_the_window():
    clock, sent = Clock(), []
    paced = limiter(clock)
    # Ten messages were answered in the last half second (their booked slots fired together
    # after the event loop stalled): the next ones must wait until the window has room again.
    earlier = [clock.now - 0.5 + n * 0.01 for n in range(10)]
    paced._overall.free_at.extend(at + 1.0 for at in earlier)
    for chat in range(5):
        await send(paced, clock, "sendMessage", chat, sent)
    everything = sorted([*earlier, *(at for _, _, at in sent)])
    assert len(everything) == 15
    assert max_in_window(everything) <= 10
    assert sent[0][2] >= earlier[0] + 1.0 - 1e-9


async def test_a_message_held_by_the_window_delays_the_chats_next_one():
    clock, sent = Clock(), []
    paced = limiter(clock)
    # The window is full for the next 0.75 s, so chat 7's first message goes late; its second
    # must still be a full second after the first really went.
    paced._overall.free_at.extend(clock.now + 0.75 + n * 0.001 for n in range(10))
    await send(paced, clock, "sendMessage", 7, sent)
    await send(paced, clock, "sendMessage", 7, sent)
    first, second = (at for _, _, at in sent)
    assert first >= clock.now - 2  # sanity: both were sent
    assert second - first >= 1.0 - 1e-9


async def test_the_whole_budget_is_used_when_answers_come_at_once():
    clock, sent = Clock(), []
    paced = PacedRateLimiter(overall_rate=30, clock=clock, sleep=clock.sleep)
    for number in range(300):
        await send(paced, clock, "sendMessage", number, sent)
    times = [at for _, _, at in sent]
    assert max_in_window(times) == 30
    # 300 messages at 30 a second: the first 30 in the first second, then 30 more each second.
    assert times[-1] - times[0] == pytest.approx(9.0 + 29 / 30)


async def test_a_message_counts_until_a_window_after_its_answer_whatever_the_delays():
    # Telegram receives each request at some unknown time between its start and its answer;
    # here each takes 0.1-0.6 s (jitter, a stalled loop). Whatever Telegram's instant within
    # that span, it never sees more than the rate in any second.
    loop = asyncio.get_running_loop()
    clock = Clock()
    paced = PacedRateLimiter(overall_rate=5, clock=clock, sleep=clock.sleep)
    spans: list[tuple[float, float]] = []
    answers: list[asyncio.Future[None]] = []

    async def call() -> bool:
        start = clock.now
        answered = loop.create_future()
        answers.append(answered)
        await answered
        spans.append((start, clock.now))
        return True

    tasks = [
        asyncio.create_task(
            paced.process_request(call, (), {}, "sendMessage", {"chat_id": n}, None)
        )
        for n in range(20)
    ]
    delays = itertools.cycle([0.6, 0.1, 0.35, 0.2])
    while len(spans) < 20:
        for _ in range(10):
            await asyncio.sleep(0)
        waiting = [answer for answer in answers if not answer.done()]
        if waiting:
            clock.now += next(delays)
            waiting[0].set_result(None)
        else:
            clock.now += 0.05
    await asyncio.gather(*tasks)
    # The worst case for Telegram: the earlier message arrives as late, the later one as early,
    # as possible. Message i+5 starts no sooner than a second after message i's answer.
    ordered = sorted(spans)
    assert len(ordered) == 20
    for index in range(len(ordered) - 5):
        assert ordered[index + 5][0] >= ordered[index][1] + 1.0 - 1e-9


async def test_processes_at_the_documented_rate_stay_under_telegrams_limit_together(
    monkeypatch: pytest.MonkeyPatch,
):
    # Two bot processes on one database, each given 28 / 2.
    monkeypatch.setenv("DELIVERY_RATE_PER_SECOND", "14")
    rate = load_settings().delivery_rate_per_second
    clock, sent = Clock(), []
    processes = [default_rate_limiter(rate, clock=clock, sleep=clock.sleep) for _ in range(2)]
    for number in range(300):
        process = number % 2
        await send(processes[process], clock, "sendMessage", 1000 + number, sent)
        sent[-1] = (*sent[-1], process)
    times = [at for _, _, at, _ in sent]
    assert max_in_window(times) <= 28
    for process in (0, 1):
        assert max_in_window([at for _, _, at, p in sent if p == process]) <= 14
    assert times[-1] - times[0] >= 300 / 28 - 1  # and no slower than the limit needs


async def test_a_caller_that_cannot_wait_long_gets_no_slot_and_nothing_is_booked():
    clock, sent = Clock(), []
    paced = limiter(clock)
    paced._paused_until = clock.now + 45  # Telegram asked everyone to wait

    async def call():
        sent.append(clock.now)
        return True

    with pytest.raises(NoSlotSoon) as refused:
        await paced.process_request(
            call, (), {}, "sendMessage", {"chat_id": 5}, {"max_wait": 30, "max_retries": 0}
        )
    assert refused.value.wait == pytest.approx(45)
    assert sent == [] and clock.sleeps == []
    assert 5 not in paced._next_for_chat


async def test_a_caller_that_holds_a_claim_gets_retry_after_at_once_and_everyone_pauses():
    clock, tries = Clock(), []
    paced = limiter(clock)

    async def refused():
        tries.append(clock.now)
        raise RetryAfter(45)

    with pytest.raises(RetryAfter):
        await paced.process_request(
            refused, (), {}, "sendMessage", {"chat_id": 1}, {"max_wait": 30, "max_retries": 0}
        )
    assert tries == [100.0] and clock.sleeps == []
    # The process's other messages (a victim's reply) still wait as Telegram asked.
    sent = []
    await send(paced, clock, "sendMessage", 2, sent)
    assert sent[0][2] >= 145.0


async def test_a_group_gets_at_most_twenty_messages_a_minute():
    clock, sent = Clock(), []
    paced = PacedRateLimiter(overall_rate=30, clock=clock, sleep=clock.sleep)
    for _ in range(45):
        await send(paced, clock, "sendMessage", -1001234, sent)
    times = [at for _, _, at in sent]
    assert max_in_window(times, 60.0) == 20
    assert max_in_window(times, 1.0) == 1  # and still one a second


async def test_a_caller_that_cannot_wait_for_a_full_group_gets_no_slot():
    clock, sent = Clock(), []
    paced = PacedRateLimiter(overall_rate=30, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        await send(paced, clock, "sendMessage", -42, sent)

    async def call():
        sent.append(("sendMessage", -42, clock.now))
        return True

    with pytest.raises(NoSlotSoon):
        await paced.process_request(
            call, (), {}, "sendMessage", {"chat_id": -42}, {"max_wait": 5, "max_retries": 0}
        )
    assert len(sent) == 20


async def test_two_messages_booked_at_once_for_one_chat_go_a_second_after_the_first_answer():
    loop = asyncio.get_running_loop()
    clock = Clock()
    paced = limiter(clock)
    spans: list[tuple[float, float]] = []
    first_answer: asyncio.Future[None] = loop.create_future()

    async def call() -> bool:
        start = clock.now
        if not spans and not first_answer.done():
            await first_answer  # the first request takes its time
        spans.append((start, clock.now))
        return True

    tasks = [
        asyncio.create_task(
            paced.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
        )
        for _ in range(2)
    ]
    for _ in range(10):
        await asyncio.sleep(0)
    clock.now += 0.6  # Telegram answers the first 0.6 s after it was sent
    first_answer.set_result(None)
    await asyncio.gather(*tasks)
    # (The second one's wait for its booked slot moved this clock too: only the order counts.)
    (_, first_end), (second_start, _) = spans
    assert second_start >= first_end + 1.0 - 1e-9


class GatedClock(Clock):
    """A clock whose sleepers wake only once `go` is set: what happens meanwhile comes first."""

    def __init__(self) -> None:
        super().__init__()
        self.asleep = asyncio.Event()
        self.go = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        self.asleep.set()
        await self.go.wait()


async def test_a_message_booked_before_a_retry_after_waits_for_the_pause():
    clock, sent = GatedClock(), []
    paced = limiter(clock)

    async def refused():
        await clock.asleep.wait()  # the other message has booked its slot and waits for it
        raise RetryAfter(5)

    async def accepted():
        sent.append(clock.now)
        return True

    refusal = asyncio.ensure_future(paced.send(refused, 1, max_retries=0))
    waiting = asyncio.ensure_future(paced.send(accepted, 2))
    with pytest.raises(RetryAfter):
        await refusal
    clock.go.set()
    assert await waiting is True
    # Booked for 100.1, it went only when Telegram's five seconds were over.
    assert sent == [pytest.approx(105.1)]


async def test_a_message_its_caller_no_longer_wants_is_withdrawn_and_counts_for_nothing():
    clock, sent = Clock(), []
    paced = limiter(clock)
    wanted = {1: False, 2: True}

    async def call(chat):
        sent.append(chat)
        return True

    with pytest.raises(Withdrawn):
        await paced.send(lambda: call(1), 1, still_wanted=lambda: wanted[1])
    await paced.send(lambda: call(2), 2, still_wanted=lambda: wanted[2])
    assert sent == [2]
    assert paced._overall.in_flight == 0
    assert len(paced._overall.free_at) == 1  # only the message sent counts in the window
