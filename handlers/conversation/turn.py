"""One update's work on one chat's draft: what to store, then what to send, in that order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import BadRequest

from handlers.context import BotContext
from handlers.conversation import flow, keyboards, required
from handlers.conversation.states import CONSENT, EDIT_GROUPS, FINISHED, REVIEW
from handlers.engine import language
from handlers.engine.steps import Steps
from handlers.texts import split_message, text
from models.services.drafts import DraftState, Loaded

log = logging.getLogger("reportbot.conversation")

LIVE = "conversation_live"  # chat_data: the draft this process has been talking about
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
HISTORY = "_history"
EDITING = "_editing"


# Questions that stay on screen once answered (999 and the privacy notice): never edited away.
KEPT_QUESTIONS = frozenset({CONSENT})


@dataclass(slots=True)
class Outgoing:
    """A message to send once the draft is stored; KEEP: never in place of an answered question.

    What a victim must be able to scroll back to (the reference, the advice, a warning) is kept:
    it always comes as a message of its own.
    """

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    keep: bool = False


class Turn:
    """The draft of the chat an update came from, and the replies the update earns."""

    def __init__(self, update: Update, context: BotContext, loaded: Loaded) -> None:
        """Start the turn with the chat's draft as loaded."""
        self.update = update
        self.context = context
        self.draft = loaded.draft
        self.expired = loaded.expired
        self.out: list[Outgoing] = []
        self.dirty = False
        self.drop = False
        self.accepted_press = False
        self.pressed_step: str | None = None
        self.live_after = True

    @classmethod
    async def load(cls, update: Update, context: BotContext) -> Turn:
        """The turn for UPDATE, with its chat's draft read from the database."""
        assert update.effective_chat is not None
        loaded = await context.register.drafts.load(update.effective_chat.id)
        return cls(update, context, loaded)

    # --- who and which language --------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The private chat the conversation happens in."""
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    @property
    def user_id(self) -> int:
        """The Telegram account typing (in a private chat, the chat's other side)."""
        user = self.update.effective_user
        return user.id if user is not None else self.chat_id

    @property
    def lang(self) -> str:
        """The draft's language, else the chat's choice, else the account's, else English."""
        drafted = self.draft.answers.get("language") if self.draft is not None else None
        return language.of(self.update, self.context, drafted)

    @property
    def live(self) -> bool:
        """Whether this process has been talking with this chat about the current draft."""
        return self.draft is not None and self.context.chat_state.get(LIVE) == self.draft.token

    # --- texts and buttons -------------------------------------------------------------------

    def t(self, key: str, **params: object) -> str:
        """The conversation's text KEY in the chat's language."""
        return text(f"conversation.{key}", self.lang, **params)

    def send(
        self, html: str, keyboard: InlineKeyboardMarkup | None = None, *, keep: bool = False
    ) -> None:
        """Queue a message (already safe HTML), split at line ends if Telegram's limit needs it.

        KEEP: a message of its own, never edited in place of the question just answered.
        """
        parts = split_message(html)
        for part in parts[:-1]:
            self.out.append(Outgoing(part, keep=keep))
        self.out.append(Outgoing(parts[-1], keyboard, keep=keep))

    def say(
        self,
        key: str,
        keyboard: InlineKeyboardMarkup | None = None,
        *,
        keep: bool = False,
        **params: object,
    ) -> None:
        """Queue the text KEY (KEEP: as a message of its own, see `send`)."""
        self.send(self.t(key, **params), keyboard, keep=keep)

    def button(
        self, label_key: str, value: str, *, step: str | None = None
    ) -> InlineKeyboardButton:
        """A button of the current draft at STEP (default: the current step)."""
        return self.labelled(self.t(f"button_{label_key}"), value, step=step)

    def labelled(self, label: str, value: str, *, step: str | None = None) -> InlineKeyboardButton:
        """A button whose LABEL is not a catalogue key (network and language names)."""
        token = self.draft.token if self.draft is not None else keyboards.NO_DRAFT
        where = step or (self.draft.step if self.draft is not None else keyboards.ANY_STEP)
        return keyboards.button(label, token, where, value)

    def any_button(self, label_key: str, value: str) -> InlineKeyboardButton:
        """A button that works whatever the step (language, continue, clear...)."""
        return self.button(label_key, value, step=keyboards.ANY_STEP)

    def keyboard(
        self, buttons: list[InlineKeyboardButton], *, per_row: int = keyboards.PER_ROW
    ) -> InlineKeyboardMarkup | None:
        """The step's buttons, plus a way back to the review while an answer is edited."""
        extra = []
        if self.editing:
            extra.append(self.any_button("keep", "keep"))
        return keyboards.markup(keyboards.rows(buttons, per_row), [extra])

    # --- the draft ---------------------------------------------------------------------------

    @property
    def answers(self) -> dict[str, Any]:
        """The draft's answers (the draft must exist)."""
        assert self.draft is not None
        return self.draft.answers

    @property
    def editing(self) -> str | None:
        """The review group being edited, if any."""
        return self.draft.answers.get(EDITING) if self.draft is not None else None

    def set(self, **values: Any) -> None:
        """Store answers."""
        self.answers.update(values)
        self.dirty = True

    def unset(self, *names: str) -> None:
        """Forget answers."""
        for name in names:
            self.answers.pop(name, None)
        self.dirty = True

    def start_draft(self, first_step: str) -> None:
        """A new draft at FIRST_STEP; the old one's messages stay listed for clearing."""
        old = self.draft
        language = self.lang
        self.draft = DraftState(
            chat_id=self.chat_id,
            user_id=self.user_id,
            step=first_step,
            answers={"language": language},
        )
        if old is not None:
            self.draft.remember_messages(old.message_ids)
        self.dirty = True
        self.drop = False

    def ask(self) -> None:
        """Ask the current step's question."""
        assert self.draft is not None
        QUESTIONS[self.draft.step].ask(self)

    def goto(self, step: str) -> None:
        """Move to STEP (remembering where we were, for /back) and ask it."""
        assert self.draft is not None
        if step != self.draft.step:
            history = self.answers.setdefault(HISTORY, [])
            history.append(self.draft.step)
            del history[:-50]
            self.draft.step = step
        self.dirty = True
        self.ask()

    def advance(self, step: str) -> None:
        """Go on to STEP, or back to the review once an edited group is done."""
        group = self.editing
        if group is not None and step not in EDIT_GROUPS.get(group, ()):
            self.unset(EDITING)
            step = REVIEW
        if step == REVIEW:
            step = required.first_gap(self.answers) or REVIEW
        self.goto(step)

    def next(self, outcome: str = flow.NEXT) -> None:
        """Go on from the current step as flow.FLOW says for OUTCOME."""
        assert self.draft is not None
        self.advance(flow.target(self.draft.step, outcome))

    def back(self) -> bool:
        """Return to the previous question; False when there is none."""
        history = self.answers.get(HISTORY) or []
        if not history:
            return False
        assert self.draft is not None
        self.draft.step = history.pop()
        self.dirty = True
        self.ask()
        return True

    def discard(self) -> None:
        """Delete the draft at the end of this turn."""
        self.drop = True

    # --- the end of the turn -----------------------------------------------------------------

    def _incoming_id(self) -> int | None:
        message = self.update.message
        return message.message_id if message is not None else None

    async def finish(self) -> None:
        """Store the draft (one write), then send the replies, then note what was sent."""
        store = self.context.register.drafts
        query = self.update.callback_query
        language.remember(self.context, self.lang)
        incoming = self._incoming_id()
        if self.draft is not None and self.drop:
            await store.delete(self.chat_id)
            self.context.chat_state.pop(LIVE, None)
        elif self.draft is not None:
            # Saved even when unchanged: the write records the update and the message ids.
            self.draft.remember_messages([incoming] if incoming else [])
            await store.save(self.draft)
        out = list(self.out)
        if self.accepted_press and query is not None and query.message is not None:
            pressed = query.message.message_id
            if self._may_replace_pressed(out) and await self._edit(pressed, out[0]):
                out = out[1:]
            else:
                await self._remove_keyboard(pressed)
        sent: list[int] = []
        try:
            for message in out:
                reply = await self.context.bot.send_message(
                    self.chat_id,
                    message.html,
                    reply_markup=message.keyboard,
                    link_preview_options=NO_PREVIEW,
                )
                sent.append(reply.message_id)
        finally:
            if self.draft is not None and not self.drop:
                await store.note_sent(self.draft, sent)
                if self.draft.step in FINISHED:
                    await store.flush(self.chat_id)  # no next answer may come to carry them
                if self.live_after:
                    self.context.chat_state[LIVE] = self.draft.token

    def _may_replace_pressed(self, out: list[Outgoing]) -> bool:
        """Whether the question just answered by a button may become the first reply."""
        return bool(out) and not out[0].keep and self.pressed_step not in KEPT_QUESTIONS

    async def _edit(self, message_id: int, message: Outgoing) -> bool:
        """Turn the answered question MESSAGE_ID into MESSAGE; False if Telegram refuses."""
        try:
            await self.context.bot.edit_message_text(
                message.html,
                chat_id=self.chat_id,
                message_id=message_id,
                reply_markup=message.keyboard,
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest:
            # Too old to edit, or already showing exactly this: a new message instead.
            log.debug("could not edit message %s into the next question", message_id)
            return False
        return True

    async def _remove_keyboard(self, message_id: int) -> None:
        try:
            await self.context.bot.edit_message_reply_markup(
                self.chat_id, message_id, reply_markup=None
            )
        except BadRequest:
            # Already without buttons, or too old to edit: nothing to tidy.
            log.debug("could not remove the buttons of message %s", message_id)


# Every step of the conversation, declared by the module that asks it (see docs/engine.md).
QUESTIONS: Steps[Turn] = Steps()
question = QUESTIONS.declare
