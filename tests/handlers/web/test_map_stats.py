"""The hotspot map's page and points, and the statistics page with its charts."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from models.register import Register
from models.services.staff import Role
from models.storage.columns import utcnow
from tests import web_fixtures
from tests.factories import audit_events, new_report, set_report_columns

web_config = web_fixtures.web_config
web_app = web_fixtures.web_app
browser = web_fixtures.browser
console = web_fixtures.console


async def test_the_map_page_needs_a_sign_in_and_loads_only_from_static(browser) -> None:
    anonymous = browser()

    assert (await anonymous.get("/map")).status_code == 401
    assert (await anonymous.get("/map/points.geojson")).status_code == 401


async def test_an_officer_sees_the_map_with_its_period_and_vendored_scripts(console) -> None:
    page = await console(Role.OFFICER)

    answer = await page.get("/map?days=7")

    assert answer.status_code == 200
    assert 'data-points="/map/points.geojson?days=7"' in answer.text
    scripts = re.findall(r'<script src="([^"]+)"', answer.text)
    assert scripts == [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/static/map-base.js",
        "/static/map.js",
    ]
    for script in scripts:
        assert (await page.get(script)).status_code == 200
    assert "<script>" not in answer.text and " style=" not in answer.text
    assert '<option value="7" selected>' in answer.text
    # No tile server is set (the default): the page may load images from the console only.
    policy = dict(
        part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";")
    )
    assert policy["img-src"].strip() == "'self'"
    assert 'data-tiles=""' in answer.text


async def test_points_are_the_periods_and_the_look_is_audited(console, register: Register) -> None:
    now = utcnow()
    recent = await register.reports.file(
        new_report(tracked_lat=51.5, tracked_lon=-0.12, tracked_at=now), "k-recent"
    )
    old = await register.reports.file(new_report(), "k-old")
    await set_report_columns(register.db, old.reference, created_at=now - timedelta(days=10))
    page = await console(Role.OFFICER)

    week = await page.get("/map/points.geojson?days=7")
    month = await page.get("/map/points.geojson?days=30")

    assert week.headers["content-type"].startswith("application/geo+json")
    ids = sorted(feature["id"] for feature in json.loads(week.text)["features"])
    assert ids == [f"{recent.reference}/theft", f"{recent.reference}/tracked"]
    assert len(json.loads(month.text)["features"]) == 3
    assert "Alex Example" not in month.text
    looks = [json.loads(event.details) for event in await audit_events(register.db, "map_view")]
    assert [(look["points"], look["reports"]) for look in looks] == [(2, 1), (3, 2)]


async def test_a_period_by_dates_and_a_backwards_period(console) -> None:
    page = await console(Role.OFFICER)

    by_dates = await page.get("/map?from=2026-01-01&to=2026-01-31")
    backwards = await page.get("/map/points.geojson?from=2026-02-01&to=2026-01-01")
    nonsense = await page.get("/map?days=nonsense")
    # The form sends its empty date fields along with the period chosen.
    chosen = await page.get("/map?days=7&from=&to=")
    not_a_date = await page.get("/stats?from=yesterday")

    assert by_dates.status_code == 200
    assert "days=" not in re.search(r'data-points="([^"]+)"', by_dates.text).group(1)
    assert "1 Jan 2026 – 31 Jan 2026" in by_dates.text
    assert backwards.status_code == 400
    assert nonsense.status_code == 422
    assert chosen.status_code == 200 and 'data-points="/map/points.geojson?days=7"' in chosen.text
    assert not_a_date.status_code == 400


async def test_statistics_show_the_periods_figures_as_charts_and_tables(
    console, register: Register
) -> None:
    now = utcnow()
    for n in range(3):
        await register.reports.file(new_report(), f"k-{n}")
    old = await register.reports.file(new_report(theft_method="pickpocketed"), "k-old")
    await set_report_columns(register.db, old.reference, created_at=now - timedelta(days=20))
    page = await console(Role.OFFICER)

    week = await page.get("/stats?days=7")
    month = await page.get("/stats?days=30")

    assert week.status_code == 200
    assert re.search(r'id="figure-total">3<', week.text)
    assert re.search(r'id="figure-total">4<', month.text)
    assert "pickpocketed" not in week.text and "pickpocketed" in month.text
    # Seven days, seven bars, each with its figure for a screen reader and in the table.
    per_day = re.search(r'<svg class="chart-columns".*?</svg>', week.text, re.S).group(0)
    assert per_day.count('class="chart-bar"') == 7
    assert re.search(r"<title>snatched moped: 3</title>", week.text)
    assert "<script" not in week.text and " style=" not in week.text


async def test_the_map_page_lists_the_periods_hotspots(console, register: Register) -> None:
    now = utcnow()
    # Four phones taken across town and all tracked to one street: a likely stash.
    for n, (lat, lon) in enumerate([(51.50, -0.20), (51.55, -0.05), (51.45, -0.10), (51.60, 0.0)]):
        await register.reports.file(
            new_report(
                incident_lat=lat,
                incident_lon=lon,
                tracked_lat=51.5400 + n * 1e-4,
                tracked_lon=-0.0600,
                tracked_at=now,
            ),
            f"k-stash-{n}",
        )
    page = await console(Role.OFFICER)

    week = await page.get("/map?days=7")
    before = await page.get("/map?from=2020-01-01&to=2020-01-31")

    table = re.search(r'<table id="hotspot-table">.*?</table>', week.text, re.S).group(0)
    cells = [
        re.sub(r"<[^>]+>", "", row).split() for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    assert cells[1][:4] == ["1", "Tracked", "here", "4"]
    assert len(cells) == 2  # the header and the one cluster: the theft places lie apart
    assert 'id="hotspot-table"' not in before.text
    assert "No place gathers enough reports" in before.text
