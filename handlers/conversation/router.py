"""Dispatch by the draft's step: no in-memory conversation state, so restarts lose nothing."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest

from handlers.context import BotContext
from handlers.conversation import advice_menu, clear_chat, flow, keyboards, states, welcome
from handlers.conversation import cancel as cancelling
from handlers.conversation.inputs import BadAnswer
from handlers.conversation.keyboards import Press
from handlers.conversation.submit import show_filed
from handlers.conversation.turn import EDITING, QUESTIONS, Turn
from handlers.engine import language
from handlers.followup.status import read_in
from handlers.texts import describe, languages
from models.errors import RegisterError
from models.values.coordinates import check_point

log = logging.getLogger("reportbot.conversation")


def unfinished(turn: Turn) -> bool:
    """Whether the chat has a draft with questions still to answer."""
    return turn.draft is not None and turn.draft.step not in states.FINISHED


def is_replay(turn: Turn) -> bool:
    """Whether this message was handled already (Telegram delivered it again)."""
    message = turn.update.message
    return (
        message is not None
        and turn.draft is not None
        and message.message_id in turn.draft.message_ids
    )


def start_new(turn: Turn) -> None:
    """A fresh draft, from the first question."""
    turn.start_draft(flow.FIRST)
    turn.ask()


def reask(turn: Turn, key: str, **params: object) -> None:
    """Say what was wrong, then ask the current question again."""
    turn.send(turn.t(key, **params))
    turn.ask()


def refuse(turn: Turn, error: RegisterError) -> None:
    """Say in the victim's language why the register cannot take the answer, then re-ask."""
    turn.send(describe(error, turn.lang))
    turn.ask()


async def on_message(update: Update, context: BotContext) -> None:
    """Anything but a command in a private chat: an answer, or the way into the conversation."""
    turn = await Turn.load(update, context)
    if is_replay(turn):
        return
    if turn.draft is None:
        if turn.expired:
            turn.say("expired", hours=context.config.draft_ttl_hours)
        start_new(turn)
    elif turn.draft.step in states.FINISHED:
        turn.ask()
    elif not turn.live:
        welcome.offer_resume(turn)
    else:
        assert update.message is not None
        await answer(turn, update.message)
    await turn.finish()


async def answer(turn: Turn, message: Message) -> None:
    """Give the message to the current step, or re-ask politely if it cannot take it."""
    assert turn.draft is not None
    step = QUESTIONS[turn.draft.step]
    wrong_kind = step.wrong_kind
    try:
        if message.text is not None and step.on_text is not None:
            await step.on_text(turn, message.text)
        elif message.location is not None and step.on_location is not None:
            point = check_point(message.location.latitude, message.location.longitude)
            await step.on_location(turn, point.lat, point.lon)
        elif message.document is not None and step.on_document is not None:
            await step.on_document(turn, message.document)
        elif message.contact is not None and step.name == states.CONTACT_PHONE:
            reask(turn, "contact_type_it")
        elif message.location is not None and step.on_text is not None:
            reask(turn, "no_pin_here")
        else:
            reask(turn, wrong_kind)
    except BadAnswer as problem:
        reask(turn, problem.key, **problem.params)
    except RegisterError as problem:  # e.g. a pin off the map, or 0,0: never stored
        refuse(turn, problem)


async def on_button(update: Update, context: BotContext) -> None:
    """A press on one of the conversation's buttons, however old."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer()  # first: the spinner stops even if what follows takes a while
    except BadRequest:
        log.info("could not answer a callback query (too old)")
    if update.effective_chat is None:
        return  # not from a chat (our buttons are only ever in private chats)
    press = keyboards.parse(query.data)
    turn = await Turn.load(update, context)
    if press is None:
        stale(turn)
    elif press.token == keyboards.NO_DRAFT:
        await anywhere(turn, press)
    elif turn.draft is None or press.token != turn.draft.token:
        stale(turn, other_report=True)
    elif press.step == keyboards.ANY_STEP:
        await anywhere(turn, press)
    elif press.step != turn.draft.step:
        if press.step == states.REVIEW and press.value == "submit" and turn.draft.report_id:
            show_filed(turn)  # a second tap on Submit: the one report, shown again
        else:
            stale(turn)
    else:
        await choose(turn, press)
    await turn.finish()


async def choose(turn: Turn, press: Press) -> None:
    """A button of the current question."""
    step = QUESTIONS[press.step]
    try:
        accepted = step.on_choice is not None and await step.on_choice(turn, press.value)
    except BadAnswer as problem:
        reask(turn, problem.key, **problem.params)
        return
    except RegisterError as problem:
        refuse(turn, problem)
        return
    if accepted:
        turn.accepted_press = True
        turn.pressed_step = press.step
    else:
        stale(turn)


def stale(turn: Turn, *, other_report: bool = False) -> None:
    """A button from an older message, question or report: say so and ask what is current."""
    if turn.draft is not None:
        reask(turn, "old_report_button" if other_report else "old_button")
    else:
        key = "expired_button" if turn.expired else "old_button"
        turn.say(key, turn.keyboard([turn.any_button("new_report", "new")]))


async def anywhere(turn: Turn, press: Press) -> None:
    """Buttons that work at any step: continue, start again, language, keep, clear, cancel..."""
    value = press.value
    if value.startswith("adv:"):
        platform = value.removeprefix("adv:")
        advice_menu.show(turn, platform)
        if unfinished(turn):
            turn.ask()
    elif value.startswith("lang:") and value.removeprefix("lang:") in languages():
        await choose_language(turn, value.removeprefix("lang:"))
    elif value == "language":
        welcome.offer_languages(turn)
    elif (value == "new" and not unfinished(turn)) or (
        value == "restart" and turn.draft is not None
    ):
        start_new(turn)
    elif value == "continue" and unfinished(turn):
        turn.ask()
    elif value == "keep" and turn.editing:
        turn.unset(EDITING)
        turn.goto(states.REVIEW)
    elif value == "clear" and turn.draft is not None:
        clear_chat.confirm(turn)
    elif value == "clear_yes" and turn.draft is not None:
        await clear_chat.clear(turn)
    elif value == "clear_no":
        clear_chat.keep(turn)
    elif value == cancelling.YES:
        cancelling.cancel(turn)
    elif value == cancelling.NO:
        cancelling.keep(turn)
    else:
        stale(turn)


async def choose_language(turn: Turn, code: str) -> None:
    """Switch language, then carry on in it: the same question, or the report this chat follows."""
    language.remember(turn.context, code, by_hand=True)
    if turn.draft is not None:
        turn.set(language=code)
        if turn.draft.step == states.FILED and turn.draft.report_id is not None:
            # The report just filed here: its updates to this chat follow the new choice.
            subscriptions = turn.context.register.subscriptions
            await subscriptions.choose_language(turn.draft.report_id, turn.chat_id, code)
    turn.say("language_set")
    followed = await read_in(turn.context, turn.chat_id, code)
    if followed is not None and followed.question:
        # The follow-up asked last (its wait ends on any other command or button): the chat's
        # next message answers that question, so it is the one asked again, even mid-report.
        turn.send(followed.body, followed.keyboard)
    elif unfinished(turn):
        turn.ask()
    elif followed is not None:
        turn.send(followed.body, followed.keyboard)
