"""/alerts on|off: staff alerts (duplicate IMEIs, phones tracked to one place) in this chat."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.texts import text
from models.services.staff import Role

SWITCHES = {"on": True, "off": False}


@staff_only(Role.OFFICER)
async def alerts(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Turn this staff member's alerts on or off; without a word, say how they are now."""
    message = update.effective_message
    assert message is not None
    words = [word.casefold() for word in context.args or []]
    store = context.register.alerts
    if len(words) != 1 or words[0] not in SWITCHES:
        now = await store.subscribed(staff.user_id)
        state = text("staff.alerts_state_on" if now else "staff.alerts_state_off")
        await message.reply_text(text("staff.alerts_usage", state=state))
        return
    setting = await store.subscribe(staff.user_id, SWITCHES[words[0]], actor=staff.actor)
    await message.reply_text(text("staff.alerts_on" if setting.on else "staff.alerts_off"))
