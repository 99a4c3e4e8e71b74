"""The command menus Telegram shows beside the message field (set_my_commands).

Victims get their commands in every language we speak: the default menu in English, then one menu
per language for accounts set to it (`telegram` in locales/languages.toml). Staff get, in their own
private chat only (BotCommandScopeChat), the staff commands their role allows, then the victim's.
Staff are added and removed by other processes (the CLI, the web console), so a job compares the
staff table with the menus set and refreshes the ones that changed, every REFRESH.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application

from handlers.context import BotContext
from handlers.i18n.languages import ENGLISH, available, language
from handlers.staff import COMMANDS as STAFF_COMMANDS
from handlers.staff.access import permits
from handlers.texts import plain, text
from models.register import Register
from models.services.staff import Role

log = logging.getLogger("reportbot.menus")

# The victim's menu, in this order; each has `commands.<name>` in every catalogue.
VICTIM_COMMANDS = ("start", "status", "advice", "language", "back", "cancel", "forget", "help")
REFRESH = timedelta(minutes=1)
SHOWN = "staff_menus"  # bot_data: {user id: role} of the staff menus set by this process
PUBLISHED = "victim_menus_published"  # bot_data: whether the victims' menus are set


def victim_commands(code: str) -> list[BotCommand]:
    """The victim's commands, described in the language CODE."""
    return [BotCommand(name, plain(text(f"commands.{name}", code))) for name in VICTIM_COMMANDS]


def _needed(callback: Callable[..., Any]) -> Role:
    return getattr(callback, "needed", Role.ADMIN)


def staff_commands(role: Role) -> list[BotCommand]:
    """The commands ROLE may use (staff's in English), then the victim's."""
    own = [
        BotCommand(name, text(f"staff.menu_{name}"))
        for name, callback in STAFF_COMMANDS.items()
        if permits(role, _needed(callback))
    ]
    return own + victim_commands(ENGLISH)


async def publish_victim_menus(bot: Bot) -> None:
    """The victim's menu: the default one in English, then one per language we speak."""
    await bot.set_my_commands(victim_commands(ENGLISH), scope=BotCommandScopeDefault())
    for code in available():
        await bot.set_my_commands(
            victim_commands(code),
            scope=BotCommandScopeDefault(),
            language_code=language(code).telegram,
        )


async def refresh_staff_menus(bot: Bot, register: Register, shown: dict[int, str]) -> None:
    """Set the menu of every staff member whose role changed, and remove the menus of the gone.

    SHOWN ({user id: role}) is what this process has set, and is brought up to date.
    """
    staff = {member.user_id: member.role for member in await register.staff.list()}
    for user_id, role in staff.items():
        if shown.get(user_id) != role:
            await bot.set_my_commands(
                staff_commands(Role(role)), scope=BotCommandScopeChat(user_id)
            )
            shown[user_id] = role
    for user_id in [user_id for user_id in shown if user_id not in staff]:
        await bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
        del shown[user_id]


async def refresh(context: BotContext) -> None:
    """The job: the victims' menus once, then the staff menus that changed."""
    bot_data = context.application.bot_data
    try:
        if not bot_data.get(PUBLISHED):
            await publish_victim_menus(context.bot)
            bot_data[PUBLISHED] = True
        await refresh_staff_menus(context.bot, context.register, bot_data.setdefault(SHOWN, {}))
    except TelegramError as exc:
        # The menus are a convenience: the next run tries again.
        log.warning("could not set the command menus: %s", type(exc).__name__)


def schedule(application: Application) -> None:
    """Set the menus soon after start, then keep the staff menus in step with the staff table."""
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            refresh,
            interval=REFRESH,
            first=timedelta(seconds=1),
            name="command-menus",
        )
