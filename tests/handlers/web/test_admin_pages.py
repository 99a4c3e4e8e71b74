"""The audit trail and staff management: admins only."""

from __future__ import annotations

import re

import pytest

from models.register import Register
from models.services.staff import Role
from tests import web_fixtures
from tests.factories import audit_events, new_report
from tests.staff_fixtures import ADMIN_ID, OFFICER_ID

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

ADMIN_PAGES = ["/audit", "/staff", "/export"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_officers_get_403_and_admins_the_page(console, path) -> None:
    officer = await console(Role.OFFICER)
    admin = await console(Role.ADMIN)

    assert (await officer.get(path)).status_code == 403
    assert (await admin.get(path)).status_code == 200


async def test_the_menu_shows_what_the_role_allows(console) -> None:
    officer = await console(Role.OFFICER)
    admin = await console(Role.ADMIN)

    officer_menu = re.findall(r'<li><a href="([^"]+)"', (await officer.get("/")).text)
    admin_menu = re.findall(r'<li><a href="([^"]+)"', (await admin.get("/")).text)

    assert not set(ADMIN_PAGES) & set(officer_menu)
    assert set(ADMIN_PAGES) <= set(admin_menu)
    assert {"/search", "/reports"} <= set(officer_menu)


# --- audit -----------------------------------------------------------------------------------


async def test_the_audit_trail_filters_by_action_and_actor(console, register: Register) -> None:
    filed = await register.reports.file(new_report(), "k-audit")
    officer = await console(Role.OFFICER)
    await officer.get(f"/report/{filed.reference}")
    admin = await console(Role.ADMIN)

    everything = await admin.get("/audit")
    views = await admin.get("/audit?action=report_view")
    by_officer = await admin.get(f"/audit?actor=web:{OFFICER_ID}")
    about = await admin.get(f"/audit?target={filed.reference}")

    assert "report view" in everything.text and "web sign in" in everything.text
    assert views.text.count("<tr>") == 2  # the header and the one view
    assert f"web:{OFFICER_ID}" in by_officer.text and f"web:{ADMIN_ID}</td>" not in by_officer.text
    assert f'href="/report/{filed.reference}"' in about.text
    assert "channel: web" in views.text


async def test_the_audit_trail_pages_and_takes_days(console, register: Register) -> None:
    for n in range(105):
        await register.audit.record("cli:test", "probe", str(n))
    admin = await console(Role.ADMIN)

    first = await admin.get("/audit?action=probe")
    older = re.search(r'href="/audit\?([^"]+)">Older events', first.text).group(1)
    second = await admin.get("/audit?" + older.replace("&amp;", "&"))
    none_yet = await admin.get("/audit?action=probe&until=2000-01-01")

    assert first.text.count("<tr>") == 101 and second.text.count("<tr>") == 6
    assert "No event matches." in none_yet.text
    assert (await admin.get("/audit?since=last-week")).status_code == 422


# --- staff -----------------------------------------------------------------------------------


async def test_an_admin_adds_changes_and_removes_staff(console, register: Register) -> None:
    admin = await console(Role.ADMIN)

    added = await admin.post("/staff", {"user_id": "6001", "role": "officer"})
    assert added.status_code == 303
    assert await register.staff.role_of(6001) is Role.OFFICER
    await admin.post("/staff", {"user_id": "6001", "role": "admin"})
    assert await register.staff.role_of(6001) is Role.ADMIN
    listing = await admin.get("/staff")
    assert "6001" in listing.text and f"web:{ADMIN_ID}" in listing.text

    removed = await admin.post("/staff/6001/remove")

    assert removed.status_code == 303
    assert await register.staff.role_of(6001) is None
    actions = [(e.action, e.actor) for e in await audit_events(register.db)]
    assert ("staff_add", f"web:{ADMIN_ID}") in actions
    assert ("staff_remove", f"web:{ADMIN_ID}") in actions


async def test_a_removed_member_is_signed_out_at_once(console) -> None:
    admin = await console(Role.ADMIN)
    officer = await console(Role.OFFICER)
    assert (await officer.get("/reports")).status_code == 200

    await admin.post(f"/staff/{OFFICER_ID}/remove")

    assert (await officer.get("/reports")).status_code == 401


async def test_an_admin_cannot_remove_or_demote_themselves(console, register) -> None:
    admin = await console(Role.ADMIN)

    remove = await admin.post(f"/staff/{ADMIN_ID}/remove")
    demote = await admin.post("/staff", {"user_id": str(ADMIN_ID), "role": "officer"})

    assert (remove.status_code, demote.status_code) == (400, 400)
    assert await register.staff.role_of(ADMIN_ID) is Role.ADMIN


async def test_staff_changes_are_refused_to_officers_and_without_the_token(
    console, register: Register
) -> None:
    officer = await console(Role.OFFICER)
    admin = await console(Role.ADMIN)

    assert (await officer.post("/staff", {"user_id": "6001", "role": "admin"})).status_code == 403
    assert (await officer.post(f"/staff/{ADMIN_ID}/remove")).status_code == 403
    no_token = await admin.post("/staff", {"user_id": "6001", "role": "admin"}, csrf=None)
    assert no_token.status_code == 403
    assert await register.staff.role_of(6001) is None
    assert await register.staff.role_of(ADMIN_ID) is Role.ADMIN


async def test_bad_staff_input(console) -> None:
    admin = await console(Role.ADMIN)

    assert (await admin.post("/staff", {"user_id": "abc", "role": "officer"})).status_code == 422
    assert (await admin.post("/staff", {"user_id": "7", "role": "chief"})).status_code == 422
    assert (await admin.post("/staff/99999/remove")).status_code == 404
    assert (await admin.post(f"/staff/{2**70}/remove")).status_code == 422
