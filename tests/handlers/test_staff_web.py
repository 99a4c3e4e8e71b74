"""/web: staff get a one-time sign-in link to the web console in their private chat."""

from __future__ import annotations

import re

from handlers.texts import text
from models.register import Register
from models.services.staff import Role
from models.services.websessions import Refused, SignedIn
from tests import staff_fixtures
from tests.factories import audit_events
from tests.staff_fixtures import OFFICER_ID

staff_member = staff_fixtures.staff_member
LINK = re.compile(r"http://127\.0\.0\.1:8080/signin/([A-Za-z0-9_-]+)")


async def test_staff_get_a_link_that_signs_in_once(register: Register, staff_member, api) -> None:
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send("/web")

    match = LINK.search(reply.text or "")
    assert match, reply.text
    assert "5 minutes" in reply.text
    (call,) = [c for c in api.calls if c.method == "sendMessage"]
    assert call.params["link_preview_options"] == {"is_disabled": True}
    token = match.group(1)
    assert isinstance(await register.web.sign_in(token, source="a"), SignedIn)
    assert isinstance(await register.web.sign_in(token, source="a"), Refused)
    (event,) = await audit_events(register.db, "web_link")
    assert (event.actor, event.target) == (f"tg:{OFFICER_ID}", str(OFFICER_ID))


async def test_anyone_else_gets_the_unknown_command_answer(register: Register, staff_member):
    nobody = await staff_member(None)
    in_group = await staff_member(Role.ADMIN, chat_type="group")

    (to_nobody,) = await nobody.send("/web")
    (to_group,) = await in_group.send("/web")

    assert to_nobody.text == text("common.unknown_command")
    assert "signin" not in (to_group.text or "")
    assert await audit_events(register.db, "web_link") == []


async def test_staffhelp_mentions_web(staff_member) -> None:
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send("/staffhelp")

    assert "/web" in reply.text
