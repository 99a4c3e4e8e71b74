"""Staff commands and buttons: look-up, statuses, police references, access codes, alerts,
export, bulk recovery, stats, help.

Every command and button checks the role (see `access`); staff buttons' callback data start
with "s:". Where they stand among the other handlers: handlers/routing.py.
"""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff import (
    alerts,
    export,
    hotspots,
    lookup,
    police,
    recover,
    reissue,
    stats,
    status,
    web,
)
from handlers.staff import help as staff_help
from handlers.staff.access import StaffUser, staff_only
from handlers.texts import text
from models.services.staff import Role

# The staff commands, in the order of their command menu (see handlers/menus.py).
COMMANDS = {
    "lookup": lookup.lookup,
    "setstatus": status.setstatus,
    "export": export.export,
    "recover": recover.recover,
    "stats": stats.stats,
    "hotspots": hotspots.hotspots,
    "reissue": reissue.reissue,
    "police": police.police,
    "alerts": alerts.alerts,
    "staffhelp": staff_help.staffhelp,
    "web": web.web,
}


@staff_only(Role.OFFICER)
async def stale_button(update: Update, context: BotContext, staff: StaffUser) -> None:
    """A staff button this version does not know (old message or forged data)."""
    query = update.callback_query
    assert query is not None
    await query.answer(text("staff.button_expired"), show_alert=True)
