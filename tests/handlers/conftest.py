"""Fixtures for the conversation's tests: a victim who walks the flow, and Telegram's limits.

Every test here that talks to the bot is checked afterwards against what Telegram would refuse:
a message over 4,096 characters, HTML that does not parse, callback data over 64 bytes, and
keyboards too wide for a phone.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import update

from bot.local_api import ApiCall, ChatMessage, LocalBotApi, LocalUser
from handlers.conversation import states
from handlers.conversation.turn import LIVE
from models.register import Register
from models.services.drafts import DraftState
from models.storage.columns import utcnow
from models.storage.tables import Draft
from tests.factories import imei

MAX_TEXT = 4096
# What each language calls itself on its button, in the order the bot offers them.
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "pt": "Português",
    "pl": "Polski",
    "ro": "Română",
    "ar": "العربية",
    "zh": "中文（简体）",
}
MAX_CALLBACK_BYTES = 64
MAX_ROW_BUTTONS = 3
MAX_ROW_LABEL_CHARS = 40
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
_BARE_AMPERSAND = re.compile(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")

FIRST_IMEI = imei(101)
SECOND_IMEI = imei(202)
STOLEN_NUMBER = "07400 123456"
CONTACT_NUMBER = "07912 345678"


class _TelegramHtml(HTMLParser):
    """Fails on what Telegram's HTML parse mode refuses: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"unsupported tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def html_problems(text: str) -> list[str]:
    """What Telegram would refuse in TEXT sent with parse_mode HTML."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    problems = list(parser.problems)
    if parser.open:
        problems.append(f"unclosed {parser.open}")
    if _BARE_AMPERSAND.search(text):
        problems.append("bare &")
    stripped = re.sub(r"</?[a-z-]+( [^<>]*)?>", "", text)
    if "<" in stripped or ">" in stripped:
        problems.append("bare < or >")
    return problems


def limit_problems(calls: list[ApiCall], *, phone_width: bool = True) -> list[str]:
    """Every way the bot's calls break Telegram's limits (and, with PHONE_WIDTH, a phone's)."""
    problems = []
    for call in calls:
        text = call.params.get("text")
        if call.method in ("sendMessage", "editMessageText") and text is not None:
            if len(text) > MAX_TEXT:
                problems.append(f"{call.method}: {len(text)} characters")
            problems += [f"{call.method}: {p} in {text[:80]!r}" for p in html_problems(text)]
        markup = call.params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []:
            if phone_width and len(row) > MAX_ROW_BUTTONS:
                problems.append(f"{len(row)} buttons in a row")
            if phone_width and sum(len(button["text"]) for button in row) > MAX_ROW_LABEL_CHARS:
                problems.append(f"row too wide: {[b['text'] for b in row]}")
            for button in row:
                data = button.get("callback_data")
                if data is not None and len(data.encode()) > MAX_CALLBACK_BYTES:
                    problems.append(f"callback_data over 64 bytes: {data!r}")
    return problems


@pytest.fixture(autouse=True)
def telegram_limits(request: pytest.FixtureRequest):
    """After each test, check everything the bot sent against Telegram's limits.

    The keyboard-width rule (at most 3 buttons and 40 characters a row) is the conversation's
    own, so it applies to the conversation's tests only.
    """
    api: LocalBotApi | None = (
        request.getfixturevalue("api") if "api" in request.fixturenames else None
    )
    yield
    if api is not None:
        ours = request.node.path.name.startswith(("test_conversation", "test_bad_input"))
        assert limit_problems(api.calls, phone_width=ours) == []


# --- walking the conversation ------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One thing the victim does: send text, press a button, share a pin."""

    kind: str
    value: Any

    async def do(self, user: LocalUser) -> list[ChatMessage]:
        """Do it as USER."""
        if self.kind == "send":
            return await user.send(self.value)
        if self.kind == "press":
            return await user.press(self.value)
        if self.kind == "pin":
            return await user.send_location(*self.value)
        raise ValueError(self.kind)


def send(text: str) -> Act:
    """Type TEXT."""
    return Act("send", text)


def press(label: str) -> Act:
    """Press the button labelled LABEL on the newest message with buttons."""
    return Act("press", label)


def pin(latitude: float, longitude: float) -> Act:
    """Share a location pin."""
    return Act("pin", (latitude, longitude))


HAPPY: dict[str, Act] = {
    states.CONSENT: press("Yes, start my report"),
    states.ACCOUNT: press("Yes, it's my own account"),
    states.MAKE: press("Apple (iPhone)"),
    states.MODEL: send("iPhone 15"),
    states.COLOUR: send("blue, cracked corner"),
    states.IMEI: send(FIRST_IMEI.grouped),
    states.IMEI_OK: press("Yes, that's right"),
    states.IMEI2: press("No second IMEI"),
    states.IMEI2_OK: press("Yes, that's right"),
    states.NUMBER: send(STOLEN_NUMBER),
    states.NETWORK: press("Vodafone"),
    states.WHEN: press("Just now"),
    states.WHEN_TIME: press("I don't know"),
    states.WHEN_DATE: send("yesterday 18:30"),
    states.WHEN_OK: press("Yes, that's right"),
    states.WHERE: send("Oxford Street by Bond Street station"),
    states.WHERE_NOTE: press("Skip"),
    states.LOSS: press("Stolen from me, no force"),
    states.HOW: press("Snatched – moped"),
    states.TRACKED: press("No / not sure"),
    states.TRACKED_WHERE: pin(51.5226, -0.1571),
    states.TRACKED_WHEN: press("Just now"),
    states.CONTACT_NAME: send("Alex Example"),
    states.CONTACT_PHONE: send(CONTACT_NUMBER),
    states.CONTACT_EMAIL: send("alex@example.org"),
    states.CHANNEL: press("Email"),
}


@dataclass
class Victim:
    """A person in a private chat with the bot, walking the report (LocalUser underneath)."""

    user: LocalUser
    register: Register
    seen: list[ChatMessage] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        """The private chat's id."""
        return self.user.chat_id

    async def draft(self) -> DraftState | None:
        """The chat's draft as stored."""
        return await self.register.drafts.get(self.chat_id)

    async def step(self) -> str | None:
        """The stored step, or None without a draft."""
        draft = await self.draft()
        return draft.step if draft else None

    async def answers(self) -> dict[str, Any]:
        """The stored answers."""
        draft = await self.draft()
        assert draft is not None
        return draft.answers

    async def _keep(self, replies: Awaitable[list[ChatMessage]]) -> list[ChatMessage]:
        """What the bot said: new messages, and questions edited into new ones (a message that
        only lost its buttons says nothing new)."""
        before = {m.message_id: m.text for m in self.user.api.chats.get(self.chat_id, {}).values()}
        got = [m for m in await replies if before.get(m.message_id, object()) != m.text]
        self.seen += got
        return got

    async def send(self, text: str) -> list[ChatMessage]:
        """Type TEXT."""
        return await self._keep(self.user.send(text))

    async def press(self, label: str, message: ChatMessage | None = None) -> list[ChatMessage]:
        """Press a button by label (on MESSAGE, else the newest message with buttons)."""
        return await self._keep(self.user.press(label, message))

    async def do(self, act: Act) -> list[ChatMessage]:
        """Do ACT."""
        return await self._keep(act.do(self.user))

    async def walk(self, until: str = states.REVIEW, **instead: Act) -> list[ChatMessage]:
        """Answer the happy path (with INSTEAD for some steps) from wherever we are to UNTIL."""
        if await self.step() is None:
            await self.send("/start")
        replies: list[ChatMessage] = []
        for _ in range(60):
            step = await self.step()
            if step == until:
                return replies
            assert step is not None and step in HAPPY, f"stuck at {step}"
            replies = await self.do(instead.get(step, HAPPY[step]))
        raise AssertionError(f"never reached {until}")

    async def file(self, **instead: Act) -> list[ChatMessage]:
        """Walk to the review and submit; returns the filing's replies."""
        await self.walk(states.REVIEW, **instead)
        return await self.press("✅ Submit report")

    def texts(self, replies: list[ChatMessage] | None = None) -> str:
        """Everything in REPLIES (default: everything seen so far) as one string."""
        return "\n".join(m.text or "" for m in (self.seen if replies is None else replies))


@pytest.fixture
def victim(make_user, register) -> Victim:
    """A victim in a private chat, with a 64-bit Telegram id."""
    return Victim(make_user(user_id=8_123_456_789_012), register)


async def seed(application, victim: Victim, step: str, **answers: Any) -> DraftState:
    """A live draft at STEP with complete happy-path answers (plus ANSWERS), stored."""
    now = utcnow()
    base: dict[str, Any] = {
        "language": "en",
        "consent": True,
        "own_account": True,
        "make_choice": "apple",
        "make": "apple",
        "platform": "iphone",
        "_urgent_shown": True,
        "model": "iPhone 15",
        "imeis": [FIRST_IMEI.digits],
        "pending_imei": FIRST_IMEI.digits,
        "pending_imei2": SECOND_IMEI.digits,
        "pending_tac": {"brand": "Samsung", "key": "samsung", "phone": "Samsung Galaxy S23"},
        "number": {"e164": "+447400123456", "region": "GB"},
        "network": "Vodafone",
        "incident_at": (now - timedelta(minutes=20)).isoformat(),
        "incident_exact": True,
        "place": "Oxford Street",
        "loss_kind": "theft_from_person",
        "theft_method": "pickpocket",
        "contact_name": "Alex Example",
        "contact_phone": {"e164": "+447912345678", "region": "GB"},
        "preferred_channel": "call",
        "_history": [states.CONSENT, states.ACCOUNT],
    }
    base.update(answers)
    draft = DraftState(chat_id=victim.chat_id, user_id=victim.user.user_id, step=step, answers=base)
    await victim.register.drafts.save(draft)
    application.chat_data[victim.chat_id][LIVE] = draft.token
    return draft


async def age_draft(register: Register, chat_id: int, hours: float) -> None:
    """Make the chat's draft look idle for HOURS (its expiry moves back as well)."""
    async with register.db.write() as session:
        await session.execute(
            update(Draft)
            .where(Draft.chat_id == chat_id)
            .values(
                updated_at=utcnow() - timedelta(hours=hours),
                expires_at=utcnow() - timedelta(hours=hours) + register.drafts.ttl,
            )
        )


Check = Callable[[list[ChatMessage]], None]
