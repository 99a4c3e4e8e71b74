"""Bulk recovery in the console: upload, preview, confirm once; admins only; bounded uploads."""

from __future__ import annotations

import json
import re

from models.register import Register
from models.services.staff import Role
from models.storage.tables import Notification
from models.values.statuses import Status
from tests import web_fixtures
from tests.factories import audit_events, imei, new_report, rows, subscribe

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

TOKEN = re.compile(r'name="token" value="([^"]+)"')


async def _seized_file(register: Register) -> tuple[str, bytes]:
    alone, shared, unknown = imei(), imei(), imei()
    one = await register.reports.file(new_report(imeis=(alone,)), "k-one")
    await register.reports.file(new_report(imeis=(shared,)), "k-s1")
    await register.reports.file(new_report(imeis=(shared,)), "k-s2")
    await subscribe(register.db, one.report_id, chat_id=9001)
    content = f"IMEI\n{alone.grouped}\n{shared.digits}\n{unknown.digits}\n12345\n"
    return one.reference, content.encode()


async def _upload(page, content: bytes, *, csrf: str | None = "auto"):
    fields = {}
    if csrf == "auto":
        fields["csrf"] = await page.csrf("/recovery")
    elif csrf is not None:
        fields["csrf"] = csrf
    return await page.client.post(
        "/recovery/preview", data=fields, files={"seized": ("seized.csv", content, "text/csv")}
    )


async def test_officers_may_not_and_strangers_must_sign_in(console, browser) -> None:
    officer = await console(Role.OFFICER)

    assert (await officer.get("/recovery")).status_code == 403
    assert (await officer.post("/recovery/confirm", {"token": "x"})).status_code == 403
    assert (await browser().get("/recovery")).status_code == 401


async def test_preview_lists_each_kind_and_changes_nothing(console, register: Register) -> None:
    reference, content = await _seized_file(register)
    admin = await console(Role.ADMIN)

    preview = await _upload(admin, content)

    assert preview.status_code == 200
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', preview.text))
    assert counts == {
        "matched": "1",
        "unknown": "1",
        "ambiguous": "1",
        "malformed": "1",
        "repeated": "0",
    }
    assert re.search(
        r'id="to-recover">\s*<li><a class="mono" href="/report/' + reference, preview.text
    )
    assert "Mark 1 reports recovered" in preview.text
    view = await register.reports.get(reference)
    assert view is not None and view.status is Status.SUBMITTED


async def test_confirm_applies_once_and_queues_the_victims_notification(
    console, register: Register
) -> None:
    reference, content = await _seized_file(register)
    admin = await console(Role.ADMIN)
    token = TOKEN.search((await _upload(admin, content)).text).group(1)

    done = await admin.post("/recovery/confirm", {"token": token})
    again = await admin.post("/recovery/confirm", {"token": token})

    assert done.status_code == 200 and reference in done.text
    assert "victim notifications queued: 1" in done.text
    assert again.status_code == 409 and "already confirmed" in again.text
    view = await register.reports.get(reference)
    assert view is not None and view.status is Status.RECOVERED
    assert len(await rows(register.db, Notification)) == 1
    applied = [
        json.loads(e.details)
        for e in await audit_events(register.db, "recovery")
        if not json.loads(e.details)["dry_run"]
    ]
    assert [(a["channel"], a["references"]) for a in applied] == [("web", [reference])]


async def test_forms_without_their_csrf_token_are_refused(console, register: Register) -> None:
    _, content = await _seized_file(register)
    admin = await console(Role.ADMIN)
    token = TOKEN.search((await _upload(admin, content)).text).group(1)

    assert (await _upload(admin, content, csrf=None)).status_code == 403
    assert (await _upload(admin, content, csrf="forged")).status_code == 403
    assert (await admin.post("/recovery/confirm", {"token": token}, csrf=None)).status_code == 403
    assert await rows(register.db, Notification) == []


async def test_another_admin_cannot_confirm_my_preview(console, register: Register) -> None:
    _, content = await _seized_file(register)
    mine = await console(Role.ADMIN)
    theirs = await console(Role.ADMIN, user_id=98765)
    token = TOKEN.search((await _upload(mine, content)).text).group(1)

    answer = await theirs.post("/recovery/confirm", {"token": token})

    assert answer.status_code == 404
    assert await rows(register.db, Notification) == []


async def test_too_big_and_unusable_files_are_refused_with_a_reason(
    console, register: Register
) -> None:
    admin = await console(Role.ADMIN)
    limit = register.recovery.limits.max_bytes

    too_big = await _upload(admin, b"1" * (limit + 100_000))
    workbook = await _upload(admin, b"PK\x03\x04" + b"\x00" * 100)
    nothing = await admin.client.post(
        "/recovery/preview", data={"csrf": await admin.csrf("/recovery")}
    )

    assert too_big.status_code == 413
    assert workbook.status_code == 400 and "spreadsheet workbook" in workbook.text
    assert nothing.status_code == 400 and "Choose a file" in nothing.text
