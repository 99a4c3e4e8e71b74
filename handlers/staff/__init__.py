"""Staff commands and buttons: look-up, statuses, export, bulk recovery, stats, help.

Every command and button checks the role (see `access`); staff buttons' callback data start
with "s:". These handlers go before the victim's conversation.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.context import BotContext
from handlers.staff import export, hotspots, lookup, recover, stats, status
from handlers.staff import help as staff_help
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.render import RECOVERY, REVEAL, SET_STATUS
from handlers.texts import text
from models.services.staff import Role

COMMANDS = {
    "lookup": lookup.lookup,
    "setstatus": status.setstatus,
    "export": export.export,
    "recover": recover.recover,
    "stats": stats.stats,
    "hotspots": hotspots.hotspots,
    "staffhelp": staff_help.staffhelp,
}


@staff_only(Role.OFFICER)
async def stale_button(update: Update, context: BotContext, staff: StaffUser) -> None:
    """A staff button this version does not know (old message or forged data)."""
    query = update.callback_query
    assert query is not None
    await query.answer(text("staff.button_expired"), show_alert=True)


def add_handlers(application: Application) -> None:
    """Install the staff commands, the upload of seized IMEIs and the staff buttons."""
    # Edited commands are not re-run: an edit must not move a report a second time.
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & recover.RecoveryUpload(application),
            recover.on_upload,
        )
    )
    buttons = {
        SET_STATUS: status.on_button,
        REVEAL: lookup.reveal,
        RECOVERY: recover.on_button,
    }
    for prefix, callback in buttons.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=f"^{prefix}:"))
    application.add_handler(CallbackQueryHandler(stale_button, pattern=r"^s:"))
