"""Recovery previews: kept without IMEIs, confirmed once, by their maker, before they expire."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from models.register import Register
from models.services.recovery_previews import PreviewError
from models.services.seized import parse_seized
from models.storage.columns import utcnow
from models.storage.tables import Notification, RecoveryPreview
from models.values.statuses import Status
from tests.factories import audit_events, imei, new_report, rows, subscribe

ANN = 111
BOB = 222


async def _file_with(register: Register) -> tuple[list[str], bytes, str]:
    """Two open reports, one shared IMEI (ambiguous), an unknown IMEI and a malformed line."""
    alone_a, alone_b, shared, unknown = (imei() for _ in range(4))
    a = await register.reports.file(new_report(imeis=(alone_a,)), "k-a")
    b = await register.reports.file(new_report(imeis=(alone_b,)), "k-b")
    await register.reports.file(new_report(imeis=(shared,)), "k-s1")
    await register.reports.file(new_report(imeis=(shared,)), "k-s2")
    await subscribe(register.db, a.report_id, chat_id=501)
    content = "\n".join(
        ["IMEI", alone_a.digits, alone_b.grouped, shared.digits, unknown.digits, "garbage"]
    )
    return sorted([a.reference, b.reference]), content.encode(), alone_a.digits


async def test_preview_changes_nothing_and_keeps_no_imei(register: Register) -> None:
    expected, content, one_imei = await _file_with(register)

    previewed = await register.recovery_previews.preview(
        parse_seized(content), staff_user_id=ANN, actor="web:111", channel="web"
    )

    plan = previewed.outcome.plan
    assert list(previewed.outcome.recovered) == expected
    assert (len(plan.matched), len(plan.unknown), len(plan.ambiguous)) == (3, 1, 1)
    assert len(plan.seized.malformed) == 1
    for reference in expected:
        view = await register.reports.get(reference)
        assert view is not None and view.status is Status.SUBMITTED
    (kept,) = await rows(register.db, RecoveryPreview)
    assert one_imei not in kept.supports and one_imei not in kept.summary
    assert previewed.token not in kept.token_hash
    assert json.loads(kept.summary)["ambiguous"] == 1
    (dry,) = await audit_events(register.db, "recovery")
    assert json.loads(dry.details)["dry_run"] is True


async def test_confirm_applies_once_and_queues_notifications(register: Register) -> None:
    expected, content, _ = await _file_with(register)
    previewed = await register.recovery_previews.preview(
        parse_seized(content), staff_user_id=ANN, actor="web:111", channel="web"
    )

    done = await register.recovery_previews.confirm(
        previewed.token, staff_user_id=ANN, actor="web:111", channel="web"
    )

    assert list(done.recovered) == expected
    assert done.notifications == 1
    for reference in expected:
        view = await register.reports.get(reference)
        assert view is not None and view.status is Status.RECOVERED
    assert len(await rows(register.db, Notification)) == 1
    with pytest.raises(PreviewError) as again:
        await register.recovery_previews.confirm(
            previewed.token, staff_user_id=ANN, actor="web:111", channel="web"
        )
    assert again.value.code == "recovery_preview_used"
    assert len(await rows(register.db, Notification)) == 1
    applied = [
        json.loads(event.details)
        for event in await audit_events(register.db, "recovery")
        if not json.loads(event.details)["dry_run"]
    ]
    assert [(event["references"], event["ambiguous"]) for event in applied] == [(expected, 1)]


async def test_two_confirmations_at_once_apply_once(register: Register) -> None:
    _, content, _ = await _file_with(register)
    previewed = await register.recovery_previews.preview(
        parse_seized(content), staff_user_id=ANN, actor="web:111", channel="web"
    )

    results = await asyncio.gather(
        *(
            register.recovery_previews.confirm(
                previewed.token, staff_user_id=ANN, actor="web:111", channel="web"
            )
            for _ in range(2)
        ),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, PreviewError)]
    assert [r.code for r in refused] == ["recovery_preview_used"]
    assert len(await rows(register.db, Notification)) == 1


async def test_only_its_maker_may_confirm_and_only_in_time(register: Register) -> None:
    _, content, _ = await _file_with(register)
    previews = register.recovery_previews
    made = utcnow()
    previewed = await previews.preview(
        parse_seized(content), staff_user_id=ANN, actor="web:111", channel="web", now=made
    )

    with pytest.raises(PreviewError) as other:
        await previews.confirm(previewed.token, staff_user_id=BOB, actor="web:222", channel="web")
    with pytest.raises(PreviewError) as late:
        await previews.confirm(
            previewed.token,
            staff_user_id=ANN,
            actor="web:111",
            channel="web",
            now=made + previews.ttl + timedelta(seconds=1),
        )
    with pytest.raises(PreviewError) as made_up:
        await previews.confirm("not-a-token", staff_user_id=ANN, actor="web:111", channel="web")

    assert other.value.code == "recovery_preview_unknown"
    assert late.value.code == "recovery_preview_expired"
    assert made_up.value.code == "recovery_preview_unknown"
    assert await rows(register.db, Notification) == []


async def test_a_report_that_moved_after_the_preview_is_left_alone(register: Register) -> None:
    expected, content, _ = await _file_with(register)
    previewed = await register.recovery_previews.preview(
        parse_seized(content), staff_user_id=ANN, actor="web:111", channel="web"
    )
    await register.reports.change_status(expected[0], Status.WITHDRAWN, actor="victim")

    done = await register.recovery_previews.confirm(
        previewed.token, staff_user_id=ANN, actor="web:111", channel="web"
    )

    assert list(done.recovered) == expected[1:]
    view = await register.reports.get(expected[0])
    assert view is not None and view.status is Status.WITHDRAWN
