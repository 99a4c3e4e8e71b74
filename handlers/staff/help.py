"""/staffhelp: the staff commands a member's role allows."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.render import status_list
from handlers.texts import text
from models.services.staff import Role


@staff_only(Role.OFFICER)
async def staffhelp(update: Update, context: BotContext, staff: StaffUser) -> None:
    """List the staff commands; admins also see theirs."""
    message = update.effective_message
    assert message is not None
    lines = [text("staff.help_officer", role=staff.role.value, statuses=status_list())]
    lines.append(text("staff.help_hotspots"))
    lines.append(text("staff.help_web"))
    lines.append(text("staff.help_alerts"))
    if staff.is_admin:
        lines.append(text("staff.help_admin"))
    await message.reply_text("\n\n".join(lines))
