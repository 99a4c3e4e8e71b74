"""Errors no page expected: our own 500 page, with every security header, logged once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import StreamingResponse

from handlers.web.app import create_app
from handlers.web.config import WebConfig
from models.register import Register
from models.services.staff import Role
from tests import web_fixtures

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

SECRET_IN_ERROR = "+447700900123 alex@example.org"


def _breaking(app: FastAPI) -> FastAPI:
    """APP with a page that fails the way a bug would, quoting personal data in its message."""

    async def broken() -> None:
        raise RuntimeError(f"could not store {SECRET_IN_ERROR}")

    app.add_api_route("/broken", broken)
    return app


def _assert_guarded(answer: httpx.Response) -> None:
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"


async def test_an_unexpected_error_is_our_500_page_with_the_headers_logged_once(
    web_app: FastAPI, console, caplog: pytest.LogCaptureFixture
) -> None:
    _breaking(web_app)
    page = await console(Role.OFFICER)
    caplog.set_level(logging.DEBUG)

    answer = await page.get("/broken")

    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "text/html" in answer.headers["content-type"]
    _assert_guarded(answer)
    assert SECRET_IN_ERROR not in answer.text and "Traceback" not in answer.text
    assert "RuntimeError" not in answer.text
    logged = [r for r in caplog.records if not r.name.startswith("httpx")]
    about = [r for r in logged if "/broken" in r.getMessage()]
    assert len(about) == 1 and about[0].levelno == logging.ERROR
    assert "RuntimeError" in about[0].getMessage()
    assert all(record.exc_info is None for record in logged)
    text = "\n".join(record.getMessage() for record in logged)
    assert "+447700900123" not in text and "alex@example.org" not in text


async def test_not_found_and_server_errors_carry_hsts_behind_https(register: Register) -> None:
    config = WebConfig(secret=b"s" * 32, base_url="https://console.example.org")
    app = _breaking(create_app(config, register))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=config.base_url) as client:
        missing = await client.get("/nowhere")
        broken = await client.get("/broken")

    for answer, code in ((missing, 404), (broken, 500)):
        assert answer.status_code == code
        _assert_guarded(answer)
        assert answer.headers["strict-transport-security"].startswith("max-age=")


async def test_a_download_that_fails_half_way_is_cut_short_and_logged_once(
    web_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def pieces() -> AsyncIterator[str]:
        yield "reference,status\n"
        raise RuntimeError(f"row for {SECRET_IN_ERROR}")

    async def download() -> StreamingResponse:
        return StreamingResponse(pieces(), media_type="text/csv")

    web_app.add_api_route("/download", download)
    caplog.set_level(logging.DEBUG)
    sent: list[dict] = []

    requested = asyncio.Event()
    never = asyncio.Event()

    async def receive() -> dict:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/download",
        "raw_path": b"/download",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"console.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("console.test", 80),
    }
    await web_app(scope, receive, send)  # the error does not reach the server

    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    bodies = [message for message in sent if message["type"] == "http.response.body"]
    assert bodies and all(message.get("more_body") for message in bodies)  # never "complete"
    about = [r for r in caplog.records if "/download" in r.getMessage()]
    assert len(about) == 1 and "RuntimeError" in about[0].getMessage()
    assert SECRET_IN_ERROR not in about[0].getMessage()
