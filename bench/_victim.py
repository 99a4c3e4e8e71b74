"""Simulated people talking to an in-process bot through its update queue, as Telegram delivers.

The people live on the Telegram side (bench/_telegram_thread.py's `TelegramThread`, beside the fake
API of tests/botapi.py), the bot on the main thread. A `Crowd` hands each person's update to the
bot's loop, where it is parsed and put on `Application.update_queue` (so the bot's update processor
decides what runs when, as in `reportbot run`), and hears, through a signalling update processor,
when the bot has finished with each. A `Victim` files a full report the way a person typing fast
does: it answers the bot's newest question as soon as that question arrives. When the bot has
finished with an update without asking anything new (its reply was refused with a 429 and lost),
the victim waits a moment (SILENCE), as a person would, then sends /start (or "hello?" after
Submit) to get the question again, and reads that offer before pressing Continue (READING), since
pressing at once would only be refused again. An `EchoUser` sends a number of texts, each as soon
as the previous one was answered (or lost)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, SimpleUpdateProcessor

from bench._bulk import imei_digits
from bench._telegram_thread import TelegramThread
from bot.local_api import BOT_USER, ChatMessage, LocalUser
from bot.processing import ChatOrderedProcessor
from handlers.conversation import states
from models.storage.database import Database
from tests.botapi import LimitedBotApi
from tests.e2e.script import ANY, NUDGE, REFERENCE, buttons_of, step_of

MAX_NUDGES = 40
SILENCE = 3.0  # seconds a person waits for a lost reply before asking again
READING = 1.5  # seconds a person takes to read the bot's offer after a lost reply
FIRST_USER = 6_000_000_000
PRESSES = {
    states.CONSENT: "yes",
    states.ACCOUNT: "own",
    states.MAKE: "apple",
    states.IMEI_OK: "yes",
    states.IMEI2: "skip",
    states.NETWORK: "net:Vodafone",
    states.WHEN: "now",
    states.WHERE_NOTE: "skip",
    states.LOSS: "theft",
    states.HOW: "snatched_moped",
    states.TRACKED: "no",
    states.TRACKED_WHEN: "now",
    states.CHANNEL: "email",
    states.REVIEW: "submit",
}
Done = Callable[[Update], None]


class _Signalling(BaseUpdateProcessor):
    """Tells the benchmark, through ON_DONE(update), when the bot has finished with each update."""

    on_done: Done

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Process as the processor it is mixed into does, then signal."""
        try:
            await super().do_process_update(update, coroutine)
        finally:
            if isinstance(update, Update):
                self.on_done(update)


class SignallingChatProcessor(_Signalling, ChatOrderedProcessor):
    """The bot's own update processor, telling the benchmark when each update is finished."""

    def __init__(self, max_chats: int, *, db: Database | None, on_done: Done) -> None:
        """As ChatOrderedProcessor; ON_DONE(update) is called once the update is finished."""
        super().__init__(max_chats, db=db)
        self.on_done = on_done


class SignallingSimpleProcessor(_Signalling, SimpleUpdateProcessor):
    """PTB's own processor (1: its default, sequential), telling the benchmark when each is done."""

    def __init__(self, max_concurrent_updates: int, *, on_done: Done) -> None:
        """As SimpleUpdateProcessor; ON_DONE(update) is called once the update is finished."""
        super().__init__(max_concurrent_updates)
        self.on_done = on_done


def button_data(message: ChatMessage, value: str) -> str | None:
    """The callback data of MESSAGE's button pressing VALUE, if it has one."""
    found = buttons_of(message).get(value)
    return found[1] if found else None


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
    """Carries people's updates to the bot's loop, and the bot's "finished" back to them."""

    def __init__(self, api: LimitedBotApi, side: TelegramThread) -> None:
        """People on SIDE talk to the bot behind API (the application is set once built)."""
        self.api = api
        self.side = side
        self.application: Application | None = None
        self.bot_loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._arrivals: dict[int, tuple[Speaker, float]] = {}
        self._speakers: dict[int, Speaker] = {}
        api.any_listener = self._heard

    def attach(self, application: Application) -> None:
        """Deliver to APPLICATION, which runs on the calling thread's loop."""
        self.application = application
        self.bot_loop = asyncio.get_running_loop()

    def join(self, speaker: Speaker) -> None:
        """Let SPEAKER hear the bot's messages in its chat."""
        self._speakers[speaker.person.chat_id] = speaker

    @property
    def speakers(self) -> list[Speaker]:
        """Everyone who joined, in order."""
        return list(self._speakers.values())

    def _heard(self, chat_id: int, at: float) -> None:
        speaker = self._speakers.get(chat_id)
        if speaker is not None:
            speaker.heard(at)

    def submit(self, speaker: Speaker, payload: dict[str, Any]) -> int:
        """(Telegram side) Deliver PAYLOAD to the bot as Telegram would; its update_id."""
        assert self.bot_loop is not None
        update_id = next(self._ids)
        self._arrivals[update_id] = (speaker, time.perf_counter())
        self.bot_loop.call_soon_threadsafe(self._deliver, update_id, payload)
        return update_id

    def _deliver(self, update_id: int, payload: dict[str, Any]) -> None:
        """(Bot side) Parse the update, as PTB's updater does, and queue it."""
        assert self.application is not None
        update = Update.de_json({"update_id": update_id, **payload}, self.application.bot)
        self.application.update_queue.put_nowait(update)

    def finished(self, update: Update) -> None:
        """(Bot side) The bot is done with UPDATE: tell its person (signalling processor)."""
        self.side.loop.call_soon_threadsafe(self._finished, update.update_id, time.perf_counter())

    def _finished(self, update_id: int, at: float) -> None:
        entry = self._arrivals.pop(update_id, None)
        if entry is not None:
            speaker, arrived = entry
            speaker.done(update_id, at - arrived)

    def drop_queued(self) -> int:
        """(Bot side) Forget updates not yet handed to the bot (when a run is cut short)."""
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

    async def act(self, payload: dict[str, Any], answered: Callable[[], bool]) -> int:
        """Send PAYLOAD; return (its update id) once ANSWERED() holds or the bot finished it."""
        self._replied = False
        self._arrived = time.perf_counter()
        update_id = self._current = self.crowd.submit(self, payload)
        self.person.updates += 1
        await self._until(
            lambda: update_id in self._finished or answered(),
            f"no answer in {self.patience} s",
        )
        return update_id

    async def until_done(self, update_id: int) -> None:
        """Wait until the bot finished with UPDATE_ID (every message it sends for it is sent)."""
        await self._until(lambda: update_id in self._finished, "update never finished")

    async def _until(self, done: Callable[[], bool], failure: str) -> None:
        """Wait, woken by each finished update or reply, until DONE(); else TimeoutError."""
        deadline = time.perf_counter() + self.patience
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            if done():
                return
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"chat {self.person.chat_id}: {failure}")
            alarm = loop.call_later(left, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                alarm.cancel()

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
            update_id = await self.act(payload, lambda mark=mark: self._news(mark))
            if self.reference() is not None:
                # Done once the bot is: the advice that follows the reference is sent too.
                await self.until_done(update_id)
                return
            found = self.question()
            signature = (found[0].message_id, found[0].text or "") if found else None
            if found is None or signature == answered:
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
            answered, answered_step = signature, found[1]
            payload = self.answer(*found)

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
