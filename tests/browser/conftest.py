"""Fixtures for browser tests: the console process, Chromium, and staff signed in through links.

Every browser test skips where no Chromium is installed, except in CI (CI=1 or
REQUIRE_BROWSER=1, which .ci/run sets), where a missing browser fails.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.services.staff import Role
from tests.browser.harness import ConsoleEnvironment, ConsoleProcess, chromium_or_skip
from tests.conftest import DatabaseFactory

ADMIN = 4242
OFFICER = 4343


@pytest.fixture
def chromium() -> str:
    """The Chromium binary (skip, or fail in CI, when there is none)."""
    return chromium_or_skip()


@pytest.fixture
def keys() -> KeyRing:
    """The data keys the console, the CLI and the test share."""
    return KeyRing.generate()


@pytest.fixture
async def console_env(
    databases: DatabaseFactory, tmp_path: Path, keys: KeyRing
) -> ConsoleEnvironment:
    """A migrated database, keys and a folder for the console, with one admin and one officer."""
    database = await databases.create()
    workdir = tmp_path / "console"
    workdir.mkdir()
    environment = ConsoleEnvironment(
        workdir=workdir,
        database_url=database.url.render_as_string(hide_password=False),
        database_schema=database.schema,
        keys=keys.to_env(),
    )
    return environment


@pytest.fixture
async def seeded(
    console_env: ConsoleEnvironment, databases: DatabaseFactory, keys: KeyRing
) -> Register:
    """The register the console serves, opened by the test to seed and to check it; with one
    admin and one officer (added through the service: the CLI's `staff add` has tests of its
    own, and each command line costs seconds on a busy machine)."""
    register = Register(databases.databases[0], Vault(keys))
    await register.staff.add(ADMIN, Role.ADMIN, added_by="test")
    await register.staff.add(OFFICER, Role.OFFICER, added_by="test")
    return register


@pytest.fixture
async def console(
    console_env: ConsoleEnvironment, seeded: Register, tmp_path: Path
) -> AsyncIterator[ConsoleProcess]:
    """The running `reportbot web` process."""
    process = ConsoleProcess(console_env, tmp_path / "console.log")
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def browser(chromium: str, tmp_path: Path) -> AsyncIterator:
    """A headless Chromium (Debian's), driven by Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # Chromium's sandbox needs user namespaces that root in a container does not get.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = await playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            yield browser
        finally:
            await browser.close()


SignIn = Callable[..., Awaitable]


def _favicon(url: str | None) -> bool:
    """The icon a browser asks for on its own: the console has none, and needs none."""
    return bool(url) and url.endswith("/favicon.ico")


@pytest.fixture
async def signed_in(
    browser, console: ConsoleProcess, console_env: ConsoleEnvironment, tmp_path: Path
) -> AsyncIterator[SignIn]:
    """`await signed_in(ADMIN)`: a page of a new browser context, signed in with a one-time link."""
    contexts = []

    async def sign_in(user_id: int = ADMIN, *, width: int = 1280, height: int = 860):
        context = await browser.new_context(
            base_url=console_env.base_url,
            viewport={"width": width, "height": height},
            accept_downloads=True,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        contexts.append(context)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error" and not _favicon(message.location.get("url"))
                else None
            ),
        )
        page.errors = errors  # what the page's scripts (and CSP reports) complained of
        await page.goto(await console_env.login_link(user_id))
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{console_env.base_url}/")
        return page

    yield sign_in
    for context in contexts:
        await context.close()
