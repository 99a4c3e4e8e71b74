"""Rules every page keeps, checked over the whole app (pages added later included)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from handlers.web.auth import current_staff
from models.register import Register
from models.services.staff import Role
from tests import web_fixtures
from tests.factories import new_report

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

# The only routes open without a session: signing in.
OPEN = {
    ("GET", "/signin"),
    ("GET", "/signin/{token}"),
    ("POST", "/signin"),
    ("GET", "/signin-telegram"),
}


def _calls(dependant: Dependant) -> set:
    found = {dependant.call}
    for child in dependant.dependencies:
        found |= _calls(child)
    return found


def _flatten(found: list, candidates: list) -> None:
    for route in candidates:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            # An included router (the pages are included without a prefix).
            _flatten(found, route.original_router.routes)


def routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found: list[APIRoute] = []
    _flatten(found, app.routes)
    return [(method, route.path, route) for route in found for method in route.methods]


def test_the_walk_finds_the_pages(web_app) -> None:
    walked = {(method, path) for method, path, _ in routes(web_app)}
    assert {("GET", "/"), ("POST", "/signin"), ("GET", "/report/{reference}")} <= walked
    assert len(walked) >= 15


def test_every_route_but_sign_in_needs_a_session_and_every_post_its_token(web_app) -> None:
    # current_staff reads the role now and, on a POST, checks the form's CSRF token.
    for method, path, route in routes(web_app):
        if (method, path) in OPEN:
            continue
        assert current_staff in _calls(route.dependant), f"{method} {path} has no session check"


async def test_no_route_answers_without_a_session(web_app, browser) -> None:
    page = browser()
    for method, path, _ in routes(web_app):
        if (method, path) in OPEN:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = await page.client.request(method, url)
        assert answer.status_code == 401, f"{method} {path}"


class Fields(HTMLParser):
    """The form fields of a page and the labels pointing at them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.labels: set[str] = set()
        self.unnamed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])
        if tag in {"input", "select", "textarea"} and values.get("type") not in {
            "hidden",
            "submit",
        }:
            if values.get("id"):
                self.fields.append(values["id"])
            else:
                self.unnamed.append(str(values))


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN])
async def test_every_field_on_every_page_has_a_label(
    web_app, console, register: Register, role
) -> None:
    filed = await register.reports.file(new_report(), "k-labels")
    page = await console(role)
    paths = [
        re.sub(r"\{[^}]+\}", filed.reference, path)
        for method, path, _ in routes(web_app)
        if method == "GET" and "{token}" not in path and path != "/signin-telegram"
    ]
    for path in paths:
        answer = await page.get(path)
        if answer.status_code == 403:
            continue
        assert answer.status_code == 200, path
        parser = Fields()
        parser.feed(answer.text)
        assert parser.unnamed == [], path
        assert set(parser.fields) <= parser.labels, (path, set(parser.fields) - parser.labels)


# Every action of the console: (method, path, form, the least role that may). Each is tried by
# nobody, an officer and an admin, with and without the form token.
ACTIONS = [
    ("GET", "/", None, Role.OFFICER),
    ("GET", "/search", None, Role.OFFICER),
    ("POST", "/search", {"query": "SPR-7KQ4-M9"}, Role.OFFICER),
    ("GET", "/reports", None, Role.OFFICER),
    ("GET", "/report/{ref}", None, Role.OFFICER),
    ("POST", "/report/{ref}/contact", {}, Role.OFFICER),
    ("POST", "/report/{ref}/status", {"status": "under_review"}, Role.OFFICER),
    ("GET", "/export", None, Role.ADMIN),
    ("POST", "/export", {"format": "csv"}, Role.ADMIN),
    ("GET", "/audit", None, Role.ADMIN),
    ("GET", "/staff", None, Role.ADMIN),
    ("POST", "/staff", {"user_id": "6001", "role": "officer"}, Role.ADMIN),
    ("POST", "/staff/6001/remove", {}, Role.ADMIN),
    ("POST", "/signout", {}, Role.OFFICER),
]


def test_the_matrix_covers_every_route(web_app) -> None:
    covered = {(method, path.replace("{ref}", "{reference}")) for method, path, *_ in ACTIONS}
    covered |= {(m, p.replace("6001", "{user_id}")) for m, p in covered}
    missing = {(m, p) for m, p, _ in routes(web_app) if (m, p) not in OPEN} - covered
    # Pages other modules add are checked by the session and token tests above.
    assert not {(m, p) for m, p in missing if not p.startswith(("/map", "/stats", "/recovery"))}


@pytest.mark.parametrize("role", [None, Role.OFFICER, Role.ADMIN])
@pytest.mark.parametrize(("method", "path", "form", "least"), ACTIONS)
async def test_each_role_and_each_action(
    console, browser, register: Register, role, method, path, form, least
) -> None:
    filed = await register.reports.file(new_report(), "k-matrix")
    await register.staff.add(6001, Role.OFFICER, added_by="test")
    url = path.replace("{ref}", filed.reference)
    page = await console(role) if role else browser()
    may = role is Role.ADMIN or (role is Role.OFFICER and least is Role.OFFICER)

    if method == "GET":
        answer = await page.get(url)
    else:
        if role is not None:
            forged = await page.post(url, form, csrf="forged")
            assert forged.status_code in (403,), (url, forged.status_code)
        answer = (
            await page.client.post(url, data=form) if role is None else (await page.post(url, form))
        )

    if role is None:
        assert answer.status_code == 401
    elif may:
        assert answer.status_code in (200, 303), (url, answer.status_code)
    else:
        assert answer.status_code == 403
