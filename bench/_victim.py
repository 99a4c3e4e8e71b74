"""Simulated people talking to an in-process bot through its update queue, as Telegram delivers.

A `Crowd` puts each person's updates on `Application.update_queue` (so the bot's update processor
decides what runs when, as in `reportbot run`) and hears, through a signalling update processor,
when the bot has finished with each. A `Victim` files a full report the way a person typing fast
does: it answers the bot's newest question as soon as that question arrives. When the bot has
finished with an update without asking anything new (its reply was refused with a 429 and lost),
the victim waits a moment (SILENCE), as a person would, then sends /start (or "hello?" after
Submit) to get the question again, and reads that offer before pressing Continue (READING), since
pressing at once would only be refused again. An `EchoUser` sends a number of texts, each as soon
as the previous one was answered (or lost).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, SimpleUpdateProcessor

from bench._bulk import imei_digits
from bench._fakeapi import LimitedBotApi
from bot.local_api import BOT_USER, ChatMessage, LocalUser
from bot.processing import ChatOrderedProcessor
from handlers.conversation import keyboards, states
from handlers.texts import text
from models.database import Database

REFERENCE = re.compile(r"SPR-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}")
NUDGE = "hello?"
MAX_NUDGES = 40
SILENCE = 3.0  # seconds a person waits for a lost reply before asking again
READING = 1.5  # seconds a person takes to read the bot's offer after a lost reply
FIRST_USER = 6_000_000_000
ANY = keyboards.ANY_STEP
# Questions without buttons, known by their text.
TEXT_STEPS = {
    text(f"conversation.{key}", "en"): step
    for key, step in (
        ("ask_where", states.WHERE),
        ("ask_when_date", states.WHEN_DATE),
        ("ask_tracked_where", states.TRACKED_WHERE),
        ("ask_contact_name", states.CONTACT_NAME),
        ("ask_contact_phone", states.CONTACT_PHONE),
    )
}
PRESSES = {
    states.CONSENT: "yes",
    states.ACCOUNT: "own",
    states.MAKE: "apple",
    states.IMEI_OK: "yes",
    states.IMEI2: "skip",
    states.NETWORK: "net:Vodafone",
    states.WHEN: "now",
    states.WHERE_NOTE: "skip",
    states.HOW: "snatched_moped",
    states.TRACKED: "no",
    states.TRACKED_WHEN: "now",
    states.CHANNEL: "email",
    states.REVIEW: "submit",
}
Done = Callable[[Update], None]


class SignallingChatProcessor(ChatOrderedProcessor):
    """The bot's own update processor, telling the benchmark when each update is finished."""

    def __init__(self, max_chats: int, *, db: Database | None, on_done: Done) -> None:
        """As ChatOrderedProcessor; ON_DONE(update) is called once the update is finished."""
        super().__init__(max_chats, db=db)
        self.on_done = on_done

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Process as the bot does, then signal."""
        try:
            await super().do_process_update(update, coroutine)
        finally:
            if isinstance(update, Update):
                self.on_done(update)


class SignallingSimpleProcessor(SimpleUpdateProcessor):
    """PTB's own processor (1: its default, sequential), telling the benchmark when each is done."""

    def __init__(self, max_concurrent_updates: int, *, on_done: Done) -> None:
        """As SimpleUpdateProcessor; ON_DONE(update) is called once the update is finished."""
        super().__init__(max_concurrent_updates)
        self.on_done = on_done

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Process as PTB does, then signal."""
        try:
            await super().do_process_update(update, coroutine)
        finally:
            if isinstance(update, Update):
                self.on_done(update)


def step_of(message: ChatMessage) -> str | None:
    """The question MESSAGE asks (a step, ANY for continue-style offers), or None."""
    steps = set()
    for _, data in message.buttons:
        press = keyboards.parse(data)
        if press is not None:
            steps.add(press.step)
    specific = steps - {ANY}
    if specific:
        return specific.pop()
    if steps:
        return ANY
    return TEXT_STEPS.get(message.text or "")


def button_data(message: ChatMessage, value: str) -> str | None:
    """The callback data of MESSAGE's button pressing VALUE, if it has one."""
    for _, data in message.buttons:
        press = keyboards.parse(data)
        if press is not None and press.value == value:
            return data
    return None


@dataclass
class Person:
    """What every simulated person records."""

    chat_id: int
    started: float = 0.0
    finished: float | None = None
    updates: int = 0
    nudges: int = 0
    replies: list[float] = field(default_factory=list)  # arrival -> first message after it
    turns: list[float] = field(default_factory=list)  # arrival -> the bot finished with it
    error: str | None = None

    @property
    def total(self) -> float | None:
        """Seconds from the first message to the goal, if reached."""
        return None if self.finished is None else self.finished - self.started


class Crowd:
    """Feeds people's updates to a running Application and tells them when each is finished."""

    def __init__(self, api: LimitedBotApi) -> None:
        """People will talk to the bot behind API (the application is set once built)."""
        self.api = api
        self.application: Application | None = None
        self.cpu_s = 0.0  # the simulated people's own CPU time (their code never awaits inside)
        self._ids = itertools.count(1)
        self._arrivals: dict[int, tuple[Speaker, float]] = {}
        api.any_listener = self._heard
        self._speakers: dict[int, Speaker] = {}

    def join(self, speaker: Speaker) -> None:
        """Let SPEAKER hear the bot's messages in its chat."""
        self._speakers[speaker.person.chat_id] = speaker

    def _heard(self, chat_id: int, at: float) -> None:
        speaker = self._speakers.get(chat_id)
        if speaker is not None:
            speaker.heard(at)

    def submit(self, speaker: Speaker, payload: dict[str, Any]) -> int:
        """Queue PAYLOAD as Telegram would deliver it; its update_id."""
        assert self.application is not None
        update_id = next(self._ids)
        # Parsing the update is the bot's work (PTB's updater does it), so it is not ours.
        update = Update.de_json({"update_id": update_id, **payload}, self.application.bot)
        self._arrivals[update_id] = (speaker, time.perf_counter())
        self.application.update_queue.put_nowait(update)
        return update_id

    def finished(self, update: Update) -> None:
        """The bot is done with UPDATE (called by the signalling processor)."""
        entry = self._arrivals.pop(update.update_id, None)
        if entry is not None:
            speaker, arrived = entry
            speaker.done(update.update_id, time.perf_counter() - arrived)

    def drop_queued(self) -> int:
        """Forget updates not yet handed to the bot (when a run is cut short)."""
        assert self.application is not None
        queue = self.application.update_queue
        dropped = 0
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
            dropped += 1
        return dropped


class Speaker:
    """A person in a private chat: sends an update, waits for a reply or for the bot to finish."""

    def __init__(self, crowd: Crowd, number: int, *, patience: float) -> None:
        """Person NUMBER of CROWD; waits at most PATIENCE seconds for any one reply."""
        assert crowd.application is not None
        self.crowd = crowd
        self.number = number
        self.patience = patience
        self.user = LocalUser(
            crowd.application, crowd.api, user_id=FIRST_USER + number, first_name=f"V{number}"
        )
        self.person = Person(self.user.chat_id)
        self._wake = asyncio.Event()
        self._current: int | None = None
        self._arrived = 0.0
        self._replied = False
        self._finished: set[int] = set()
        crowd.join(self)

    def heard(self, at: float) -> None:
        """The bot's message to this chat was accepted at AT."""
        if self._current is not None and not self._replied:
            self._replied = True
            self.person.replies.append(at - self._arrived)
        self._wake.set()

    def done(self, update_id: int, seconds: float) -> None:
        """The bot finished with UPDATE_ID, SECONDS after it arrived."""
        self.person.turns.append(seconds)
        self._finished.add(update_id)
        self._wake.set()

    def messages(self) -> list[ChatMessage]:
        """The bot's messages this chat shows."""
        return self.crowd.api.bot_messages(self.person.chat_id)

    def newest_id(self) -> int:
        """The id of the bot's newest message here (0 if none)."""
        chat = self.crowd.api.chats.get(self.person.chat_id, {})
        return max((m.message_id for m in chat.values() if m.from_bot), default=0)

    async def act(self, payload: dict[str, Any], answered: Callable[[], bool]) -> None:
        """Send PAYLOAD; return once ANSWERED() holds or the bot finished with it."""
        self._replied = False
        self._arrived = time.perf_counter()
        update_id = self._current = self.crowd.submit(self, payload)
        self.person.updates += 1
        deadline = time.perf_counter() + self.patience
        while True:
            self._wake.clear()
            started = time.thread_time()
            ready = update_id in self._finished or answered()
            self.crowd.cpu_s += time.thread_time() - started
            if ready:
                self._finished.discard(update_id)
                return
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"chat {self.person.chat_id}: no answer in {self.patience} s")
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except TimeoutError:
                continue

    def text_payload(self, words: str) -> dict[str, Any]:
        """A typed message (a command if it starts with /)."""
        content: dict[str, Any] = {"text": words}
        if words.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(words)}]
        return self.user.message(**content)

    def press_payload(self, message: ChatMessage, data: str) -> dict[str, Any]:
        """A press of the button carrying DATA on MESSAGE."""
        return {
            "callback_query": {
                "id": f"{self.person.chat_id}-{self.person.updates}",
                "from": self.user.user,
                "chat_instance": str(self.person.chat_id),
                "data": data,
                "message": {
                    "message_id": message.message_id,
                    "date": int(time.time()),
                    "chat": self.user._chat(),
                    "from": BOT_USER,
                    "text": message.text or "",
                    "reply_markup": message.reply_markup,
                },
            }
        }


class Victim(Speaker):
    """Files one full report (every optional answer given), as fast as the bot asks."""

    def reference(self) -> str | None:
        """The reference the bot showed, once filed."""
        for message in reversed(self.messages()):
            found = REFERENCE.search(message.text or "")
            if found:
                return found.group()
        return None

    def question(self) -> tuple[ChatMessage, str] | None:
        """The bot's newest question here, with its step."""
        for message in reversed(self.messages()):
            step = step_of(message)
            if step is not None:
                return message, step
        return None

    def answer(self, message: ChatMessage, step: str) -> dict[str, Any]:
        """What this victim answers to STEP asked by MESSAGE."""
        typed = {
            states.MODEL: "iPhone 15",
            states.COLOUR: "blue, cracked corner",
            states.IMEI: imei_digits(self.number, "35"),
            states.NUMBER: "07400 123456",
            states.WHERE: "Oxford Street by Bond Street station",
            states.CONTACT_NAME: "Alex Example",
            states.CONTACT_PHONE: "07912 345678",
            states.CONTACT_EMAIL: f"victim{self.number}@example.org",
        }
        if step in typed:
            return self.text_payload(typed[step])
        value = PRESSES.get(step)
        if step == ANY:
            value = "continue" if button_data(message, "continue") else "new"
        data = button_data(message, value) if value else None
        if data is None:
            raise AssertionError(f"no answer for step {step!r}: {(message.text or '')[:80]!r}")
        return self.press_payload(message, data)

    async def run(self, delay: float = 0.0) -> Person:
        """File the report; the person's record (finished stays None if it never got there)."""
        await asyncio.sleep(delay)
        person = self.person
        person.started = time.perf_counter()
        try:
            await self._talk()
            person.finished = time.perf_counter()
        except Exception as error:  # recorded and reported, never silently dropped
            person.error = f"{type(error).__name__}: {error}"
        return person

    async def _talk(self) -> None:
        payload = self.text_payload("/start")
        answered: tuple[int, str] | None = None
        answered_step: str | None = None
        careful = False
        while True:
            mark = self.newest_id()
            await self.act(payload, lambda mark=mark: self._news(mark))
            started = time.thread_time()
            if self.reference() is not None:
                return
            found = self.question()
            signature = (found[0].message_id, found[0].text or "") if found else None
            lost = found is None or signature == answered
            self.crowd.cpu_s += time.thread_time() - started
            if lost:
                # Nothing new was asked: the reply was lost. A person waits, then asks again:
                # /start offers to continue; after Submit, any text shows the reference.
                self.person.nudges += 1
                if self.person.nudges > MAX_NUDGES:
                    raise RuntimeError(f"{MAX_NUDGES} replies lost in one conversation")
                await asyncio.sleep(SILENCE)
                payload = self.text_payload(NUDGE if answered_step == states.REVIEW else "/start")
                careful = True
                continue
            if careful:
                await asyncio.sleep(READING)
                careful = False
            assert found is not None
            started = time.thread_time()
            answered, answered_step = signature, found[1]
            payload = self.answer(*found)
            self.crowd.cpu_s += time.thread_time() - started

    def _news(self, mark: int) -> bool:
        """Whether the bot sent a question (or the reference) after message MARK."""
        for message in reversed(self.messages()):
            if message.message_id <= mark:
                return False
            if step_of(message) is not None or REFERENCE.search(message.text or ""):
                return True
        return False


class EchoUser(Speaker):
    """Sends COUNT texts, each once the previous one was echoed (or its echo lost)."""

    async def run(self, count: int, delay: float = 0.0) -> Person:
        """Send and wait COUNT times; the person's record."""
        await asyncio.sleep(delay)
        person = self.person
        person.started = time.perf_counter()
        try:
            for index in range(count):
                mark = self.newest_id()
                payload = self.text_payload(f"message {index} from {self.number}")
                await self.act(payload, lambda mark=mark: self.newest_id() > mark)
            person.finished = time.perf_counter()
        except Exception as error:
            person.error = f"{type(error).__name__}: {error}"
        return person


def arrival_delays(count: int, spread: float, seed: int = 11) -> list[float]:
    """When each of COUNT people starts, spread evenly at random over SPREAD seconds."""
    rng = random.Random(seed)
    return [rng.uniform(0, spread) for _ in range(count)]
