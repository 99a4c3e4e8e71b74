"""Signing in with a one-time link, and signing out.

The link's GET only shows a button: link previews and prefetchers must not use the link up.
The POST checks a nonce from a SameSite=Strict cookie set by that GET, so another site cannot
sign a browser in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from handlers.web.auth import (
    SESSION_COOKIE,
    StaffDep,
    clear_cookie,
    read_cookie,
    set_cookie,
)
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.links import SIGN_IN_PATH
from handlers.web.render import render
from models.services.websessions import Refused, SignedIn

router = APIRouter()
NAV = None
NONCE_COOKIE = "signin"
NONCE_SECONDS = 15 * 60
MAX_TOKEN = 200


@router.get(SIGN_IN_PATH)
async def signed_out(request: Request) -> Response:
    """How to get a sign-in link."""
    return render(request, "signed_out.html")


@router.get(SIGN_IN_PATH + "/{token}")
async def sign_in_page(request: Request, token: str, config: ConfigDep) -> Response:
    """The page a sign-in link opens: one button that signs in."""
    nonce = secrets.token_urlsafe(24)
    response = render(request, "signin.html", {"token": token[:MAX_TOKEN], "nonce": nonce})
    set_cookie(response, config, NONCE_COOKIE, nonce, max_age=NONCE_SECONDS)
    return response


@router.post(SIGN_IN_PATH)
async def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=MAX_TOKEN)],
    nonce: Annotated[str, Form(max_length=100)],
    config: ConfigDep,
    register: RegisterDep,
) -> Response:
    """Use the link: a session cookie and the start page, or why not."""
    expected = read_cookie(request, config, NONCE_COOKIE)
    if expected is None or not hmac.compare_digest(expected, nonce):
        raise HTTPException(status_code=403, detail="csrf")
    source = request.client.host if request.client else "unknown"
    outcome = await register.web.sign_in(token, source=source)
    if isinstance(outcome, SignedIn):
        response: Response = RedirectResponse("/", status_code=303)
        seconds = int(register.web.rules.absolute.total_seconds())
        set_cookie(response, config, SESSION_COOKIE, outcome.session_token, max_age=seconds)
        clear_cookie(response, config, NONCE_COOKIE)
        return response
    if isinstance(outcome, Refused):
        return render(
            request,
            "signed_out.html",
            {
                "heading": "This link does not work",
                "message": "It was already used, it expired, or it is not a sign-in link.",
            },
            status_code=400,
        )
    wait = max(1, ceil((outcome.retry_at - datetime.now(UTC)).total_seconds()))
    response = render(
        request,
        "error.html",
        {
            "heading": "Too many attempts",
            "message": "Too many sign-in links that did not work. Wait a little and try again.",
        },
        status_code=429,
    )
    response.headers["Retry-After"] = str(wait)
    return response


@router.post("/signout")
async def sign_out(staff: StaffDep, config: ConfigDep, register: RegisterDep) -> Response:
    """End this session."""
    await register.web.sign_out(staff)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    clear_cookie(response, config, SESSION_COOKIE)
    return response
