"""The staff web console's ASGI application."""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from handlers.web.auth import security_headers
from handlers.web.config import WebConfig
from handlers.web.middleware import ConsoleMiddleware
from handlers.web.pages import (
    audit,
    export,
    home,
    map,
    recovery,
    report,
    reports,
    search,
    signin,
    staff,
    stats,
)
from handlers.web.render import STATIC, NavEntry, render
from models.register import Register

# Every page's router, in menu order.
PAGES: tuple[ModuleType, ...] = (
    home,
    search,
    reports,
    report,
    map,
    stats,
    export,
    recovery,
    audit,
    staff,
    signin,
)

ERRORS = {
    400: ("Not understood", "The request could not be understood."),
    403: ("Not allowed", "Your role does not allow this, or the form was stale: reload the page."),
    404: ("Not found", "There is nothing here."),
    405: ("Not allowed", "This address does not take that kind of request."),
    413: ("Too large", "What you sent is too large."),
    422: ("Not understood", "Some of what you sent could not be read."),
    429: ("Too many requests", "Wait a little and try again."),
    500: ("Something went wrong", "The console could not answer. Try again in a moment."),
}


def create_app(config: WebConfig, register: Register) -> FastAPI:
    """The console for REGISTER, configured by CONFIG."""
    app = FastAPI(
        title="Stolen phone register: staff console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.register = register
    app.state.config = config
    app.state.nav = [page.NAV for page in PAGES if isinstance(getattr(page, "NAV", None), NavEntry)]
    for page in PAGES:
        app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_middleware(ConsoleMiddleware, headers=security_headers(config), failed=_server_error)
    return app


def _server_error(scope: Scope) -> Response:
    """The page for an error no handler expected (the middleware logs it, once)."""
    heading, message = ERRORS[500]
    try:
        return render(
            Request(scope), "error.html", {"heading": heading, "message": message}, status_code=500
        )
    except Exception:  # the page itself cannot be drawn: say it plainly
        return PlainTextResponse(message, status_code=500)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """An error as a page (logged once, by the middleware)."""
    if exc.status_code == 401:
        return signin.signed_out_page(request, status_code=401)
    heading, message = ERRORS.get(exc.status_code, ("Something went wrong", "Try again."))
    response = render(
        request,
        "error.html",
        {"heading": heading, "message": message},
        status_code=exc.status_code,
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A form or query that does not fit the route, as a 422 page (never echoing the input)."""
    heading, message = ERRORS[422]
    return render(request, "error.html", {"heading": heading, "message": message}, status_code=422)
