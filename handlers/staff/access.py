"""Who may use a staff command or button: staff with the right role, in a private chat.

Anyone else gets exactly the answer to an unknown command, so nothing hints that staff
commands exist. The role is read from the register on every call and every button press.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers.common import answer_unknown_command, is_private
from handlers.context import BotContext
from models.services.staff import Role

ACTOR_PREFIX = "tg:"


@dataclass(frozen=True, slots=True)
class StaffUser:
    """The staff member behind an update."""

    user_id: int
    role: Role

    @property
    def actor(self) -> str:
        """How the audit trail and the status history name them."""
        return f"{ACTOR_PREFIX}{self.user_id}"

    @property
    def is_admin(self) -> bool:
        """Whether they hold the admin role."""
        return self.role is Role.ADMIN


StaffCallback = Callable[[Update, BotContext, StaffUser], Coroutine[Any, Any, None]]
HandlerCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def permits(role: Role | None, needed: Role) -> bool:
    """Whether ROLE may do what NEEDED allows (admins may do everything officers may)."""
    if role is None:
        return False
    return role is Role.ADMIN or needed is Role.OFFICER


async def staff_user(update: Update, context: BotContext, needed: Role) -> StaffUser | None:
    """The staff member behind UPDATE if they hold NEEDED in a private chat, else None."""
    user = update.effective_user
    if user is None or not is_private(update):
        return None
    role = await context.register.staff.role_of(user.id)
    if not permits(role, needed):
        return None
    assert role is not None
    return StaffUser(user.id, role)


async def refuse(update: Update, context: BotContext) -> None:
    """Answer as for an unknown command (and stop a pressed button's spinner)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    await answer_unknown_command(update, context)


def staff_only(needed: Role = Role.OFFICER) -> Callable[[StaffCallback], HandlerCallback]:
    """Run the handler only for staff holding NEEDED in a private chat; refuse anyone else.

    The guarded handler carries NEEDED as `.needed`, so that the command menus list each staff
    command for the roles that may use it.
    """

    def decorate(handler: StaffCallback) -> HandlerCallback:
        @functools.wraps(handler)
        async def guarded(update: Update, context: BotContext) -> None:
            staff = await staff_user(update, context, needed)
            if staff is None:
                await refuse(update, context)
                return
            await handler(update, context, staff)

        guarded.needed = needed  # type: ignore[attr-defined]  # read by the command menus
        return guarded

    return decorate
