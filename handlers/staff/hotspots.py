"""/hotspots [days]: where thefts and tracked phones cluster, as a table and a picture; audited."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.texts import Html, escape, text
from models.present import heatmap
from models.services.hotspots import CELL_METRES, DAYS, Hotspots, table
from models.services.staff import Role

MAX_DAYS = 366
TABLE_ROWS = 10


def parse_days(args: list[str]) -> int | None:
    """The period in days from the command's arguments (DAYS when none), or None if unusable."""
    if not args:
        return DAYS
    if len(args) > 1 or not args[0].isdigit():
        return None
    days = int(args[0])
    return days if 1 <= days <= MAX_DAYS else None


def render(found: Hotspots, days: int) -> str:
    """The busiest cells as one message."""
    clusters = found.clusters
    return text(
        "staff.hotspots",
        days=days,
        metres=f"{CELL_METRES:.0f}",
        cells=len(found.cells),
        table=Html(escape("\n".join(table(found.cells, TABLE_ROWS)))),
        clusters=Html(
            text("staff.hotspots_clusters", count=len(clusters))
            if clusters
            else text("staff.hotspots_no_clusters")
        ),
    )


@staff_only(Role.OFFICER)
async def hotspots(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Show the hotspots of the last DAYS days and send their picture."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    days = parse_days(context.args or [])
    if days is None:
        await message.reply_text(text("staff.hotspots_usage", most=MAX_DAYS))
        return
    found = await context.register.hotspots.find(days=days)
    await context.register.audit.record(
        staff.actor, "hotspots", None, days=days, cells=len(found.cells), channel="telegram"
    )
    if not found.cells:
        await message.reply_text(text("staff.hotspots_none", days=days))
        return
    await message.reply_text(render(found, days))
    await context.bot.send_photo(
        chat.id,
        photo=heatmap.render(found.cells),
        filename="hotspots.png",
        caption=text("staff.hotspots_caption", days=days),
    )
