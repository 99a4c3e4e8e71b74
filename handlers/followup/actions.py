"""The status view's buttons and the answers they ask for: updates, IMEI, location, withdraw."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from handlers.common import chosen_language
from handlers.context import BotContext
from handlers.engine import clock
from handlers.engine.answers import BadAnswer
from handlers.engine.cleaning import clean_text
from handlers.followup import access, crime, views, waiting
from handlers.followup.status import reading_language, user_language, view_parts
from handlers.i18n.moments import UnclearMoment, parse_moment
from handlers.texts import Html, describe, text
from models.services.followup import Change
from models.services.reports import ReportView
from models.values.coordinates import BadCoordinates, check_point
from models.values.freetext import has_words
from models.values.imei import Imei, InvalidImei
from models.values.statuses import OPEN, Status, allowed_next

MAX_PLACE = 200
MIN_PLACE = 2


async def _edit(query: CallbackQuery, body: str, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(body, reply_markup=keyboard)
    except BadRequest as exc:
        # A second tap on Refresh: Telegram refuses an edit that changes nothing.
        if "not modified" not in exc.message.lower():
            raise


async def _show(
    query: CallbackQuery, context: BotContext, chat_id: int, report: ReportView, token: str
) -> None:
    body, keyboard = await view_parts(context, chat_id, report, token)
    await _edit(query, body, keyboard)


async def on_button(update: Update, context: BotContext) -> None:
    """A follow-up button: re-check the session, then do what it says."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    parsed = access.parse_callback(query.data or "")
    session = access.get_session(context.chat_data, parsed[1]) if parsed else None
    report = await context.register.reports.get(session.reference) if session else None
    if parsed is None or session is None or report is None:
        if session is not None:
            access.end_session(context.chat_data, session.token)
        await query.answer(
            text("followup.session_expired", user_language(update, context)), show_alert=True
        )
        return
    action = parsed[0]
    language = await reading_language(context, chat.id, report)
    register = context.register
    token = session.token
    if action == views.SUBSCRIBE:
        await register.subscriptions.subscribe(
            report.id, chat.id, via=session.via, language=chosen_language(context)
        )
        await query.answer(text("followup.subscribed", language))
        await _show(query, context, chat.id, report, token)
    elif action == views.UNSUBSCRIBE:
        await register.subscriptions.unsubscribe(report.id, chat.id)
        await query.answer(text("followup.unsubscribed", language))
        await _show(query, context, chat.id, report, token)
    elif action in (views.REFRESH, views.WITHDRAW_NO):
        await query.answer()
        await _show(query, context, chat.id, report, token)
    elif action == views.WITHDRAW:
        if Status.WITHDRAWN not in allowed_next(report.status):
            await _refuse_ended(query, report, language)
            return
        await query.answer()
        await _edit(
            query,
            text("followup.withdraw_confirm", language, reference=report.reference),
            views.withdraw_keyboard(token, language),
        )
    elif action == views.WITHDRAW_YES:
        await _withdraw(query, context, chat.id, report, token, language)
    elif action in (views.ADD_IMEI, views.IMEI_NO):
        await _ask_imei(query, context, report, token, language, edit=action == views.IMEI_NO)
    elif action == views.IMEI_YES:
        await _add_imei(query, context, report, language)
    elif action == views.ADD_LOCATION:
        await _ask_location(query, context, report, token, language)
    elif action in (views.TIME_NOW, views.TIME_HOUR):
        ago = timedelta(hours=1) if action == views.TIME_HOUR else timedelta(0)
        await _located(query, context, report, clock.now() - ago, language)
    elif action in crime.ACTIONS:
        if not await crime.on_button(query, context, report, token, language, action):
            await _refuse_ended(query, report, language)
    elif action == views.CANCEL:
        waiting.clear_wait(context.chat_data)
        await query.answer()
        await _edit(query, text("followup.nothing_changed", language), None)
    else:
        await query.answer(text("followup.session_expired", language), show_alert=True)


async def _refuse_ended(query: CallbackQuery, report: ReportView, language: str | None) -> None:
    label = views.status_label(report.status, language)
    await query.answer(text("followup.report_ended", language, status=label), show_alert=True)


async def _withdraw(
    query: CallbackQuery,
    context: BotContext,
    chat_id: int,
    report: ReportView,
    token: str,
    language: str | None,
) -> None:
    outcome = await context.register.followup.withdraw(report.reference)
    if outcome is not Change.DONE:
        await _refuse_ended(query, report, language)
        return
    police = context.config.non_emergency_number
    await query.answer(
        text("followup.withdrawn", language, reference=report.reference, police=police),
        show_alert=True,
    )
    fresh = await context.register.reports.get(report.reference)
    if fresh is not None:
        await _show(query, context, chat_id, fresh, token)


async def _ask_imei(
    query: CallbackQuery,
    context: BotContext,
    report: ReportView,
    token: str,
    language: str | None,
    *,
    edit: bool,
) -> None:
    if not views.can_add_imei(report):
        if report.status in OPEN:
            await query.answer(
                text("followup.imei_full", language, reference=report.reference), show_alert=True
            )
        else:
            await _refuse_ended(query, report, language)
        return
    waiting.set_wait(context.chat_state, waiting.IMEI, token)
    await query.answer()
    body = text("followup.ask_imei", language)
    keyboard = views.single("followup.button_cancel", views.CANCEL, token, language)
    if edit:
        await _edit(query, body, keyboard)
    else:
        await context.bot.send_message(report_chat(query), body, reply_markup=keyboard)


def report_chat(query: CallbackQuery) -> int:
    """The chat a button was pressed in."""
    assert query.message is not None
    return query.message.chat.id


async def _add_imei(
    query: CallbackQuery, context: BotContext, report: ReportView, language: str | None
) -> None:
    wait = waiting.get_wait(context.chat_data)
    if wait is None or wait["what"] != waiting.IMEI_CHECK:
        # A second tap after the IMEI was added, or a wait that ran out.
        await query.answer()
        return
    waiting.clear_wait(context.chat_data)
    added = await context.register.followup.add_imei(report.reference, Imei(wait["imei"]))
    keys = {
        Change.DONE: "followup.imei_added",
        Change.ALREADY: "followup.imei_already",
        Change.FULL: "followup.imei_full",
    }
    if added.change not in keys:
        await _refuse_ended(query, report, language)
        return
    await query.answer()
    await _edit(query, text(keys[added.change], language, reference=report.reference), None)


async def _ask_location(
    query: CallbackQuery,
    context: BotContext,
    report: ReportView,
    token: str,
    language: str | None,
) -> None:
    if report.status not in OPEN:
        await _refuse_ended(query, report, language)
        return
    waiting.set_wait(context.chat_state, waiting.LOCATION, token)
    await query.answer()
    await context.bot.send_message(
        report_chat(query),
        text("followup.ask_location", language),
        reply_markup=views.single("followup.button_cancel", views.CANCEL, token, language),
    )


async def _located(
    query: CallbackQuery,
    context: BotContext,
    report: ReportView,
    seen_at: datetime,
    language: str | None,
) -> None:
    wait = waiting.get_wait(context.chat_data)
    if wait is None or wait["what"] != waiting.LOCATION_TIME:
        await query.answer()
        return
    body = await _save_location(context, report, wait, seen_at, language)
    await query.answer()
    await _edit(query, body, None)


async def _save_location(
    context: BotContext,
    report: ReportView,
    wait: dict,
    seen_at: datetime,
    language: str | None,
) -> str:
    waiting.clear_wait(context.chat_data)
    outcome = await context.register.followup.add_tracked_location(
        report.reference,
        seen_at=seen_at,
        latitude=wait.get("lat"),
        longitude=wait.get("lon"),
        place=wait.get("place"),
    )
    if outcome is not Change.DONE:
        label = views.status_label(report.status, language)
        return text("followup.report_ended", language, status=label)
    return text(
        "followup.location_added",
        language,
        reference=report.reference,
        emergency=context.config.emergency_number,
    )


# --- the answers typed (or shared) while a question waits -------------------------------------


async def on_input(update: Update, context: BotContext) -> None:
    """The answer to the question the follow-up asked last (IMEI, place, time)."""
    message = update.message
    assert message is not None
    wait = waiting.get_wait(context.chat_data)
    session = access.get_session(context.chat_data, wait["token"]) if wait else None
    report = await context.register.reports.get(session.reference) if session else None
    if wait is None or session is None or report is None:
        waiting.clear_wait(context.chat_data)
        await message.reply_text(text("followup.session_expired", user_language(update, context)))
        return
    assert update.effective_chat is not None
    language = await reading_language(context, update.effective_chat.id, report)
    if wait["what"] in (waiting.IMEI, waiting.IMEI_CHECK):
        await _typed_imei(message, context, session.token, language)
    elif wait["what"] == waiting.LOCATION:
        await _typed_location(message, context, session.token, language)
    elif wait["what"] in crime.WAITS:
        await crime.on_input(message, context, report, wait, language)
    else:
        await _typed_time(message, context, report, wait, language)


async def _typed_imei(
    message: Message, context: BotContext, token: str, language: str | None
) -> None:
    cancel = views.single("followup.button_cancel", views.CANCEL, token, language)
    if not message.text:
        await message.reply_text(text("followup.imei_not_text", language), reply_markup=cancel)
        return
    try:
        imei = Imei.parse(message.text[:100])
    except InvalidImei as exc:
        await message.reply_text(
            text("followup.imei_bad", language, reason=Html(describe(exc, language))),
            reply_markup=cancel,
        )
        return
    waiting.set_wait(context.chat_state, waiting.IMEI_CHECK, token, imei=imei.digits)
    await message.reply_text(
        text("followup.imei_check", language, grouped=imei.grouped),
        reply_markup=views.pair(
            ("followup.button_imei_yes", views.IMEI_YES),
            ("followup.button_imei_no", views.IMEI_NO),
            token,
            language,
        ),
    )


def clean_place(typed: str) -> str | None:
    """A typed place, tidied by the one cleaner, or None when it cannot be kept (or says
    nothing: emoji, digits or punctuation alone)."""
    try:
        place = clean_text(typed, max_length=MAX_PLACE, min_length=MIN_PLACE)
    except BadAnswer:
        return None
    return place if has_words(place) else None


async def _typed_location(
    message: Message, context: BotContext, token: str, language: str | None
) -> None:
    place = clean_place(message.text) if message.text else None
    location = message.location
    if location is None and place is None:
        await message.reply_text(
            text("followup.location_bad", language, max=MAX_PLACE),
            reply_markup=views.single("followup.button_cancel", views.CANCEL, token, language),
        )
        return
    point = None
    if location is not None:
        try:
            point = check_point(location.latitude, location.longitude)
        except BadCoordinates as exc:
            await message.reply_text(
                describe(exc, language),
                reply_markup=views.single("followup.button_cancel", views.CANCEL, token, language),
            )
            return
    waiting.set_wait(
        context.chat_state,
        waiting.LOCATION_TIME,
        token,
        lat=point.lat if point else None,
        lon=point.lon if point else None,
        place=place,
    )
    await message.reply_text(
        text("followup.ask_location_time", language),
        reply_markup=views.pair(
            ("followup.button_time_now", views.TIME_NOW),
            ("followup.button_time_hour", views.TIME_HOUR),
            token,
            language,
        ),
    )


def parse_time_today(
    typed: str, language: str | None, *, now: datetime, zone: tzinfo
) -> datetime | None:
    """A typed time (or day and time) in the register's ZONE, never in the future; else None."""
    try:
        return parse_moment(typed, language, now=now, zone=zone).at
    except UnclearMoment:
        return None


async def _typed_time(
    message: Message,
    context: BotContext,
    report: ReportView,
    wait: dict,
    language: str | None,
) -> None:
    seen_at = parse_time_today(
        message.text or "", language, now=clock.now(), zone=context.config.zone
    )
    if seen_at is None:
        await message.reply_text(
            text("followup.location_time_bad", language),
            reply_markup=views.pair(
                ("followup.button_time_now", views.TIME_NOW),
                ("followup.button_time_hour", views.TIME_HOUR),
                wait["token"],
                language,
            ),
        )
        return
    await message.reply_text(await _save_location(context, report, wait, seen_at, language))
