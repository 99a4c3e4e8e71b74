"""In Chromium: sign in with a link, find a report by IMEI, move it, export through the browser.

Each test drives the real `reportbot web` process as a person would (menu, labels, buttons) and
then checks what the register stored or what a real program reads from the downloaded file.
"""

from __future__ import annotations

import csv
import io

import pyogrio
import pytest
import shapely
from sqlalchemy import select

from models.register import Register
from models.storage.tables import Notification
from models.values.statuses import Status
from tests.browser.conftest import ADMIN, OFFICER
from tests.browser.harness import follow, open_page, screenshot
from tests.factories import imei, new_report, subscribe

# Each test runs the console and a Chromium: never two at once (one xdist group), and slow.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]


async def test_sign_in_find_by_imei_and_move_a_report(seeded: Register, signed_in) -> None:
    handset = imei()
    filed = await seeded.reports.file(
        new_report(imeis=(handset,), tracked_lat=51.52, tracked_lon=-0.1), "k-find"
    )
    await seeded.reports.file(new_report(), "k-other")
    await subscribe(seeded.db, filed.report_id, chat_id=555)
    page = await signed_in(OFFICER)
    await screenshot(page, "start")

    await open_page(page, "Search")
    # Typed as people copy it from a box: groups and dashes.
    d = handset.digits
    await page.get_by_label("IMEI, reference").fill(f"{d[:2]}-{d[2:8]}-{d[8:14]}-{d[14]}")
    await follow(page, page.get_by_role("button", name="Search"))
    assert await page.get_by_role("heading", name="1 report found").count() == 1
    await screenshot(page, "search")
    await follow(page, page.get_by_role("link", name=filed.reference))

    await page.wait_for_selector("#report-map[data-loaded-points='2']")
    assert await page.locator("#report-map .marker-point").count() == 2
    await screenshot(page, "report")
    await page.get_by_label("New status").select_option("located")
    await follow(page, page.get_by_role("button", name="Change status"))

    assert "Moved from submitted to located" in await page.get_by_role("status").inner_text()
    view = await seeded.reports.get(filed.reference)
    assert view is not None and view.status is Status.LOCATED
    async with seeded.db.read() as session:
        queued = (
            await session.execute(
                select(Notification.chat_id, Notification.state).where(
                    Notification.report_id == filed.report_id
                )
            )
        ).all()
    assert [tuple(row) for row in queued] == [(555, "pending")]
    assert page.errors == []


async def test_pages_fit_a_phone(seeded: Register, signed_in) -> None:
    filed = await seeded.reports.file(new_report(tracked_lat=51.52, tracked_lon=-0.1), "k-phone")
    phone = await signed_in(ADMIN, width=390, height=844)

    for path in ("/", "/search", f"/report/{filed.reference}", "/reports", "/map", "/stats"):
        await phone.goto(path)
        wide = await phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{path} is {wide} px wide at phone width"
    await phone.goto(f"/report/{filed.reference}")
    await phone.wait_for_selector("#report-map[data-loaded-points='2']")
    await screenshot(phone, "report-phone")
    assert phone.errors == []


async def test_export_csv_and_geojson_through_the_download(
    seeded: Register, signed_in, tmp_path
) -> None:
    references = set()
    for n in range(5):
        filed = await seeded.reports.file(
            new_report(incident_lat=51.50 + n / 100, incident_lon=-0.12), f"e-{n}"
        )
        references.add(filed.reference)
    page = await signed_in(ADMIN)
    await open_page(page, "Export")
    await screenshot(page, "export")

    await page.get_by_label("CSV (spreadsheets)").check()
    async with page.expect_download() as csv_download:
        await page.get_by_role("button", name="Download").click()
    sheet = tmp_path / "export.csv"
    await (await csv_download.value).save_as(sheet)
    await page.get_by_label("GeoJSON (GIS; points)").check()
    async with page.expect_download() as geo_download:
        await page.get_by_role("button", name="Download").click()
    points = tmp_path / "export.geojson"
    await (await geo_download.value).save_as(points)

    table = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    assert {row["reference"] for row in table} == references
    meta, _, geometry, fields = pyogrio.raw.read(points)
    names = list(meta["fields"])
    read_back = {
        fields[names.index("reference")][n]: shapely.from_wkb(wkb) for n, wkb in enumerate(geometry)
    }
    assert set(read_back) == references
    assert sorted(round(point.y, 2) for point in read_back.values()) == [
        51.5,
        51.51,
        51.52,
        51.53,
        51.54,
    ]
    assert {round(point.x, 2) for point in read_back.values()} == {-0.12}
    await open_page(page, "Reports")
    await page.get_by_label("Filed").select_option("week")
    await follow(page, page.get_by_role("button", name="Show"))
    await screenshot(page, "reports")
    await open_page(page, "Audit")
    assert await page.get_by_role("cell", name="export", exact=True).count() == 2
    await screenshot(page, "audit")
    assert page.errors == []
