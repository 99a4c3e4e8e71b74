"""/stats: reports per day, by status, by how the phone was taken, and the useful shares."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.staff.access import StaffUser, staff_only
from handlers.texts import Html, escape, text
from models.services.staff import Role
from models.services.stats import DAYS, RegisterStats


def _table(rows: list[tuple[str, int]]) -> str:
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{escape(label):<{width}}  {count:>6}" for label, count in rows)


def render(stats: RegisterStats) -> str:
    """The statistics as one message."""
    unknown = text("staff.stats_method_unknown")
    methods = [((method or unknown).replace("_", " "), count) for method, count in stats.by_method]
    return text(
        "staff.stats",
        total=stats.total,
        last_days=stats.last_days_total,
        days=DAYS,
        imei_share=f"{stats.imei_share:.0f}",
        tracked_share=f"{stats.tracked_share:.0f}",
        per_day=Html(_table([(day.isoformat(), count) for day, count in stats.per_day])),
        by_status=Html(_table(stats.by_status)),
        by_method=Html(_table(methods) or "-"),
    )


@staff_only(Role.OFFICER)
async def stats(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Show the register's statistics."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(render(await context.register.stats.compute()))
