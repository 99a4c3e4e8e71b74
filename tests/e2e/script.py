"""A scripted victim: reads the bot's newest question and answers it from a story.

The victim does what a person does: answers whatever the bot asks now (the step is in the
buttons' callback data, or, for typed answers, in the question's catalogue text), presses
Continue when the bot offers to resume, and, when its message went to a bot process that died
before answering (Telegram will not deliver it again), says "hello?" to get the question back.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from bot.local_api import ChatMessage
from handlers.conversation import keyboards, states
from handlers.texts import text
from tests.e2e.harness import BotProcess
from tests.e2e.victim import Victim
from tests.factories import imei

REFERENCE = re.compile(r"SPR-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}")
NUDGE = "hello?"
SILENCE_BEFORE_RETRY = 10.0
ANY = keyboards.ANY_STEP
# The lost-or-stolen question's answer for a story's theft_method (else a theft from the person).
LOSS_OF_METHOD = {"force": "robbery", "lost": "lost"}
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


@dataclass(frozen=True)
class Story:
    """What one victim answers; None means Skip."""

    imei: str
    name: str
    phone: str
    own_account: bool = True
    make: str = "apple"
    model: str | None = None
    colour: str | None = None
    number: str | None = None
    network: str | None = None
    place: str | tuple[float, float] = "Oxford Street, by Bond Street station"
    place_note: str | None = None
    method: str = "snatched_moped"
    tracked: tuple[float, float] | None = None
    email: str | None = None
    channel: str = "call"
    stop_at: str | None = None  # leave the draft unfinished when the bot asks this step


def crowd(
    server, victims: int, *, first_imei: int, first_user: int, stop_at: str | None = None
) -> list[ScriptedVictim]:
    """VICTIMS plain victims of SERVER's bot, each with their own IMEI, number and user id."""
    return [
        ScriptedVictim(
            server,
            Story(
                imei=imei(first_imei + n).digits,
                name=f"Victim {n}",
                phone=f"07912 {345600 + n}",
                own_account=n % 2 == 0,
                stop_at=stop_at,
            ),
            user_id=first_user + n,
        )
        for n in range(victims)
    ]


def varied_story(n: int, imei: str, *, stop_at: str | None = None) -> Story:
    """The N-th of a crowd of victims reporting IMEI: account, make, number, place vary with N."""
    return Story(
        imei=imei,
        name=f"Victim {n}",
        phone=f"07912 {345600 + n}",
        own_account=n % 2 == 0,
        make=("apple", "samsung", "google")[n % 3],
        model="Galaxy S24" if n % 4 == 0 else None,
        number=f"07400 {123000 + n}" if n % 3 == 0 else None,
        network="EE" if n % 3 == 0 else None,
        place=(51.51 + n / 1000, -0.14) if n % 2 else "Leicester Square",
        stop_at=stop_at,
    )


def buttons_of(message: ChatMessage) -> dict[str, tuple[str, str]]:
    """The message's conversation buttons: value -> (step, callback data)."""
    found = {}
    for _, data in message.buttons:
        press = keyboards.parse(data)
        if press is not None:
            found[press.value] = (press.step, data)
    return found


def step_of(message: ChatMessage) -> str | None:
    """The question MESSAGE asks (a step name, ANY for Continue-style offers), or None."""
    steps = {step for step, _ in buttons_of(message).values()}
    specific = steps - {ANY}
    if specific:
        return specific.pop()
    if steps:
        return ANY
    return TEXT_STEPS.get(message.text or "")


class ScriptedVictim(Victim):
    """A victim who answers the bot's questions from a Story, whatever happens to the bot."""

    def __init__(self, server, story: Story, **kwargs) -> None:
        """A victim telling STORY (kwargs as for Victim)."""
        super().__init__(server, **kwargs)
        self.story = story
        self.stopped_at: str | None = None
        self.actions = 0
        self.nudges = 0
        # The victim's messages the bot never answered, so the victim wrote again.
        self.unanswered: list[int] = []

    @property
    def reference(self) -> str | None:
        """The report reference the bot has shown this victim, if any."""
        for message in self.messages:
            found = REFERENCE.search(message.text or "")
            if found:
                return found.group()
        return None

    async def press_value(self, message: ChatMessage, value: str) -> None:
        """Press the button with VALUE on MESSAGE (queued; no waiting)."""
        buttons = buttons_of(message)
        if value not in buttons:
            raise AssertionError(f"no button {value!r} on {message.text!r}: {sorted(buttons)}")
        await self._queue(self.press_data, buttons[value][1], message)

    async def type(self, words: str) -> None:
        """Send WORDS (queued; no waiting)."""
        await self._queue(self.send, words)

    async def pin(self, latitude: float, longitude: float) -> None:
        """Share a location (queued; no waiting)."""
        await self._queue(self.send_location, latitude, longitude)

    async def _queue(self, action, *args) -> None:
        waiting, self.waiting = self.waiting, False
        try:
            await action(*args)
        finally:
            self.waiting = waiting
        self.actions += 1

    async def answer(self, message: ChatMessage, step: str) -> None:
        """Answer the question MESSAGE asks at STEP."""
        story = self.story
        optional_text = {
            states.MODEL: story.model,
            states.COLOUR: story.colour,
            states.NUMBER: story.number,
            states.WHERE_NOTE: story.place_note,
            states.CONTACT_EMAIL: story.email,
        }
        presses = {
            states.CONSENT: "yes",
            states.ACCOUNT: "own" if story.own_account else "borrowed",
            states.MAKE: story.make,
            states.IMEI_OK: "yes",
            states.IMEI2: "skip",
            states.NETWORK: f"net:{story.network}" if story.network else "skip",
            states.WHEN: "now",
            states.LOSS: LOSS_OF_METHOD.get(story.method, "theft"),
            states.HOW: story.method,
            states.TRACKED: "yes" if story.tracked else "no",
            states.TRACKED_WHEN: "now",
            states.CHANNEL: story.channel,
            states.REVIEW: "submit",
        }
        typed = {
            states.IMEI: story.imei,
            states.CONTACT_NAME: story.name,
            states.CONTACT_PHONE: story.phone,
        }
        if step in optional_text:
            answer = optional_text[step]
            await (self.type(answer) if answer else self.press_value(message, "skip"))
        elif step in presses:
            await self.press_value(message, presses[step])
        elif step in typed:
            await self.type(typed[step])
        elif step in (states.WHERE, states.TRACKED_WHERE):
            place = story.place if step == states.WHERE else story.tracked
            assert place is not None
            await (self.type(place) if isinstance(place, str) else self.pin(*place))
        elif step == ANY:
            values = buttons_of(message)
            await self.press_value(message, "continue" if "continue" in values else "new")
        else:
            raise AssertionError(f"the script has no answer for step {step!r}: {message.text!r}")

    async def play(self, bot: BotProcess, *, within: float = 120.0) -> None:
        """Answer questions until the bot shows a reference (or the story's stop_at step)."""
        deadline = time.monotonic() + within
        answered: tuple | None = None
        while self.reference is None:
            prompt = self.latest()
            signature = (prompt.message_id, prompt.text, str(prompt.reply_markup)) if prompt else 0
            step = step_of(prompt) if prompt is not None else None
            if bot.up and step is not None and signature != answered:
                if step == self.story.stop_at:
                    self.stopped_at = step
                    return
                await self.answer(prompt, step)
                answered = signature
                continue
            if bot.up and (self.last_update_id is None or self.server.is_lost(self.last_update_id)):
                # Nothing asked yet, or our last message died with a bot process: say hello.
                if self.last_update_id is not None:
                    self.unanswered.append(self.last_update_id)
                await self.type(NUDGE)
                self.nudges += 1
                continue
            mark, up, last = self.mark(), bot.up, self.last_update_id
            remaining = deadline - time.monotonic()
            try:
                await self.server.wait_until(
                    lambda mark=mark, up=up, last=last: (
                        self.mark() != mark
                        or bot.up != up
                        or (up and last is not None and self.server.is_lost(last))
                    ),
                    min(remaining, SILENCE_BEFORE_RETRY),
                    f"the bot to answer victim {self.chat_id} (last step {step})",
                )
            except TimeoutError:
                if remaining <= SILENCE_BEFORE_RETRY:
                    raise
                if not self.server.is_confirmed(last or 0):
                    # The bot has not finished it (a restart, a backlog): it will answer.
                    continue
                # Rare: a redelivery of our message was skipped as already processed, after
                # the process that stored its effect died before answering. Ask again.
                self.unanswered.append(last or 0)
                await self.type(NUDGE)
                self.nudges += 1

    async def resume(self, *, within: float = 30.0) -> ChatMessage:
        """Come back to the unfinished draft: say hello, press Continue; returns the question."""
        seen = max((m.message_id for m in self.messages), default=0)
        await self.type(NUDGE)
        offer = await self.expect(
            lambda m: m.message_id > seen and "continue" in buttons_of(m),
            within=within,
            what="the offer to continue",
        )
        await self.press_value(offer, "continue")
        return await self.expect(
            lambda m: m.message_id > offer.message_id and step_of(m) not in (None, ANY),
            within=within,
            what="the question to continue with",
        )
