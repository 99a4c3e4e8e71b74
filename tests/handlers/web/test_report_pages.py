"""Search, a report's page, the contact reveal and status changes, for each role."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from models.register import Register
from models.services.staff import Role
from models.storage.tables import Notification
from models.values.phone import PhoneNumber
from tests import web_fixtures
from tests.factories import audit_events, imei, new_report, rows, subscribe
from tests.staff_fixtures import OFFICER_ID

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

IMEI = imei(4242)
ROLES = [Role.OFFICER, Role.ADMIN]


@pytest.fixture
async def filed(register: Register):
    return await register.reports.file(
        new_report(imeis=(IMEI,), crime_reference="CAD 1234/04DEC26"), "k-web"
    )


def text_of(html: str) -> str:
    """The page's text without tags, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "typed",
    [
        str(IMEI),
        f"{str(IMEI)[:2]}-{str(IMEI)[2:8]}-{str(IMEI)[8:14]}-{str(IMEI)[14]}",
        str(IMEI)[:14],
        "07912 345678",
        "Alex Example",
    ],
)
async def test_search_finds_a_report_by_what_staff_know(console, filed, role, typed) -> None:
    page = await console(role)

    answer = await page.post("/search", {"query": typed})

    assert answer.status_code == 200
    assert f'href="/report/{filed.reference}"' in answer.text
    assert "1 report found" in answer.text


async def test_search_by_reference_and_crime_reference(console, filed) -> None:
    page = await console(Role.OFFICER)
    by_ref = await page.post("/search", {"query": filed.reference.lower().replace("-", "")})
    by_crime = await page.post("/search", {"query": "CAD 1234/04DEC26", "by": "crime_reference"})

    for answer in (by_ref, by_crime):
        assert f'href="/report/{filed.reference}"' in answer.text


async def test_a_search_is_audited_without_what_was_searched(
    register: Register, console, filed
) -> None:
    page = await console(Role.OFFICER)

    await page.post("/search", {"query": "07912 345678"})

    (event,) = await audit_events(register.db, "lookup")
    assert event.actor == f"web:{OFFICER_ID}"
    details = json.loads(event.details)
    assert details == {"channel": "web", "contact_shown": False, "found": 1, "kind": "phone"}
    assert "345678" not in event.details and event.target is None


async def test_a_search_that_cannot_be_read_says_why(console) -> None:
    page = await console(Role.OFFICER)

    answer = await page.post("/search", {"query": "35 1234", "by": "imei"})

    assert answer.status_code == 400
    assert "That is not a valid IMEI." in answer.text


async def test_search_needs_the_form_token_and_a_session(console, browser, filed) -> None:
    page = await console(Role.OFFICER)

    assert (await page.post("/search", {"query": str(IMEI)}, csrf=None)).status_code == 403
    assert (await browser().client.post("/search", data={"query": str(IMEI)})).status_code == 401


async def test_the_query_is_never_in_a_url(console) -> None:
    page = await console(Role.OFFICER)

    form = (await page.get("/search")).text

    assert 'method="post" action="/search"' in form
    assert '<label for="query">' in form and '<label for="by">' in form


# --- the report's page -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_the_report_page_shows_the_sheet_and_records_the_view(
    register: Register, console, filed, role
) -> None:
    page = await console(role)

    answer = await page.get(f"/report/{filed.reference}")

    assert answer.status_code == 200
    shown = text_of(answer.text)
    for expected in (filed.reference, "submitted", "Apple iPhone 15", str(IMEI), "Oxford Street"):
        assert expected in shown
    # Contact details wait for a reveal.
    assert "Alex Example" not in shown and "345678" not in shown
    points = re.search(r'data-points="([^"]*)"', answer.text).group(1)
    assert json.loads(unescape(points)) == [{"kind": "theft", "lat": 51.5142, "lon": -0.1494}]
    (event,) = await audit_events(register.db, "report_view")
    assert (event.target, json.loads(event.details)) == (filed.reference, {"channel": "web"})
    # The page lists who looked, this view included.
    assert "report view" in shown


async def test_an_unknown_or_malformed_reference_is_404(console) -> None:
    page = await console(Role.OFFICER)

    assert (await page.get("/report/SPR-0000-00")).status_code == 404
    assert (await page.get("/report/not-a-reference")).status_code == 404


async def test_the_report_page_needs_a_session(browser, filed) -> None:
    assert (await browser().get(f"/report/{filed.reference}")).status_code == 401


@pytest.mark.parametrize("role", ROLES)
async def test_revealing_the_contact_is_a_post_and_is_recorded(
    register: Register, console, filed, role
) -> None:
    page = await console(role)

    answer = await page.post(f"/report/{filed.reference}/contact")

    assert answer.status_code == 200
    shown = text_of(answer.text)
    assert "Alex Example" in shown and "alex@example.org" in shown
    assert PhoneNumber.parse("07912 345678").e164 in shown
    (event,) = await audit_events(register.db, "contact_reveal")
    assert (event.target, json.loads(event.details)) == (filed.reference, {"channel": "web"})


async def test_reveal_without_the_form_token_reveals_nothing(
    register: Register, console, filed
) -> None:
    page = await console(Role.OFFICER)

    answer = await page.post(f"/report/{filed.reference}/contact", csrf="forged")

    assert answer.status_code == 403 and "Alex Example" not in answer.text
    assert await audit_events(register.db, "contact_reveal") == []


# --- status changes --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_a_status_change_queues_the_victims_notification(
    register: Register, console, filed, role
) -> None:
    await subscribe(register.db, filed.report_id, 777)
    page = await console(role)

    answer = await page.post(
        f"/report/{filed.reference}/status", {"status": "located", "note": "seen at the market"}
    )

    assert answer.status_code == 200
    assert "Moved from submitted to located. 1 notification(s) to the victim queued." in (
        text_of(answer.text)
    )
    report = await register.reports.get(filed.reference)
    assert report.status.value == "located"
    assert report.history[-1].note == "seen at the market"
    assert report.history[-1].actor == f"web:{page_user(role)}"
    (queued,) = await rows(register.db, Notification)
    assert (queued.chat_id, queued.kind) == (777, "status:located")


def page_user(role: Role) -> int:
    return web_fixtures.ADMIN_ID if role is Role.ADMIN else OFFICER_ID


async def test_a_move_the_rules_do_not_allow_is_refused(register: Register, console, filed):
    page = await console(Role.OFFICER)

    answer = await page.post(f"/report/{filed.reference}/status", {"status": "returned"})

    assert answer.status_code == 409
    assert "cannot move to returned" in text_of(answer.text)
    assert (await register.reports.get(filed.reference)).status.value == "submitted"


async def test_the_form_offers_the_allowed_moves_only(console, filed) -> None:
    page = await console(Role.OFFICER)

    html = (await page.get(f"/report/{filed.reference}")).text

    offered = re.findall(r'<option value="([a-z_]+)">', html)
    assert offered == ["under_review", "located", "recovered", "closed", "withdrawn"]
    assert '<label for="new-status">' in html and '<label for="note">' in html


async def test_status_change_refusals(register: Register, console, browser, filed) -> None:
    page = await console(Role.OFFICER)
    path = f"/report/{filed.reference}/status"

    assert (await page.post(path, {"status": "located"}, csrf=None)).status_code == 403
    assert (await page.post(path, {"status": "nonsense"})).status_code == 422
    assert (await page.post(path, {"status": "located", "note": "x" * 501})).status_code == 422
    assert (await page.post("/report/SPR-0000-00/status", {"status": "located"})).status_code == 404
    assert (await browser().client.post(path, data={"status": "located"})).status_code == 401
    assert (await register.reports.get(filed.reference)).status.value == "submitted"
