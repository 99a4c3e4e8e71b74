"""/reissue REF: a new access code for a victim who lost theirs (audited; the old one stops)."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.typed import reference_in
from handlers.texts import text
from models.services.staff import Role


@staff_only(Role.OFFICER)
async def reissue(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Reissue the report's access code and show the new one to this staff member only.

    Staff commands answer only in the private chat of the staff member who asked, so the code
    goes nowhere else; it is never logged, and the audit trail records only that it changed.
    """
    message = update.effective_message
    assert message is not None
    args = context.args or []
    if len(args) != 1:
        await message.reply_text(text("staff.reissue_usage"))
        return
    reference = await reference_in(message, args[0])
    if reference is None:
        return
    code = await context.register.access.reissue(
        reference, actor=staff.actor, actor_id=staff.user_id, channel="telegram"
    )
    if code is None:
        await message.reply_text(text("staff.not_found", query=str(reference)))
        return
    await message.reply_text(text("staff.reissued", reference=str(reference), code=code))
