"""The victim adds the police's crime reference (and the force, if known) from /status.

Two questions: the crime reference (checked loosely, as police forces number crimes
differently), then the force (a name, a short name such as "Met", or "I don't know"). Nothing
is stored until both are answered; Cancel or any command leaves the report as it was. Their
entries in the follow-up's table: handlers/followup/table.py.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.followup import views, waiting
from handlers.followup.access import callback
from handlers.followup.visit import Visit
from handlers.texts import Html, describe, text
from models.errors import RegisterError
from models.services.followup import Change
from models.values.crime import FORCES, BadCrimeReference, PoliceForce, normalise_crime_reference

MAX_TYPED = 100


def crime_allowed(visit: Visit) -> bool:
    """The need: an open report of a crime (not a lost phone)."""
    if views.can_add_crime(visit.report):
        return True
    visit.refuse_ended()
    return False


async def add_crime(visit: Visit) -> None:
    """Ask for the crime reference."""
    visit.wait_for(waiting.CRIME)


def ask_crime(visit: Visit) -> None:
    """Type the crime reference the police gave."""
    visit.say(visit.t("ask_crime"), visit.cancel_keyboard())


async def typed_crime(visit: Visit, typed: str) -> None:
    """The crime reference, checked loosely: then ask the force."""
    try:
        crime = normalise_crime_reference(typed[:MAX_TYPED])
    except BadCrimeReference as exc:
        reason = Html(describe(exc, visit.language))
        visit.say(visit.t("crime_bad", reason=reason), visit.cancel_keyboard())
        return
    visit.wait_for(waiting.FORCE, crime=crime)


def _force_keyboard(visit: Visit) -> InlineKeyboardMarkup:
    """ "I don't know" and Cancel, side by side."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text(key, visit.language), callback_data=callback(action, visit.token)
                )
                for key, action in (
                    ("followup.button_force_unknown", views.FORCE_UNKNOWN),
                    ("followup.button_cancel", views.CANCEL),
                )
            ]
        ]
    )


def ask_force(visit: Visit) -> None:
    """Which police force (or "I don't know")."""
    visit.say(visit.t("ask_force"), _force_keyboard(visit))


async def typed_force(visit: Visit, typed: str) -> None:
    """The force, by name or short name: store both."""
    try:
        force = PoliceForce.parse(typed[:MAX_TYPED]).code
    except RegisterError as exc:
        reason = Html(describe(exc, visit.language))
        visit.say(visit.t("force_bad", reason=reason), _force_keyboard(visit))
        return
    visit.say(await _store(visit, force))


async def force_unknown(visit: Visit, value: str) -> bool:
    """ "I don't know": store the crime reference alone, in place of the question."""
    if value != views.FORCE_UNKNOWN:
        return False
    visit.edit(await _store(visit, None))
    return True


async def _store(visit: Visit, force: str | None) -> str:
    wait = visit.take_wait()
    report = visit.report
    done = await visit.context.register.police.set_by_victim(
        report.reference, crime_reference=wait["crime"], police_force=force
    )
    if done.change in (Change.NOT_FOUND, Change.ENDED):
        return visit.t("report_ended", status=views.status_label(report.status, visit.language))
    name = FORCES.get(done.police_force or "")
    return visit.t(
        "crime_added",
        crime_reference=done.crime_reference or wait["crime"],
        force=f"({name})" if name else "",
        reference=report.reference,
    ).replace("  ", " ")
