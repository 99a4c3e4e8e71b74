"""In Chromium: the hotspot map's markers, the statistics' charts, a bulk recovery end to end."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models.register import Register
from models.storage.columns import utcnow
from models.storage.tables import Notification
from models.values.statuses import Status
from tests.browser.conftest import ADMIN, OFFICER
from tests.browser.harness import follow, open_page, screenshot
from tests.factories import imei, new_report, rows, set_report_columns, subscribe

# Each test runs the console and a Chromium: never two at once (one xdist group), and slow.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

# Around Oxford Circus, Camden and Stratford: three places a few kilometres apart.
PLACES = [(51.5152, -0.1418), (51.5390, -0.1426), (51.5416, -0.0033)]


async def _markers_shown(page) -> int:
    """What the map shows: single markers, plus the numbers written on the clusters."""
    singles = await page.locator("#hotspot-map .marker-point").count()
    clustered = await page.locator("#hotspot-map .marker-cluster span").all_inner_texts()
    return singles + sum(int(text) for text in clustered)


async def _show_period(page, days: str) -> None:
    """Show the map for DAYS and wait until that page says its markers are drawn (the page
    before it carries the same attribute, so the new address is awaited first)."""
    await page.get_by_role("combobox", name="Period").select_option(days)
    async with page.expect_navigation(url=re.compile(rf"[?&]days={days}\b")):
        await page.get_by_role("button", name="Show").click()
    await page.wait_for_function(
        "() => document.querySelector('#hotspot-map')?.dataset.loadedPoints !== undefined"
    )


async def test_the_map_shows_one_marker_per_report_point_in_the_period(
    seeded: Register, signed_in
) -> None:
    now = utcnow()
    expected = 0
    for n in range(12):
        lat, lon = PLACES[n % 3]
        tracked = {}
        if n % 4 == 0:
            tracked = {"tracked_lat": lat + 0.002, "tracked_lon": lon, "tracked_at": now}
        await seeded.reports.file(
            new_report(incident_lat=lat + n * 1e-4, incident_lon=lon, **tracked), f"k-{n}"
        )
        expected += 2 if tracked else 1
    old = await seeded.reports.file(new_report(), "k-old")
    await set_report_columns(seeded.db, old.reference, created_at=now - timedelta(days=45))
    page = await signed_in(OFFICER)

    await open_page(page, "Map")
    await _show_period(page, "30")

    assert await page.get_attribute("#hotspot-map", "data-loaded-points") == str(expected)
    assert await _markers_shown(page) == expected
    assert (
        await page.get_by_role("status").inner_text()
        == f"12 taken here, {expected - 12} tracked here."
    )
    await screenshot(page, "map")
    await _show_period(page, "365")
    assert await _markers_shown(page) == expected + 1
    assert page.errors == []


async def test_statistics_draw_their_charts(seeded: Register, signed_in) -> None:
    now = utcnow()
    for n in range(9):
        filed = await seeded.reports.file(
            new_report(theft_method=("snatched_moped", "pickpocketed", "robbery")[n % 3]), f"s-{n}"
        )
        await set_report_columns(seeded.db, filed.reference, created_at=now - timedelta(days=n))
    page = await signed_in(OFFICER)

    await open_page(page, "Statistics")

    per_day = page.locator("svg.chart-columns rect.chart-bar")
    assert await per_day.count() == 30
    heights = [float(await bar.get_attribute("height")) for bar in await per_day.all()]
    assert sum(1 for height in heights if height > 0) == 9
    assert await page.locator("#figure-total").inner_text() == "9"
    box = await page.locator("svg.chart-columns").bounding_box()
    assert box is not None and box["width"] > 300
    await screenshot(page, "statistics")
    assert page.errors == []


async def test_a_bulk_recovery_is_previewed_then_confirmed_once(
    seeded: Register, signed_in, tmp_path
) -> None:
    handsets = [imei() for _ in range(3)]
    filed = [
        await seeded.reports.file(new_report(imeis=(handset,)), f"r-{n}")
        for n, handset in enumerate(handsets)
    ]
    for n, report in enumerate(filed):
        await subscribe(seeded.db, report.report_id, chat_id=7000 + n)
    twice = imei()
    await seeded.reports.file(new_report(imeis=(twice,)), "r-twice-1")
    await seeded.reports.file(new_report(imeis=(twice,)), "r-twice-2")
    seized = tmp_path / "seized.csv"
    seized.write_text(
        "IMEI\n"
        + "".join(f"{handset.grouped}\n" for handset in handsets)
        + f"{twice.digits}\n{imei().digits}\nnot an imei\n"
    )
    page = await signed_in(ADMIN)

    await open_page(page, "Recovery")
    await page.get_by_label("File of seized IMEIs").set_input_files(str(seized))
    await follow(page, page.get_by_role("button", name="Check the file"))

    assert await page.locator("#count-matched").inner_text() == "3"
    assert await page.locator("#count-ambiguous").inner_text() == "1"
    assert await page.locator("#count-unknown").inner_text() == "1"
    assert await page.locator("#count-malformed").inner_text() == "1"
    await screenshot(page, "recovery-preview")
    for report in filed:
        view = await seeded.reports.get(report.reference)
        assert view is not None and view.status is Status.SUBMITTED

    form = page.locator("form[action='/recovery/confirm']")
    token = await form.locator("input[name=token]").get_attribute("value")
    csrf = await form.locator("input[name=csrf]").get_attribute("value")
    await follow(page, page.get_by_role("button", name="Mark 3 reports recovered"))

    assert "victim notifications queued: 3" in await page.get_by_role("status").inner_text()
    await screenshot(page, "recovery-done")
    for report in filed:
        view = await seeded.reports.get(report.reference)
        assert view is not None and view.status is Status.RECOVERED
    assert len(await rows(seeded.db, Notification)) == 3
    # The same form sent again (a double click, a second tab) changes nothing.
    again = await page.request.post("/recovery/confirm", form={"token": token, "csrf": csrf})
    assert again.status == 409
    assert "already confirmed" in await again.text()
    assert len(await rows(seeded.db, Notification)) == 3
