"""What the status view's buttons do, and the questions they ask: updates, IMEI, place, withdraw.

Each function here is one entry of the table in handlers/followup/table.py: an action (a
button's handler), a need (a check before it), or a question's ask and answers. They read and
store through the visit and queue their replies on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from telegram import InlineKeyboardMarkup

from handlers.common import chosen_language
from handlers.engine import clock
from handlers.engine.answers import BadAnswer
from handlers.engine.cleaning import clean_text
from handlers.followup import views, waiting
from handlers.followup.visit import Visit
from handlers.i18n.moments import UnclearMoment, parse_moment
from handlers.texts import Html, describe
from models.services.followup import Change
from models.values.coordinates import BadCoordinates, check_point
from models.values.freetext import has_words
from models.values.imei import Imei, InvalidImei
from models.values.statuses import OPEN, Status, allowed_next

MAX_PLACE = 200
MIN_PLACE = 2
IMEI_CHANGES = {
    Change.DONE: "imei_added",
    Change.ALREADY: "imei_already",
    Change.FULL: "imei_full",
}


# --- needs: checked before an action runs; each says why not ----------------------------------


def report_open(visit: Visit) -> bool:
    """The report can still take additions."""
    if visit.report.status in OPEN:
        return True
    visit.refuse_ended()
    return False


def can_withdraw(visit: Visit) -> bool:
    """The report may still be withdrawn."""
    if Status.WITHDRAWN in allowed_next(visit.report.status):
        return True
    visit.refuse_ended()
    return False


def room_for_imei(visit: Visit) -> bool:
    """The report is open and holds fewer IMEIs than it may."""
    if views.can_add_imei(visit.report):
        return True
    if visit.report.status in OPEN:
        visit.toast(visit.t("imei_full", reference=visit.report.reference), alert=True)
    else:
        visit.refuse_ended()
    return False


def waiting_for(*kinds: str) -> Callable[[Visit], bool]:
    """The need: the chat still waits for the answer to one of KINDS (else a quiet answer: a
    second tap, or a wait that ran out)."""

    def need(visit: Visit) -> bool:
        return visit.waiting_for(*kinds)

    return need


# --- the status view's own buttons ------------------------------------------------------------


async def subscribe(visit: Visit) -> None:
    """Updates on: this chat follows the report, in the language it reads."""
    await visit.context.register.subscriptions.subscribe(
        visit.report.id,
        visit.chat_id,
        via=visit.session.via,
        language=chosen_language(visit.context),
    )
    visit.toast(visit.t("subscribed"))
    await visit.show()


async def unsubscribe(visit: Visit) -> None:
    """Updates off."""
    await visit.context.register.subscriptions.unsubscribe(visit.report.id, visit.chat_id)
    visit.toast(visit.t("unsubscribed"))
    await visit.show()


async def refresh(visit: Visit) -> None:
    """The status view again, as it stands now."""
    await visit.show()


async def ask_withdraw(visit: Visit) -> None:
    """Ask whether to withdraw, in place of the view."""
    body = visit.t("withdraw_confirm", reference=visit.report.reference)
    visit.edit(body, views.withdraw_keyboard(visit.token, visit.language))


async def withdraw(visit: Visit) -> None:
    """Withdraw the report (confirmed), then show it as it now stands."""
    register = visit.context.register
    reference = visit.report.reference
    if await register.followup.withdraw(reference) is not Change.DONE:
        visit.refuse_ended()
        return
    police = visit.context.config.non_emergency_number
    visit.toast(visit.t("withdrawn", reference=reference, police=police), alert=True)
    fresh = await register.reports.get(reference)
    if fresh is not None:
        await visit.show(fresh)


async def cancel(visit: Visit) -> None:
    """Stop waiting; nothing changed."""
    waiting.clear_wait(visit.context.chat_data)
    visit.edit(visit.t("nothing_changed"))


# --- the IMEI: typed, read back, confirmed ----------------------------------------------------


async def add_imei(visit: Visit) -> None:
    """Ask for the IMEI in a new message."""
    visit.wait_for(waiting.IMEI)


async def retype_imei(visit: Visit) -> None:
    """ "No, type it again": ask again, in place of the read-back."""
    visit.wait_for(waiting.IMEI, in_place=True)


def ask_imei(visit: Visit) -> None:
    """Send the phone's IMEI."""
    visit.say(visit.t("ask_imei"), visit.cancel_keyboard())


async def typed_imei(visit: Visit, typed: str) -> None:
    """A typed IMEI: read it back (grouped) before adding it."""
    if not typed:
        visit.say(visit.t("imei_not_text"), visit.cancel_keyboard())
        return
    try:
        imei = Imei.parse(typed[:100])
    except InvalidImei as exc:
        reason = Html(describe(exc, visit.language))
        visit.say(visit.t("imei_bad", reason=reason), visit.cancel_keyboard())
        return
    visit.wait_for(waiting.IMEI_CHECK, imei=imei.digits)


def ask_imei_check(visit: Visit) -> None:
    """Is this the IMEI (grouped, to read)?"""
    assert visit.wait is not None
    visit.say(
        visit.t("imei_check", grouped=Imei(visit.wait["imei"]).grouped),
        visit.pair(
            ("followup.button_imei_yes", views.IMEI_YES),
            ("followup.button_imei_no", views.IMEI_NO),
        ),
    )


async def imei_confirmed(visit: Visit) -> None:
    """ "Yes, add it": store the IMEI read back (once)."""
    wait = visit.take_wait()
    added = await visit.context.register.followup.add_imei(
        visit.report.reference, Imei(wait["imei"])
    )
    if added.change not in IMEI_CHANGES:
        visit.refuse_ended()
        return
    visit.edit(visit.t(IMEI_CHANGES[added.change], reference=visit.report.reference))


# --- where the phone was seen, and when --------------------------------------------------------


async def add_location(visit: Visit) -> None:
    """Ask where the phone is (a pin or a place's name)."""
    visit.wait_for(waiting.LOCATION)


def ask_location(visit: Visit) -> None:
    """Send a pin or type the place."""
    visit.say(visit.t("ask_location"), visit.cancel_keyboard())


def clean_place(typed: str) -> str | None:
    """A typed place, tidied by the one cleaner, or None when it cannot be kept (or says
    nothing: emoji, digits or punctuation alone)."""
    try:
        place = clean_text(typed, max_length=MAX_PLACE, min_length=MIN_PLACE)
    except BadAnswer:
        return None
    return place if has_words(place) else None


async def typed_place(visit: Visit, typed: str) -> None:
    """A place's name: then ask when."""
    place = clean_place(typed) if typed else None
    if place is None:
        visit.say(visit.t("location_bad", max=MAX_PLACE), visit.cancel_keyboard())
        return
    visit.wait_for(waiting.LOCATION_TIME, lat=None, lon=None, place=place)


async def pinned_place(visit: Visit, latitude: float, longitude: float) -> None:
    """A pin: then ask when."""
    try:
        point = check_point(latitude, longitude)
    except BadCoordinates as exc:
        visit.say(describe(exc, visit.language), visit.cancel_keyboard())
        return
    visit.wait_for(waiting.LOCATION_TIME, lat=point.lat, lon=point.lon, place=None)


def ask_location_time(visit: Visit) -> None:
    """When was it seen there: now, an hour ago, or a typed time."""
    visit.say(visit.t("ask_location_time"), _time_keyboard(visit))


def _time_keyboard(visit: Visit) -> InlineKeyboardMarkup:
    return visit.pair(
        ("followup.button_time_now", views.TIME_NOW),
        ("followup.button_time_hour", views.TIME_HOUR),
    )


def parse_time_today(
    typed: str, language: str | None, *, now: datetime, zone: tzinfo
) -> datetime | None:
    """A typed time (or day and time) in the register's ZONE, never in the future; else None."""
    try:
        return parse_moment(typed, language, now=now, zone=zone).at
    except UnclearMoment:
        return None


async def typed_time(visit: Visit, typed: str) -> None:
    """A typed time: store the place with it."""
    zone = visit.context.config.zone
    seen_at = parse_time_today(typed, visit.language, now=clock.now(), zone=zone)
    if seen_at is None:
        visit.say(visit.t("location_time_bad"), _time_keyboard(visit))
        return
    visit.say(await _save_location(visit, seen_at))


async def chosen_time(visit: Visit, value: str) -> bool:
    """ "Now" or "an hour ago": store the place with it, in place of the question."""
    ago = {views.TIME_NOW: timedelta(0), views.TIME_HOUR: timedelta(hours=1)}.get(value)
    if ago is None:
        return False
    visit.edit(await _save_location(visit, clock.now() - ago))
    return True


async def _save_location(visit: Visit, seen_at: datetime) -> str:
    wait = visit.take_wait()
    outcome = await visit.context.register.followup.add_tracked_location(
        visit.report.reference,
        seen_at=seen_at,
        latitude=wait.get("lat"),
        longitude=wait.get("lon"),
        place=wait.get("place"),
    )
    if outcome is not Change.DONE:
        return visit.t(
            "report_ended", status=views.status_label(visit.report.status, visit.language)
        )
    return visit.t(
        "location_added",
        reference=visit.report.reference,
        emergency=visit.context.config.emergency_number,
    )
