"""One ordered list of handlers, and the command menus, as the Bot API receives them."""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import CommandHandler

from bot.local_api import ApiCall, LocalBotApi
from handlers import menus, routing
from handlers.context import BotContext
from handlers.i18n.languages import available, language
from handlers.staff import COMMANDS as STAFF_COMMANDS
from handlers.texts import catalogue
from models.register import Register
from models.services.staff import Role

OFFICER_ID, ADMIN_ID = 5001, 5002
ADMIN_ONLY = {"export", "recover"}


def _param(call: ApiCall, name: str) -> Any:
    value = call.params.get(name)
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def menu_calls(api: LocalBotApi) -> list[tuple[str, Any, str | None, list[str]]]:
    """(method, scope, language_code, [command names]) of every menu call, in order."""
    found = []
    for call in api.calls:
        if call.method in ("setMyCommands", "deleteMyCommands"):
            commands = [entry["command"] for entry in _param(call, "commands") or []]
            found.append(
                (call.method, _param(call, "scope"), call.params.get("language_code"), commands)
            )
    return found


def described(api: LocalBotApi, language_code: str | None) -> dict[str, str]:
    for call in api.calls:
        if call.method == "setMyCommands" and call.params.get("language_code") == language_code:
            return {entry["command"]: entry["description"] for entry in _param(call, "commands")}
    raise AssertionError(f"no menu for {language_code}")


def test_every_handler_is_in_one_group_in_the_listed_order(application):
    assert list(application.handlers) == [0]
    names = [
        sorted(handler.commands)[0]
        for handler in application.handlers[0]
        if isinstance(handler, CommandHandler)
    ]
    # Staff commands first, the follow-up's /status and deep link, then the conversation's.
    assert names[: len(STAFF_COMMANDS)] == list(STAFF_COMMANDS)
    assert names.index("status") < names.index("start") < names.index("cancel")
    assert len(application.handlers[0]) == len(routing.routes(application))


async def test_the_victims_menu_in_every_language(application, api: LocalBotApi):
    await menus.publish_victim_menus(application.bot)
    calls = menu_calls(api)
    assert [(method, scope, code) for method, scope, code, _ in calls] == [
        ("setMyCommands", {"type": "default"}, None),
        *(("setMyCommands", {"type": "default"}, language(code).telegram) for code in available()),
    ]
    assert len(available()) == 10
    for _, _, _, names in calls:
        assert names == list(menus.VICTIM_COMMANDS)
    # Every command of the menu is one the bot answers in a private chat.
    handled = {
        name
        for handler in application.handlers[0]
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert set(menus.VICTIM_COMMANDS) <= handled
    assert described(api, None)["start"] == "Report a stolen phone"
    assert described(api, "es")["start"] == "Denunciar un teléfono robado"
    assert described(api, "ar")["language"] == "اختيار اللغة"
    for code in available():
        texts = described(api, language(code).telegram)
        assert all(0 < len(value) <= 256 and "<" not in value for value in texts.values())
        if code != "en":
            assert texts != described(api, "en"), code


def test_every_language_describes_every_command():
    for code in available():
        assert {key for key in catalogue(code) if key.startswith("commands.")} == {
            f"commands.{name}" for name in menus.VICTIM_COMMANDS
        }, code


def test_every_staff_command_has_a_menu_line():
    english = catalogue("en")
    assert {name for name in STAFF_COMMANDS if f"staff.menu_{name}" not in english} == set()


async def test_staff_menus_follow_the_staff_table(
    application, api: LocalBotApi, register: Register
):
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    await register.staff.add(ADMIN_ID, Role.ADMIN, added_by="test")
    shown: dict[int, str] = {}
    await menus.refresh_staff_menus(application.bot, register, shown)
    calls = {scope["chat_id"]: names for _, scope, _, names in menu_calls(api)}
    assert set(calls) == {OFFICER_ID, ADMIN_ID}
    assert set(calls[ADMIN_ID]) >= ADMIN_ONLY
    assert not ADMIN_ONLY & set(calls[OFFICER_ID])
    assert {"lookup", "setstatus", "staffhelp", "start", "help"} <= set(calls[OFFICER_ID])

    # Nothing changed: no call. Then one removed, one demoted: exactly those two calls.
    before = len(api.calls)
    await menus.refresh_staff_menus(application.bot, register, shown)
    assert len(api.calls) == before
    await register.staff.remove(OFFICER_ID, removed_by="test")
    await register.staff.add(ADMIN_ID, Role.OFFICER, added_by="test")
    await menus.refresh_staff_menus(application.bot, register, shown)
    later = menu_calls(api)[2:]
    assert [(method, scope["chat_id"]) for method, scope, _, _ in later] == [
        ("setMyCommands", ADMIN_ID),
        ("deleteMyCommands", OFFICER_ID),
    ]
    assert not ADMIN_ONLY & set(later[0][3])
    assert shown == {ADMIN_ID: "officer"}


async def test_the_menu_job_sets_the_victims_menus_once(application, api, register: Register):
    context = BotContext(application)
    await menus.refresh(context)
    await menus.refresh(context)
    default_menus = [call for call in menu_calls(api) if call[1] == {"type": "default"}]
    assert len(default_menus) == 1 + len(available())
