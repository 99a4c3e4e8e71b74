"""Signing in to the web console: one-time links, sessions, sign-out, and the role each time."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi import APIRouter

from handlers.web.auth import AdminDep, OfficerDep
from handlers.web.links import sign_in_url
from models.register import Register
from models.services.staff import Role
from models.storage.columns import utcnow
from tests import web_fixtures
from tests.factories import audit_events
from tests.staff_fixtures import ADMIN_ID, OFFICER_ID
from tests.web_fixtures import BASE_URL, NONCE, TOKEN_FIELD, form_value

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console


async def link_for(register: Register, user_id: int, **kwargs) -> str:
    return sign_in_url(BASE_URL, await register.web.issue_link(user_id, actor="test", **kwargs))


async def test_a_link_signs_in_once_and_the_cookie_is_strict(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    page = browser()
    url = await link_for(register, OFFICER_ID)

    # Opening the link (as a link preview would) uses nothing up: twice, then the button.
    await page.get(url.removeprefix(BASE_URL))
    answer = await page.open_link(url)

    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(
        value for name, value in answer.headers.multi_items() if value.startswith("session=")
    )
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower()
    start = await page.get("/")
    assert start.status_code == 200
    assert str(OFFICER_ID) in start.text and "officer" in start.text
    assert [e.target for e in await audit_events(register.db, "web_sign_in")] == [str(OFFICER_ID)]


async def test_a_used_link_does_not_work_again(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    url = await link_for(register, OFFICER_ID)
    first, second = browser(), browser()
    assert (await first.open_link(url)).status_code == 303

    again = await second.open_link(url)

    assert again.status_code == 400
    assert "already used" in again.text
    assert (await second.get("/")).status_code == 401


async def test_an_expired_link_does_not_work(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    url = await link_for(register, OFFICER_ID, now=utcnow() - timedelta(minutes=6))
    page = browser()

    assert (await page.open_link(url)).status_code == 400
    assert (await page.get("/")).status_code == 401


async def test_a_link_of_someone_removed_since_does_not_work(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    url = await link_for(register, OFFICER_ID)
    await register.staff.remove(OFFICER_ID, removed_by="test")

    assert (await browser().open_link(url)).status_code == 400


async def test_sign_in_without_the_pages_nonce_is_refused(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    url = await link_for(register, OFFICER_ID)
    page = (await browser().get(url.removeprefix(BASE_URL))).text
    token, nonce = form_value(TOKEN_FIELD, page), form_value(NONCE, page)
    # Another site posting the form: the browser holds no SameSite=Strict nonce cookie for it.
    elsewhere = browser()

    refused = await elsewhere.client.post("/signin", data={"token": token, "nonce": nonce})
    wrong = browser()
    await wrong.get(url.removeprefix(BASE_URL))
    forged = await wrong.client.post("/signin", data={"token": token, "nonce": "x" + nonce})

    assert (refused.status_code, forged.status_code) == (403, 403)
    # The link was not used up by the refused attempts.
    assert (await browser().open_link(url)).status_code == 303


async def test_failed_sign_ins_are_limited_per_source(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    page = browser()
    allowed = register.web.rules.failures_allowed
    for n in range(allowed):
        bad = await page.open_link(sign_in_url(BASE_URL, f"not-a-token-{n}"))
        assert bad.status_code == 400

    limited = await page.open_link(await link_for(register, OFFICER_ID))

    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
    assert (await page.get("/")).status_code == 401


async def test_without_a_session_pages_say_how_to_sign_in(browser) -> None:
    answer = await browser().get("/")

    assert answer.status_code == 401
    assert "/web" in answer.text and "reportbot staff login-link" in answer.text


async def test_a_tampered_cookie_is_no_session(console, web_config) -> None:
    page = await console(Role.OFFICER)
    value = page.client.cookies["session"]
    token, _, mac = value.rpartition(".")
    page.client.cookies.set("session", f"{token}.{mac[::-1]}")

    assert (await page.get("/")).status_code == 401


async def test_removed_staff_lose_access_at_once(register: Register, console) -> None:
    page = await console(Role.OFFICER)
    assert (await page.get("/")).status_code == 200

    await register.staff.remove(OFFICER_ID, removed_by="test")

    assert (await page.get("/")).status_code == 401


async def test_the_role_is_read_on_every_request(register: Register, console, web_app) -> None:
    probe = APIRouter()

    @probe.get("/probe/admin")
    async def admin_only(staff: AdminDep) -> dict:
        return {"role": staff.role.value}

    @probe.get("/probe/officer")
    async def officer_only(staff: OfficerDep) -> dict:
        return {"role": staff.role.value}

    web_app.include_router(probe)
    page = await console(Role.OFFICER)
    assert (await page.get("/probe/officer")).json() == {"role": "officer"}
    assert (await page.get("/probe/admin")).status_code == 403

    await register.staff.add(OFFICER_ID, Role.ADMIN, added_by="test")
    assert (await page.get("/probe/admin")).json() == {"role": "admin"}

    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    assert (await page.get("/probe/admin")).status_code == 403


async def test_sign_out_needs_the_form_token_and_ends_the_session(
    register: Register, console
) -> None:
    page = await console(Role.ADMIN)
    stolen = page.client.cookies["session"]

    assert (await page.post("/signout", csrf=None)).status_code == 403
    assert (await page.post("/signout", csrf="not-the-token")).status_code == 403
    assert (await page.get("/")).status_code == 200

    answer = await page.post("/signout")

    assert answer.status_code == 303
    assert (await page.get("/")).status_code == 401
    page.client.cookies.set("session", stolen)
    assert (await page.get("/")).status_code == 401
    assert [e.target for e in await audit_events(register.db, "web_sign_out")] == [str(ADMIN_ID)]


async def test_another_sessions_form_token_does_not_work(console, browser, register) -> None:
    first = await console(Role.ADMIN)
    second = browser()
    await second.sign_in(ADMIN_ID)

    answer = await second.post("/signout", csrf=await first.csrf())

    assert answer.status_code == 403


async def test_pages_carry_a_strict_content_security_policy(console, browser) -> None:
    page = await console(Role.OFFICER)
    for answer in (await page.get("/"), await browser().get("/"), await page.get("/nowhere")):
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        # Nothing inline for the policy to refuse.
        assert "<script>" not in answer.text and "style=" not in answer.text
    css = await page.get("/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


async def test_an_unknown_page_is_404(console) -> None:
    page = await console(Role.OFFICER)

    answer = await page.get("/nowhere")

    assert answer.status_code == 404 and "Not found" in answer.text


async def test_logs_name_routes_never_tokens(
    register: Register, browser, caplog: pytest.LogCaptureFixture
) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    caplog.set_level(logging.DEBUG)
    page = browser()
    url = await link_for(register, OFFICER_ID)
    await page.open_link(url)
    await page.open_link(url)  # used: a 400, logged once
    token = url.rsplit("/", 1)[1]
    session = page.client.cookies["session"].partition(".")[0]

    # Everything the server side logged (httpx here is the test's own browser).
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]

    assert "web GET /signin/{token} 200" in lines
    assert lines.count("web POST /signin 400") == 1
    assert not [line for line in lines if token in line or session in line]


async def test_behind_https_the_cookie_is_secure_and_host_only(register: Register) -> None:
    import httpx

    from handlers.web.app import create_app
    from handlers.web.config import WebConfig

    config = WebConfig(secret=b"s" * 32, base_url="https://console.example.org")
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    app = create_app(config, register)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=config.base_url) as client:
        token = await register.web.issue_link(OFFICER_ID, actor="test")
        page = await client.get(f"/signin/{token}")
        signed = await client.post(
            "/signin",
            data={
                "token": form_value(TOKEN_FIELD, page.text),
                "nonce": form_value(NONCE, page.text),
            },
        )
        start = await client.get("/")

    cookie = next(
        value
        for name, value in signed.headers.multi_items()
        if name == "set-cookie" and value.startswith("__Host-session=")
    )
    assert "secure" in cookie.lower() and "domain" not in cookie.lower()
    assert start.status_code == 200
    assert start.headers["strict-transport-security"].startswith("max-age=")
