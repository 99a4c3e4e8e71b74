"""Who is signed in, what their role allows, and the checks every request passes.

- The session cookie holds a random token and its HMAC; the database keeps only the token's
  hash. It is HttpOnly, SameSite=Strict, Secure (and `__Host-`) behind HTTPS.
- `current_staff` reads the staff table on every request, so removal or a new role applies at
  once; on every POST it also checks the form's CSRF token (bound to the session).
- `require_role(Role.ADMIN)` refuses other roles with 403.
- `SecurityHeaders` sets a strict Content-Security-Policy (scripts and styles only from
  /static, no inline code) and keeps pages out of caches and Referer headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from jinja2 import pass_context
from markupsafe import Markup

from handlers.staff.access import permits
from handlers.web.config import WebConfig
from handlers.web.context import config_of, register_of
from models.services.staff import Role
from models.services.websessions import WebStaff

CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_name(config: WebConfig, base: str) -> str:
    """The cookie's name: `__Host-` prefixed behind HTTPS, so no subdomain can set it."""
    return f"__Host-{base}" if config.secure else base


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(config: WebConfig, value: str) -> str:
    """VALUE with its signature, for a cookie."""
    return f"{value}.{_mac(config.secret, 'cookie', value)}"


def unsign(config: WebConfig, signed: str | None) -> str | None:
    """The value of a signed cookie, or None when it is missing or its signature is wrong."""
    if not signed or "." not in signed:
        return None
    value, _, mac = signed.rpartition(".")
    if not hmac.compare_digest(mac, _mac(config.secret, "cookie", value)):
        return None
    return value


def set_cookie(
    response: Response, config: WebConfig, base: str, value: str, *, max_age: int
) -> None:
    """Set a signed, HttpOnly, SameSite=Strict cookie (Secure behind HTTPS)."""
    response.set_cookie(
        cookie_name(config, base),
        sign(config, value),
        max_age=max_age,
        path="/",
        secure=config.secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, config: WebConfig, base: str) -> None:
    """Remove a cookie set by `set_cookie`."""
    response.delete_cookie(
        cookie_name(config, base), path="/", secure=config.secure, httponly=True, samesite="strict"
    )


def read_cookie(request: Request, config: WebConfig, base: str) -> str | None:
    """The value of a cookie set by `set_cookie`, if present and genuine."""
    return unsign(config, request.cookies.get(cookie_name(config, base)))


SESSION_COOKIE = "session"


class NotSignedIn(HTTPException):
    """No live session: the page says how to get a sign-in link."""

    def __init__(self) -> None:
        """A 401."""
        super().__init__(status_code=401)


def csrf_token(config: WebConfig, staff: WebStaff) -> str:
    """The form token for STAFF's session."""
    return _mac(config.secret, "csrf", staff.session_hash)


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse (403) a form whose CSRF token is missing or not EXPECTED."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise HTTPException(status_code=403, detail="csrf")


async def current_staff(request: Request) -> WebStaff:
    """The signed-in staff member, role read now; every POST must carry the session's token."""
    config = config_of(request)
    token = read_cookie(request, config, SESSION_COOKIE)
    staff = await register_of(request).web.resolve(token) if token else None
    if staff is None:
        raise NotSignedIn()
    request.state.staff = staff
    if request.method not in SAFE_METHODS:
        await check_csrf(request, csrf_token(config, staff))
    return staff


StaffDep = Annotated[WebStaff, Depends(current_staff)]


def require_role(needed: Role) -> Callable[[WebStaff], Awaitable[WebStaff]]:
    """A dependency giving the signed-in staff member if they hold NEEDED, else 403."""

    async def check(staff: StaffDep) -> WebStaff:
        if not permits(staff.role, needed):
            raise HTTPException(status_code=403)
        return staff

    return check


OfficerDep = Annotated[WebStaff, Depends(require_role(Role.OFFICER))]
AdminDep = Annotated[WebStaff, Depends(require_role(Role.ADMIN))]


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden input every form carries (templates call `{{ csrf_field() }}`)."""
    request: Request = context["request"]
    staff: WebStaff | None = getattr(request.state, "staff", None)
    if staff is None:
        return Markup("")
    token = csrf_token(config_of(request), staff)
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


TELEGRAM_WIDGET_SCRIPT = "https://telegram.org"
TELEGRAM_WIDGET_FRAME = "https://oauth.telegram.org"


def content_security_policy(config: WebConfig, *, login_widget: bool = False) -> str:
    """The console's CSP: nothing inline, scripts and styles from /static only (and, on the
    sign-in page when it is set up, Telegram's login widget script and its frame)."""
    scripts = f"'self' {TELEGRAM_WIDGET_SCRIPT}" if login_widget else "'self'"
    frames = [f"frame-src {TELEGRAM_WIDGET_FRAME}"] if login_widget else []
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src 'self' {config.tile_origin}",
            "connect-src 'self'",
            "font-src 'self'",
            *frames,
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(config: WebConfig) -> dict[str, str]:
    """The headers every response carries: the CSP and its companions."""
    headers = {
        "Content-Security-Policy": content_security_policy(config),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if config.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers
