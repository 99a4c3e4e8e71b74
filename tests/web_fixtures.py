"""Helpers and fixtures for the web console's route tests: an app, and signed-in browsers.

`console(role)` gives a `Console` (an httpx client on the ASGI app) signed in through a real
one-time link; `console.post(path, data)` adds the page's CSRF token the way a form does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from handlers.web.app import create_app
from handlers.web.config import WebConfig
from handlers.web.links import sign_in_url
from models.register import Register
from models.services.staff import Role
from tests.staff_fixtures import ADMIN_ID, OFFICER_ID

BASE_URL = "http://127.0.0.1:8080"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
TOKEN_FIELD = re.compile(r'name="token" value="([^"]+)"')


def form_value(pattern: re.Pattern[str], html: str) -> str:
    """The value of the hidden input PATTERN matches in HTML."""
    match = pattern.search(html)
    assert match, "no such field on the page"
    return match.group(1)


class Console:
    """A browser on the console: cookies kept, forms posted with their CSRF token."""

    def __init__(self, client: httpx.AsyncClient, register: Register) -> None:
        """Wrap CLIENT."""
        self.client = client
        self.register = register

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET PATH."""
        return await self.client.get(path, **kwargs)

    async def csrf(self, page: str = "/") -> str:
        """The CSRF token forms on PAGE carry."""
        response = await self.client.get(page)
        return form_value(CSRF, response.text)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = "auto", **kw: Any
    ) -> httpx.Response:
        """POST a form to PATH with the session's CSRF token (or CSRF as given; None: none)."""
        fields = dict(data or {})
        if csrf == "auto":
            fields["csrf"] = await self.csrf()
        elif csrf is not None:
            fields["csrf"] = csrf
        return await self.client.post(path, data=fields, **kw)

    async def open_link(self, url: str) -> httpx.Response:
        """Open a sign-in link and press its button: the answer to the POST."""
        page = await self.client.get(url.removeprefix(BASE_URL))
        assert page.status_code == 200
        return await self.client.post(
            "/signin",
            data={
                "token": form_value(TOKEN_FIELD, page.text),
                "nonce": form_value(NONCE, page.text),
            },
        )

    async def sign_in(self, user_id: int) -> httpx.Response:
        """Sign USER_ID in with a fresh one-time link."""
        token = await self.register.web.issue_link(user_id, actor="test")
        return await self.open_link(sign_in_url(BASE_URL, token))


@pytest.fixture
def web_config() -> WebConfig:
    """The console's settings for tests (plain HTTP, like the default WEB_BASE_URL)."""
    return WebConfig(secret=b"test-secret-test-secret-test-sec", base_url=BASE_URL)


@pytest.fixture
def web_app(register: Register, web_config: WebConfig) -> FastAPI:
    """The console's app on the test's register."""
    return create_app(web_config, register)


@pytest.fixture
async def browser(web_app: FastAPI, register: Register) -> AsyncIterator[Callable[[], Console]]:
    """Make a new browser (its own cookies) on the console."""
    clients: list[httpx.AsyncClient] = []

    def make() -> Console:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app), base_url=BASE_URL, follow_redirects=False
        )
        clients.append(client)
        return Console(client, register)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def console(
    register: Register, browser: Callable[[], Console]
) -> Callable[..., Awaitable[Console]]:
    """console(role, user_id=...): a browser signed in as a staff member of ROLE."""

    async def make(role: Role, *, user_id: int | None = None) -> Console:
        uid = user_id or {Role.ADMIN: ADMIN_ID, Role.OFFICER: OFFICER_ID}[role]
        await register.staff.add(uid, role, added_by="test")
        page = browser()
        answer = await page.sign_in(uid)
        assert answer.status_code == 303, answer.text
        return page

    return make
