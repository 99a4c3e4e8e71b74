"""/police REF CRIME_REF [FORCE]: staff set a report's crime reference number and force."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.typed import reference_in
from handlers.texts import Html, describe, text
from models.errors import RegisterError
from models.services.followup import Change
from models.services.staff import Role
from models.values.crime import FORCES

KEEP = "-"  # in place of the crime reference: set the force only


@staff_only(Role.OFFICER)
async def police(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Set (or correct) the crime reference and/or force; kept in the history and audited."""
    message = update.effective_message
    assert message is not None
    words = list(context.args or [])
    if len(words) < 2 or (words[1] == KEEP and len(words) < 3):
        await message.reply_text(text("staff.police_usage"))
        return
    reference = await reference_in(message, words[0])
    if reference is None:
        return
    crime = None if words[1] == KEEP else words[1]
    force = " ".join(words[2:]) or None
    try:
        done = await context.register.police.set_by_staff(
            reference,
            crime_reference=crime,
            police_force=force,
            actor=staff.actor,
            actor_id=staff.user_id,
            channel="telegram",
        )
    except RegisterError as exc:
        await message.reply_text(text("staff.police_refused", reason=Html(describe(exc))))
        return
    if done.change is Change.NOT_FOUND:
        await message.reply_text(text("staff.not_found", query=str(reference)))
        return
    key = "staff.police_unchanged" if done.change is Change.ALREADY else "staff.police_set"
    await message.reply_text(
        text(
            key,
            reference=str(reference),
            crime_reference=done.crime_reference or text("staff.unknown_value"),
            force=FORCES.get(done.police_force or "", text("staff.unknown_value")),
        )
    )
