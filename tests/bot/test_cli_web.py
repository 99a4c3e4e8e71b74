"""`reportbot staff login-link` and `reportbot web`'s wiring."""

from __future__ import annotations

import httpx
import pytest

from bot.cli import build_parser
from bot.settings import load_settings
from bot.web import build_web_app
from models.register import Register
from models.services.staff import Role
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")


async def test_login_link_prints_a_url_under_web_base_url_that_signs_in_once(
    register: Register, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_BASE_URL", "https://console.example.org/")
    await register.staff.add(42, Role.ADMIN, added_by="test")

    code, out, err = await run(capsys, "staff", "login-link", "42")

    assert (code, err) == (0, "")
    url = out.strip()
    assert url.startswith("https://console.example.org/signin/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 40
    assert await register.web.sign_in(token, source="t") is not None
    (event,) = await audit_events(register.db, "web_link")
    assert event.target == "42" and event.actor.startswith("cli:")
    assert token not in event.details


async def test_login_link_for_someone_not_staff_fails_with_one_line(
    register: Register, capsys
) -> None:
    code, out, err = await run(capsys, "staff", "login-link", "42")

    assert (code, out) == (1, "")
    assert err == "reportbot: 42 is not a staff member\n"


def test_web_takes_host_and_port() -> None:
    args = build_parser().parse_args(["web", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    defaults = build_parser().parse_args(["web"])
    assert (defaults.host, defaults.port) == (None, None)


async def test_the_app_from_settings_signs_cookies_with_a_key_every_process_shares(
    register: Register, cli_env
) -> None:
    settings = load_settings()
    await register.staff.add(42, Role.OFFICER, added_by="test")
    first, second = build_web_app(settings, register), build_web_app(settings, register)
    token = await register.web.issue_link(42, actor="test")
    transport = httpx.ASGITransport(app=first)
    async with httpx.AsyncClient(transport=transport, base_url=settings.web_base_url) as one:
        page = await one.get(f"/signin/{token}")
        nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
        signed = await one.post("/signin", data={"token": token, "nonce": nonce})
        assert signed.status_code == 303
        cookies = one.cookies

    # The same cookie works on another process (load balancer), built from the same settings.
    transport = httpx.ASGITransport(app=second)
    async with httpx.AsyncClient(
        transport=transport, base_url=settings.web_base_url, cookies=cookies
    ) as other:
        assert (await other.get("/")).status_code == 200


@pytest.mark.parametrize("bad", ["ftp://x", "console.example.org", ""])
def test_web_base_url_must_be_an_http_url(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsError

    monkeypatch.setenv("WEB_BASE_URL", bad)
    if bad == "":
        # Empty means unset: the default.
        assert load_settings().web_base_url == "http://127.0.0.1:8080"
        return
    with pytest.raises(SettingsError, match="WEB_BASE_URL: must be an http"):
        load_settings()


async def test_the_login_widget_needs_the_bots_token(
    register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import SettingsError
    from handlers.web.telegram_login import widget_key

    monkeypatch.setenv("WEB_LOGIN_BOT", "@StolenPhoneBot")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        build_web_app(load_settings(), register)

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    app = build_web_app(load_settings(), register)
    assert app.state.config.login_widget_bot == "StolenPhoneBot"
    assert app.state.config.login_widget_key == widget_key("123:abc")
    monkeypatch.setenv("WEB_LOGIN_BOT", "not a bot!")
    with pytest.raises(SettingsError, match="WEB_LOGIN_BOT"):
        load_settings()
