"""The follow-up's exchange in one table: what each button does, and each question it waits on.

Read top to bottom. `BUTTONS` maps a button's action code (`f:<action>:<session token>`) to its
handler and the needs checked first; `WAITS` declares each question whose answer is the chat's
next message (or a button under it) as a `Step`: how it is asked (again in a new language after
/language) and the kinds of answer it takes. A button whose session ran out, or whose code is not
in the table, is stale: "send /status again".
"""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.engine.actions import Action, Actions
from handlers.engine.steps import Steps
from handlers.followup import access, actions, crime, views, waiting
from handlers.followup.reading import reading_language, user_language
from handlers.followup.visit import Visit
from handlers.texts import text

WAITS: Steps[Visit] = Steps()
WAITS.declare(waiting.IMEI, actions.ask_imei, on_text=actions.typed_imei)
WAITS.declare(
    waiting.IMEI_CHECK,
    actions.ask_imei_check,
    on_text=actions.typed_imei,  # typing another IMEI reads that one back instead
)
WAITS.declare(
    waiting.LOCATION,
    actions.ask_location,
    on_text=actions.typed_place,
    on_location=actions.pinned_place,
)
WAITS.declare(
    waiting.LOCATION_TIME,
    actions.ask_location_time,
    on_text=actions.typed_time,
    on_choice=actions.chosen_time,
)
WAITS.declare(waiting.CRIME, crime.ask_crime, on_text=crime.typed_crime)
WAITS.declare(
    waiting.FORCE, crime.ask_force, on_text=crime.typed_force, on_choice=crime.force_unknown
)


async def _choose(visit: Visit) -> None:
    await visit.choose()


BUTTONS: Actions[Visit] = Actions(
    Action(views.SUBSCRIBE, actions.subscribe),
    Action(views.UNSUBSCRIBE, actions.unsubscribe),
    Action(views.REFRESH, actions.refresh),
    Action(views.WITHDRAW, actions.ask_withdraw, (actions.can_withdraw,)),
    Action(views.WITHDRAW_YES, actions.withdraw),
    Action(views.WITHDRAW_NO, actions.refresh),
    Action(views.ADD_IMEI, actions.add_imei, (actions.room_for_imei,)),
    Action(views.IMEI_YES, actions.imei_confirmed, (actions.waiting_for(waiting.IMEI_CHECK),)),
    Action(views.IMEI_NO, actions.retype_imei, (actions.room_for_imei,)),
    Action(views.ADD_LOCATION, actions.add_location, (actions.report_open,)),
    Action(views.TIME_NOW, _choose, (actions.waiting_for(waiting.LOCATION_TIME),)),
    Action(views.TIME_HOUR, _choose, (actions.waiting_for(waiting.LOCATION_TIME),)),
    Action(views.ADD_CRIME, crime.add_crime, (crime.crime_allowed,)),
    Action(views.FORCE_UNKNOWN, _choose, (actions.waiting_for(waiting.FORCE),)),
    Action(views.CANCEL, actions.cancel),
)


async def _visit(
    context: BotContext, chat_id: int, token: str, wait: dict | None = None
) -> Visit | None:
    """The visit of session TOKEN, or None (and the session forgotten) when it is gone."""
    session = access.get_session(context.chat_data, token)
    return await visit_of(context, chat_id, session, wait) if session is not None else None


async def visit_of(
    context: BotContext, chat_id: int, held: access.Session, wait: dict | None = None
) -> Visit | None:
    """The visit of the session HELD, its report read once; None (and the session forgotten)
    when the report is gone."""
    report = await context.register.reports.get(held.reference)
    if report is None:
        access.end_session(context.chat_data, held.token)
        return None
    language = await reading_language(context, chat_id, report)
    return Visit(context, chat_id, held, report, language, WAITS, wait=wait)


async def on_button(update: Update, context: BotContext) -> None:
    """A follow-up button: re-check the session, then do what the table says."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    parsed = access.parse_callback(query.data or "")
    wait = waiting.get_wait(context.chat_data)
    visit = await _visit(context, chat.id, parsed[1], wait) if parsed else None
    if parsed is None or visit is None:
        expired = text("followup.session_expired", user_language(update, context))
        await query.answer(expired, show_alert=True)
        return
    visit.query = query
    visit.pressed = parsed[0]
    if not await BUTTONS.dispatch(visit, parsed[0]):
        visit.toast(visit.t("session_expired"), alert=True)
    await visit.flush()


async def on_input(update: Update, context: BotContext) -> None:
    """The answer to the question the follow-up asked last (IMEI, place, time, crime...)."""
    message = update.message
    chat = update.effective_chat
    assert message is not None and chat is not None
    wait = waiting.get_wait(context.chat_data)
    visit = await _visit(context, chat.id, wait["token"], wait) if wait else None
    if wait is None or visit is None:
        waiting.clear_wait(context.chat_data)
        await message.reply_text(text("followup.session_expired", user_language(update, context)))
        return
    visit.message = message
    step = WAITS[wait["what"]]
    location = message.location
    if location is not None and step.on_location is not None:
        await step.on_location(visit, location.latitude, location.longitude)
    elif step.on_text is not None:
        await step.on_text(visit, message.text or "")
    await visit.flush()


def reask(visit: Visit) -> tuple[str, object] | None:
    """The question VISIT waits on, asked again (in its language); None when it waits on none."""
    if visit.wait is None:
        return None
    WAITS[visit.wait["what"]].ask(visit)
    [reply] = visit.out
    return reply.body, reply.keyboard
