"""Who may open the map, the statistics and bulk recovery: each role, each route."""

from __future__ import annotations

import pytest

from models.services.staff import Role
from tests import web_fixtures

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

# (method, path): what nobody, an officer and an admin get (an admin's POSTs here send no file
# or token, so they are refused as malformed, after the role check let them through).
ROUTES = [
    ("GET", "/map", 401, 200, 200),
    ("GET", "/map/points.geojson", 401, 200, 200),
    ("GET", "/stats", 401, 200, 200),
    ("GET", "/recovery", 401, 403, 200),
    ("POST", "/recovery/preview", 401, 403, 400),
    ("POST", "/recovery/confirm", 401, 403, 400),
]


@pytest.mark.parametrize(("method", "path", "nobody", "officer", "admin"), ROUTES)
async def test_each_role_on_each_route(
    console, browser, method: str, path: str, nobody: int, officer: int, admin: int
) -> None:
    stranger = browser()
    as_officer = await console(Role.OFFICER)
    as_admin = await console(Role.ADMIN)

    async def call(page) -> int:
        if method == "GET":
            return (await page.get(path)).status_code
        # A stranger has no session, hence no form token to send.
        token = None if page is stranger else "auto"
        return (await page.post(path, {}, csrf=token)).status_code

    assert await call(stranger) == nobody
    assert await call(as_officer) == officer
    assert await call(as_admin) == admin
