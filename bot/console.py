"""Console mode: the real Application and handlers, offline, one user message per input line.

The bot's messages are printed as plain text with their buttons numbered (`[1] Apple`); a button
is pressed by typing its number or its label, `location: LAT,LON` shares a location pin, and
anything else (commands included) is sent as a message. Lines starting with `#` are comments,
so that scripts can explain themselves. End of input ends the session.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TextIO

from bot.app import CONSOLE_TOKEN, build_application
from bot.local_api import ChatMessage, LocalBotApi, LocalUser
from bot.runtime import open_register
from bot.settings import Settings

PROMPT = "> "
# Telegram takes at most this many characters in one message; a longer line is cut here.
MAX_MESSAGE = 4096
# An input line is read at most this much at a time, so endless input never fills memory.
READ_CHUNK = 65_536
# Button numbers are short: a long run of digits is text (and int() refuses 4,300+ digits).
MAX_BUTTON_DIGITS = 3

log = logging.getLogger("reportbot.console")
_LOCATION = re.compile(r"location:\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", re.IGNORECASE)


class ConsoleBotApi(LocalBotApi):
    """The local Bot API, numbering messages after those of an earlier console session."""

    def __init__(self, first_message_id: int = 1) -> None:
        """Number each chat's messages from FIRST_MESSAGE_ID."""
        super().__init__()
        self._first = first_message_id
        self._next: dict[int, int] = {}

    def next_message_id(self, chat_id: int) -> int:
        """The next message id in CHAT_ID; ids never repeat those a resumed draft remembers."""
        message_id = self._next.get(chat_id, self._first)
        self._next[chat_id] = message_id + 1
        return message_id


class _PlainText(HTMLParser):
    """Telegram HTML to terminal text: tags dropped, links followed by their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember where a link points."""
        if tag == "a":
            self._links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        """After a link's label, its address (unless the label is the address)."""
        if tag == "a" and self._links:
            href = self._links.pop()
            if href and not "".join(self.parts).endswith(href):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        """Keep the text."""
        self.parts.append(data)


def plain_text(text: str) -> str:
    """What a Telegram client shows for TEXT sent with HTML parse mode, without the styling."""
    parser = _PlainText()
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


def render(message: ChatMessage) -> str:
    """A bot message for the terminal: its text, then its buttons numbered row by row."""
    lines = [plain_text(message.text or "")]
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    number = 0
    for row in rows:
        labels = []
        for button in row:
            number += 1
            labels.append(f"[{number}] {button['text']}")
        lines.append("  ".join(labels))
    return "\n".join(lines)


def _words(text: str) -> str:
    """TEXT compared loosely: any case, any dash, leading emoji and spaces ignored."""
    unified = "".join("-" if unicodedata.category(char) == "Pd" else char for char in text)
    words = " ".join(unified.split()).casefold()
    start = next((i for i, char in enumerate(words) if char.isalnum()), len(words))
    return words[start:]


def _same(label: str, typed: str) -> bool:
    return _words(label) == _words(typed)


@dataclass
class Console:
    """One person at the terminal, talking to the application through the local Bot API."""

    user: LocalUser
    api: LocalBotApi
    out: TextIO
    shown: dict[int, str | None] = field(default_factory=dict)

    def _keyboards(self) -> list[ChatMessage]:
        """Bot messages with buttons, newest first."""
        return [m for m in reversed(self.api.bot_messages(self.user.chat_id)) if m.buttons]

    def button_for(self, typed: str) -> tuple[str, ChatMessage] | None:
        """The button TYPED names: a number or a label on the newest keyboard, else any label."""
        keyboards = self._keyboards()
        if not keyboards:
            return None
        newest = keyboards[0]
        # isdecimal(), not isdigit(): "²" is a digit that int() refuses.
        if typed.isdecimal() and len(typed) <= MAX_BUTTON_DIGITS:
            number = int(typed)
            if 1 <= number <= len(newest.buttons):
                return newest.buttons[number - 1][1], newest
        for message in keyboards:
            for label, data in message.buttons:
                if _same(label, typed):
                    return data, message
        return None

    async def handle(self, line: str) -> None:
        """Act on one input line, then print what the bot answered."""
        deleted_before = self._deleted()
        location = _LOCATION.fullmatch(line)
        button = None if location else self.button_for(line)
        if location:
            await self.user.send_location(float(location.group(1)), float(location.group(2)))
        elif line.lower().startswith("location:"):
            self.print("(console: type a location as  location: 51.5142, -0.1494)")
            return
        elif button is not None:
            await self.user.press_data(*button)
        else:
            await self.user.send(line)
        self.print_new(self._deleted() - deleted_before)

    def _deleted(self) -> int:
        return sum(m.deleted for m in self.api.chats.get(self.user.chat_id, {}).values())

    def print_new(self, deleted: int = 0) -> None:
        """Print the bot's new messages (and the ones whose text it edited)."""
        if deleted:
            self.print(f"({deleted} messages deleted from this chat)")
        for message in self.api.bot_messages(self.user.chat_id):
            if message.message_id in self.shown and self.shown[message.message_id] == message.text:
                continue
            edited = message.message_id in self.shown
            self.shown[message.message_id] = message.text
            self.print(("(edited) " if edited else "") + render(message))

    def print(self, text: str) -> None:
        """Write TEXT and a blank line, at once."""
        self.out.write(text + "\n\n")
        self.out.flush()


async def run_console(
    settings: Settings,
    stdin: TextIO,
    stdout: TextIO,
    *,
    user_id: int | None = None,
    first_name: str = "Sam",
    language_code: str | None = "en",
) -> int:
    """Talk to the bot on the configured database until the input ends; returns the exit code."""
    register = await open_register(settings)
    try:
        person = user_id if user_id is not None else 10**12 + secrets.randbelow(10**12)
        draft = await register.drafts.get(person)
        api = ConsoleBotApi(max(draft.message_ids, default=0) + 1 if draft else 1)
        application = build_application(
            settings, register, request=api, token=CONSOLE_TOKEN, with_updater=False
        )
        await application.initialize()
        try:
            user = LocalUser(
                application,
                api,
                user_id=person,
                first_name=first_name,
                language_code=language_code,
            )
            console = Console(user, api, stdout)
            await _session(console, stdin, echo=not stdin.isatty())
        finally:
            await application.shutdown()
    finally:
        await register.close()
    return 0


async def _session(console: Console, stdin: TextIO, *, echo: bool) -> None:
    console.print(
        "Console mode: you are a user in a private chat with the bot. Type a message, a button's "
        "number or label, or  location: LAT,LON. Ctrl-D ends. Try /start."
    )
    while True:
        console.out.write(PROMPT)
        console.out.flush()
        line, cut = await asyncio.to_thread(read_line, stdin)
        if line is None:
            console.out.write("\n")
            console.out.flush()
            return
        text = line.strip()
        if echo:
            console.out.write(text + "\n")
        if cut:
            console.print(f"(console: a message holds at most {MAX_MESSAGE} characters; cut)")
        if not text or text.startswith("#"):
            continue
        try:
            await console.handle(text)
        except Exception:
            # Whatever was typed, the session goes on; the traceback goes to the log.
            log.exception("console input could not be handled")
            console.print("(console: that input could not be handled; see the log)")


def read_line(stdin: TextIO) -> tuple[str | None, bool]:
    """The next input line (None at the end) and whether it was cut to MAX_MESSAGE characters.

    Reads in bounded chunks: a line without end (a binary file, /dev/zero) costs no more memory
    than one chunk.
    """
    line = stdin.readline(READ_CHUNK)
    if not line:
        return None, False
    rest = line
    while not rest.endswith("\n") and len(rest) == READ_CHUNK:
        rest = stdin.readline(READ_CHUNK)
    text = line.rstrip("\n")
    if len(text) > MAX_MESSAGE or rest is not line:
        return text[:MAX_MESSAGE], True
    return text, False
