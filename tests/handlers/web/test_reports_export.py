"""The reports list with its filters, and exports from the browser in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from handlers.web.filters import FilterForm, read_filters
from handlers.web.pages import home as home_page
from handlers.web.pages import reports as reports_page
from models.register import Register
from models.services.staff import Role
from models.storage.columns import utcnow
from tests import web_fixtures
from tests.factories import audit_events, imei, new_report, set_report_columns
from tests.staff_fixtures import ADMIN_ID

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def mix(register: Register) -> dict[str, str]:
    """Reports filed today and long ago, with and without an IMEI or a tracked location."""
    now = utcnow()
    made = {}
    plans = {
        "today_moped": dict(theft_method="snatched_moped"),
        "today_no_imei": dict(imeis=(), theft_method="pickpocket"),
        "today_tracked": dict(
            theft_method="force", tracked_lat=51.52, tracked_lon=-0.10, tracked_at=now
        ),
        "old": dict(theft_method="snatched_moped"),
    }
    for name, overrides in plans.items():
        filed = await register.reports.file(new_report(**overrides), f"k-{name}")
        made[name] = filed.reference
    await set_report_columns(register.db, made["old"], created_at=now - timedelta(days=40))
    await set_report_columns(register.db, made["today_moped"], status="under_review")
    return made


def listed(html: str) -> set[str]:
    return set(re.findall(r'href="/report/([A-Z0-9-]+)"', html))


# --- the list --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN])
async def test_today_lists_todays_reports(console, mix, role) -> None:
    page = await console(role)

    answer = await page.get("/reports")

    assert answer.status_code == 200
    assert listed(answer.text) == {mix["today_moped"], mix["today_no_imei"], mix["today_tracked"]}
    assert ("Export these" in answer.text) is (role is Role.ADMIN)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("period=all", {"today_moped", "today_no_imei", "today_tracked", "old"}),
        ("period=all&status=under_review", {"today_moped"}),
        ("period=all&method=snatched_moped", {"today_moped", "old"}),
        ("period=all&imei=no", {"today_no_imei"}),
        ("period=all&imei=yes", {"today_moped", "today_tracked", "old"}),
        ("period=all&tracked=yes", {"today_tracked"}),
        ("period=week&tracked=no&imei=yes", {"today_moped"}),
    ],
)
async def test_filters(console, mix, query, expected) -> None:
    page = await console(Role.OFFICER)

    answer = await page.get(f"/reports?{query}")

    assert listed(answer.text) == {mix[name] for name in expected}
    assert f"{len(expected)} report" in answer.text


async def test_a_date_range_includes_its_last_day(console, mix, register: Register) -> None:
    old_day = (utcnow() - timedelta(days=40)).astimezone(LONDON).date()
    page = await console(Role.OFFICER)

    answer = await page.get(f"/reports?period=range&since={old_day}&until={old_day}")

    assert listed(answer.text) == {mix["old"]}


async def test_the_list_pages_newest_first(console, register: Register) -> None:
    refs = [
        (await register.reports.file(new_report(imeis=(imei(),)), f"k-{n}")).reference
        for n in range(53)
    ]
    page = await console(Role.OFFICER)

    first = await page.get("/reports")
    older = re.search(r'href="/reports\?([^"]+)">Older reports', first.text).group(1)
    second = await page.get("/reports?" + older.replace("&amp;", "&"))

    shown_first = re.findall(r'href="/report/([A-Z0-9-]+)"', first.text)
    shown_second = re.findall(r'href="/report/([A-Z0-9-]+)"', second.text)
    assert shown_first == refs[::-1][:50]
    assert shown_second == refs[::-1][50:]
    assert "Older reports" not in second.text


async def test_a_total_over_the_cap_reads_more_than(console, mix, monkeypatch) -> None:
    monkeypatch.setattr(reports_page, "COUNT_CAP", 2)
    monkeypatch.setattr(home_page, "COUNT_CAP", 2)
    page = await console(Role.OFFICER)

    wide = await page.get("/reports?period=all")
    narrow = await page.get("/reports?period=all&imei=no")
    start = await page.get("/")

    assert "More than 2 reports" in wide.text
    assert len(listed(wide.text)) == 4  # the page itself is not capped
    assert "1 report<" in narrow.text and "More than" not in narrow.text
    assert "New today: <strong>more than 2</strong>" in start.text


async def test_bad_filter_values_are_422(console) -> None:
    page = await console(Role.OFFICER)
    too_long = "x" * 21
    for query in (
        "period=year",
        "status=lost",
        "method=teleport",
        "imei=maybe",
        "before=0",
        f"tracked={too_long}",
    ):
        assert (await page.get(f"/reports?{query}")).status_code == 422, query
    bad_day = await page.get("/reports?period=range&since=yesterday")
    assert bad_day.status_code == 422


async def test_the_list_needs_a_session(browser) -> None:
    assert (await browser().get("/reports")).status_code == 401


def test_days_are_the_registers_days() -> None:
    # 10 July 2026 00:30 in London is 9 July 23:30 UTC; that Friday's week began on Monday 6th.
    now = datetime(2026, 7, 9, 23, 30, tzinfo=UTC)

    today = read_filters(FilterForm(period="today"), LONDON, now=now)
    week = read_filters(FilterForm(period="week"), LONDON, now=now)
    span = read_filters(
        FilterForm(period="range", since="2026-07-01", until="2026-07-02"), LONDON, now=now
    )

    assert today.since == datetime(2026, 7, 9, 23, 0, tzinfo=UTC)
    assert week.since == datetime(2026, 7, 5, 23, 0, tzinfo=UTC)
    assert (span.since, span.until) == (
        datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 7, 2, 23, 0, tzinfo=UTC),
    )


# --- export ----------------------------------------------------------------------------------


async def test_an_officer_may_not_export(console, register: Register) -> None:
    page = await console(Role.OFFICER)

    assert (await page.get("/export")).status_code == 403
    assert (await page.post("/export", {"format": "csv"})).status_code == 403
    assert await audit_events(register.db, "export") == []


async def test_export_needs_the_form_token(console, register: Register) -> None:
    page = await console(Role.ADMIN)

    answer = await page.post("/export", {"format": "csv"}, csrf=None)

    assert answer.status_code == 403
    assert await audit_events(register.db, "export") == []


async def test_csv_export_with_the_lists_filters(console, mix, register: Register) -> None:
    page = await console(Role.ADMIN)

    answer = await page.post(
        "/export", {"format": "csv", "period": "all", "method": "snatched_moped"}
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="reports-\d{8}-\d{6}\.csv"', answer.headers["content-disposition"]
    )
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert {row["reference"] for row in table} == {mix["today_moped"], mix["old"]}
    (event,) = await audit_events(register.db, "export")
    assert event.actor == f"web:{ADMIN_ID}"
    assert json.loads(event.details) == {
        "channel": "web",
        "format": "csv",
        "method": "snatched_moped",
        "rows": 2,
        "since": None,
        "status": None,
        "until": None,
    }


@pytest.mark.parametrize("chosen", ["jsonl", "geojson", "kml", "blocklist"])
async def test_every_format_downloads(console, mix, chosen) -> None:
    page = await console(Role.ADMIN)

    answer = await page.post("/export", {"format": chosen, "period": "all"})

    assert answer.status_code == 200
    body = answer.content.decode("utf-8-sig")
    if chosen == "jsonl":
        assert {json.loads(line)["reference"] for line in body.splitlines()} == set(mix.values())
    elif chosen == "geojson":
        features = json.loads(body)["features"]
        assert {f["properties"]["reference"] for f in features} == set(mix.values())
    elif chosen == "kml":
        ElementTree.fromstring(body.encode())
        assert all(reference in body for reference in mix.values())
    else:
        assert body.splitlines()[0] == "imei,reporting_date,status"
        assert len(body.splitlines()) == 1 + 3  # three reports hold one IMEI each


async def test_a_format_that_takes_no_filters_ignores_them(console, mix) -> None:
    page = await console(Role.ADMIN)

    answer = await page.post("/export", {"format": "blocklist", "status": "closed"})

    assert answer.status_code == 200


async def test_an_unknown_format_is_refused(console, register: Register) -> None:
    page = await console(Role.ADMIN)

    answer = await page.post("/export", {"format": "xlsx"})

    assert answer.status_code == 422
    assert await audit_events(register.db, "export") == []


async def test_the_export_form_is_filled_from_the_list(console) -> None:
    page = await console(Role.ADMIN)

    html = (await page.get("/export?period=all&status=located&imei=no")).text

    assert '<option value="all" selected>' in html
    assert '<option value="located" selected>' in html
    assert '<option value="no" selected>' in html
    for field in ("period", "since", "until", "status", "method", "imei", "tracked", "personal"):
        assert f'<label for="{field}"' in html or f'for="{field}"' in html


async def test_the_start_page_counts_todays_and_this_weeks_reports(console, mix) -> None:
    page = await console(Role.OFFICER)

    html = (await page.get("/")).text

    assert 'href="/reports?period=today">New today: <strong>3</strong>' in html
    assert "New this week: <strong>3</strong>" in html
