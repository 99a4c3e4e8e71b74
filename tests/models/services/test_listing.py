"""Report lists and streamed exports: filters, keyset pages, chunk sizes, abandoned downloads."""

from __future__ import annotations

import json

import pytest

from models.register import Register
from models.services.export import ExportFilter, ExportFormat, ExportOptionError
from models.services.listing import ReportFilter
from tests.factories import audit_events, imei, new_report


async def file_many(register: Register, count: int) -> list[str]:
    return [
        (await register.reports.file(new_report(imeis=(imei(),)), f"k-{n}")).reference
        for n in range(count)
    ]


async def test_pages_walk_every_report_once_newest_first(register: Register) -> None:
    refs = await file_many(register, 7)
    seen: list[str] = []
    before = None
    while True:
        page = await register.listing.page(ReportFilter(), before=before, size=3)
        seen += [report.reference for report in page.reports]
        if page.next_before is None:
            break
        before = page.next_before

    assert seen == refs[::-1]
    assert await register.listing.count(ReportFilter()) == 7
    assert await register.listing.count(ReportFilter(), cap=3) == 4  # more than 3
    assert await register.listing.count(ReportFilter(), cap=7) == 7


async def test_a_list_opens_no_personal_data(register: Register) -> None:
    await file_many(register, 1)

    (report,) = (await register.listing.page(ReportFilter())).reports

    assert report.private == {}


async def test_streamed_chunks_stay_small_and_add_up_to_the_file(register: Register) -> None:
    await file_many(register, 40)
    size = 2_000

    chunks = [
        chunk
        async for chunk in register.export.chunks(
            ExportFormat.CSV, ExportFilter(), actor="t", channel="web", size=size
        )
    ]

    assert len(chunks) > 5
    # A chunk is cut after the report that filled it: at most one row over.
    longest_row = max(len(line) for line in "".join(chunks).splitlines(keepends=True))
    assert max(len(chunk) for chunk in chunks) < size + longest_row
    assert len("".join(chunks).splitlines()) == 41
    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details)["rows"] == 40 and "incomplete" not in event.details


async def test_an_abandoned_download_is_recorded_as_incomplete(register: Register) -> None:
    await file_many(register, 40)
    chunks = register.export.chunks(
        ExportFormat.JSONL, ExportFilter(), actor="t", channel="web", size=500
    )

    await anext(chunks)
    await chunks.aclose()

    (event,) = await audit_events(register.db, "export")
    details = json.loads(event.details)
    assert details["incomplete"] is True and 0 < details["rows"] < 40


async def test_the_block_list_refuses_the_lists_filters(register: Register) -> None:
    with pytest.raises(ExportOptionError):
        async for _ in register.export.chunks(
            ExportFormat.BLOCKLIST, ExportFilter(has_imei=True), actor="t", channel="web"
        ):
            pass
    assert await audit_events(register.db, "export") == []
