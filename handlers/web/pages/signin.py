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
    content_security_policy,
    read_cookie,
    set_cookie,
)
from handlers.web.context import ConfigDep, RegisterDep, config_of
from handlers.web.links import SIGN_IN_PATH
from handlers.web.render import render
from handlers.web.telegram_login import verified_user
from models.services.websessions import Refused, SignedIn, SignInOutcome, TooManyFailures

router = APIRouter()
NAV = None
NONCE_COOKIE = "signin"
NONCE_SECONDS = 15 * 60
MAX_TOKEN = 200
TELEGRAM_PATH = "/signin-telegram"


def signed_out_page(
    request: Request, context: dict[str, object] | None = None, *, status_code: int = 200
) -> Response:
    """How to sign in: the bot's link, and Telegram's login widget when it is set up."""
    config = config_of(request)
    values: dict[str, object] = {"widget": None, **(context or {})}
    if config.login_widget:
        values["widget"] = {
            "bot": config.login_widget_bot,
            "auth_url": f"{config.base_url}{TELEGRAM_PATH}",
        }
    response = render(request, "signed_out.html", values, status_code=status_code)
    if config.login_widget:
        response.headers["Content-Security-Policy"] = content_security_policy(
            config, login_widget=True
        )
    return response


@router.get(SIGN_IN_PATH)
async def signed_out(request: Request) -> Response:
    """How to get a sign-in link."""
    return signed_out_page(request)


@router.get(TELEGRAM_PATH)
async def telegram_sign_in(request: Request, config: ConfigDep, register: RegisterDep) -> Response:
    """Telegram's login widget sends the browser back here with a signed answer."""
    if not config.login_widget or config.login_widget_key is None:
        raise HTTPException(status_code=404)
    answer = {name: value[:MAX_TOKEN] for name, value in request.query_params.items()}
    user_id = verified_user(answer, config.login_widget_key, max_age=register.web.rules.link_ttl)
    source = request.client.host if request.client else "unknown"
    outcome: SignInOutcome
    if user_id is None:
        # A forged or stale answer counts as a failed sign-in from this address.
        outcome = await register.web.refuse(source=source)
    else:
        outcome = await register.web.sign_in_proven(user_id, answer["hash"], source=source)
    if isinstance(outcome, SignedIn):
        # The session cookie is SameSite=Strict: a redirect at the end of Telegram's
        # cross-site round trip would arrive without it, so a same-site link continues.
        response = render(request, "signed_in.html")
        seconds = int(register.web.rules.absolute.total_seconds())
        set_cookie(response, config, SESSION_COOKIE, outcome.session_token, max_age=seconds)
        return response
    return _refusal(request, outcome)


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
    return _refusal(request, outcome)


def _refusal(request: Request, outcome: Refused | TooManyFailures) -> Response:
    if isinstance(outcome, Refused):
        return signed_out_page(
            request,
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
