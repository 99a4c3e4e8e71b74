"""One update in a follow-up session: what it loaded, the wait it answers, the replies it earns.

A `Visit` is the follow-up's turn. The steps and actions it runs (handlers/followup/table.py)
read the session's report and wait from it, store through the register, and queue their replies
(`say`, `toast`); `flush` sends them once the handler is done: the button's answer first, then
the messages, each either a new message or (`edit`) in place of the one the button is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from handlers.context import BotContext
from handlers.engine.steps import Step
from handlers.followup import access, views, waiting
from handlers.followup.reading import view_parts
from handlers.texts import text
from models.services.reports import ReportView


@dataclass(slots=True)
class Reply:
    """A message to send, or (EDIT) to put in place of the one the button is on."""

    body: str
    keyboard: InlineKeyboardMarkup | None = None
    edit: bool = False


@dataclass(slots=True)
class Visit:
    """A follow-up session's update: its report, its reader's language, its wait, its replies."""

    context: BotContext
    chat_id: int
    session: access.Session
    report: ReportView
    language: str
    waits: Mapping[str, Step[Visit]]
    wait: dict[str, Any] | None = None
    pressed: str = ""
    query: CallbackQuery | None = None
    message: Message | None = None
    in_place: bool = False
    out: list[Reply] = field(default_factory=list)
    answer: tuple[str, bool] | None = None

    @property
    def token(self) -> str:
        """The session's token, which every button of this chat carries."""
        return self.session.token

    def t(self, key: str, **params: Any) -> str:
        """The follow-up text KEY in the reader's language."""
        return text(f"followup.{key}", self.language, **params)

    def say(self, body: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Queue BODY (in place of the pressed message while `in_place`)."""
        self.out.append(Reply(body, keyboard, edit=self.in_place and self.query is not None))

    def edit(self, body: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Queue BODY in place of the message whose button was pressed."""
        self.out.append(Reply(body, keyboard, edit=True))

    def toast(self, body: str, *, alert: bool = False) -> None:
        """Answer the button press with BODY (a pop-up when ALERT)."""
        self.answer = (body, alert)

    def refuse_ended(self) -> None:
        """Say the report has ended and can take nothing more."""
        label = views.status_label(self.report.status, self.language)
        self.toast(self.t("report_ended", status=label), alert=True)

    def cancel_keyboard(self) -> InlineKeyboardMarkup:
        """The Cancel button under a question."""
        return views.single("followup.button_cancel", views.CANCEL, self.token, self.language)

    def pair(self, first: tuple[str, str], second: tuple[str, str]) -> InlineKeyboardMarkup:
        """Two answers side by side, then Cancel."""
        return views.pair(first, second, self.token, self.language)

    def waiting_for(self, *kinds: str) -> bool:
        """Whether the chat waits for the answer to one of KINDS."""
        return self.wait is not None and self.wait["what"] in kinds

    def wait_for(self, kind: str, *, in_place: bool = False, **extra: Any) -> None:
        """Wait for the answer to KIND (its step) and ask it."""
        waiting.set_wait(self.context.chat_state, kind, self.token, **extra)
        self.wait = waiting.get_wait(self.context.chat_state)
        self.in_place = in_place
        self.waits[kind].ask(self)
        self.in_place = False

    def take_wait(self) -> dict[str, Any]:
        """The wait this update answers, ended (a second tap finds none)."""
        assert self.wait is not None
        waiting.clear_wait(self.context.chat_data)
        wait, self.wait = self.wait, None
        return wait

    async def choose(self) -> None:
        """The pressed button answers the waiting question: its step's choice handler."""
        assert self.wait is not None
        on_choice = self.waits[self.wait["what"]].on_choice
        if on_choice is None or not await on_choice(self, self.pressed):
            self.toast(self.t("session_expired"), alert=True)

    async def show(self, report: ReportView | None = None) -> None:
        """Queue the status view (of REPORT when fresher) in place of the pressed message."""
        body, keyboard = await view_parts(
            self.context, self.chat_id, report or self.report, self.token
        )
        self.edit(body, keyboard)

    async def flush(self) -> None:
        """Answer the press, then send (or edit) what was queued, in order."""
        if self.query is not None:
            if self.answer is None:
                await self.query.answer()
            else:
                await self.query.answer(self.answer[0], show_alert=self.answer[1])
        for reply in self.out:
            if reply.edit and self.query is not None:
                await _edit(self.query, reply)
            elif self.message is not None:
                await self.message.reply_text(reply.body, reply_markup=reply.keyboard)
            else:
                await self.context.bot.send_message(
                    self.chat_id, reply.body, reply_markup=reply.keyboard
                )


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    try:
        await query.edit_message_text(reply.body, reply_markup=reply.keyboard)
    except BadRequest as exc:
        # A second tap on Refresh: Telegram refuses an edit that changes nothing.
        if "not modified" not in exc.message.lower():
            raise
