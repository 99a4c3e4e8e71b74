"""Signing in with Telegram's Login Widget, when the operator set it up."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from handlers.web.app import create_app
from handlers.web.config import WebConfig
from handlers.web.telegram_login import sign, verified_user, widget_key
from models.register import Register
from models.services.staff import Role
from tests import web_fixtures
from tests.factories import audit_events
from tests.staff_fixtures import OFFICER_ID
from tests.web_fixtures import BASE_URL

browser = web_fixtures.browser
TOKEN = "123456:TEST-token"
KEY = widget_key(TOKEN)


@pytest.fixture
def web_config() -> WebConfig:
    return WebConfig(
        secret=b"w" * 32, base_url=BASE_URL, login_widget_bot="ReportBot", login_widget_key=KEY
    )


@pytest.fixture
def web_app(register: Register, web_config: WebConfig):
    return create_app(web_config, register)


def answer(user_id: int, *, age: float = 0, key: bytes = KEY, **extra: str) -> dict[str, str]:
    fields = {
        "id": str(user_id),
        "first_name": "Sam",
        "auth_date": str(int(time.time() - age)),
        **extra,
    }
    return {**fields, "hash": sign(fields, key)}


async def test_the_sign_in_page_offers_the_widget_and_allows_only_its_script(browser) -> None:
    page = await browser().get("/signin")

    assert 'src="https://telegram.org/js/telegram-widget.js?22"' in page.text
    assert 'data-telegram-login="ReportBot"' in page.text
    assert f'data-auth-url="{BASE_URL}/signin-telegram"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://telegram.org;" in policy
    assert "frame-src https://oauth.telegram.org" in policy
    # Every other page keeps the strict policy.
    other = await browser().get("/static/console.css")
    assert "telegram" not in other.headers["content-security-policy"]


async def test_a_signed_answer_for_staff_signs_in_once(register: Register, browser) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    page = browser()
    signed = answer(OFFICER_ID, username="sam")

    first = await page.client.get("/signin-telegram", params=signed)

    assert first.status_code == 200 and 'href="/"' in first.text
    assert (await page.get("/")).status_code == 200
    again = await browser().client.get("/signin-telegram", params=signed)
    assert again.status_code == 400
    (event,) = await audit_events(register.db, "web_sign_in")
    assert '"with": "telegram"' in event.details


@pytest.mark.parametrize(
    "forged",
    [
        lambda: {**answer(OFFICER_ID), "id": "5001"},
        lambda: answer(OFFICER_ID, key=widget_key("another:bot")),
        lambda: answer(OFFICER_ID, age=10 * 60),
        lambda: {k: v for k, v in answer(OFFICER_ID).items() if k != "hash"},
        lambda: answer(OFFICER_ID, extra_field="x"),
    ],
)
async def test_forged_altered_or_stale_answers_do_not_sign_in(
    register: Register, browser, forged
) -> None:
    await register.staff.add(OFFICER_ID, Role.OFFICER, added_by="test")
    await register.staff.add(5001, Role.ADMIN, added_by="test")
    page = browser()

    refused = await page.client.get("/signin-telegram", params=forged())

    assert refused.status_code == 400
    assert (await page.get("/")).status_code == 401


async def test_someone_not_staff_is_refused(register: Register, browser) -> None:
    page = browser()

    refused = await page.client.get("/signin-telegram", params=answer(424242))

    assert refused.status_code == 400
    assert (await page.get("/")).status_code == 401


async def test_without_the_widget_the_route_does_not_exist(register: Register) -> None:
    app = create_app(WebConfig(secret=b"w" * 32), register)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        page = await client.get("/signin")
        missing = await client.get("/signin-telegram", params=answer(OFFICER_ID))

    assert (
        "telegram.org" not in page.text
        and "telegram" not in page.headers["content-security-policy"]
    )
    assert missing.status_code == 404


def test_the_check_is_telegrams() -> None:
    # Telegram's documented data-check-string: sorted key=value lines joined by "\n".
    import hashlib
    import hmac

    fields = {"auth_date": "1700000000", "id": "42", "first_name": "Sam"}
    expected = hmac.new(
        hashlib.sha256(TOKEN.encode()).digest(),
        b"auth_date=1700000000\nfirst_name=Sam\nid=42",
        hashlib.sha256,
    ).hexdigest()

    assert sign(fields, KEY) == expected
    from datetime import UTC, datetime

    now = datetime.fromtimestamp(1700000000 + 30, UTC)
    proven = verified_user({**fields, "hash": expected}, KEY, max_age=timedelta(minutes=5), now=now)
    assert proven == 42
