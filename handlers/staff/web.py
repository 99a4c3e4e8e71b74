"""/web: a one-time sign-in link to the staff web console, in the staff member's private chat."""

from __future__ import annotations

from html import escape

from telegram import LinkPreviewOptions, Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.texts import text
from handlers.web.links import sign_in_url
from models.services.staff import Role


@staff_only(Role.OFFICER)
async def web(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Send a sign-in link that works once, for a few minutes (no preview: it must not be used)."""
    message = update.effective_message
    assert message is not None
    token = await context.register.web.issue_link(staff.user_id, actor=staff.actor)
    minutes = int(context.register.web.rules.link_ttl.total_seconds() // 60) or 1
    url = sign_in_url(context.config.web_base_url, token)
    await message.reply_text(
        text("staff.web_link", url=escape(url), minutes=minutes),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
