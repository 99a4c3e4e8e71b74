"""The daily retention purge of a running bot."""

from datetime import timedelta
from types import SimpleNamespace

from bot import jobs
from models.storage.columns import utcnow
from models.values.statuses import Status
from tests.factories import audit_events, new_report, set_report_columns


async def test_the_purge_is_scheduled_daily(application):
    [job] = application.job_queue.get_jobs_by_name("retention-purge")
    assert job.job.trigger.interval == jobs.PURGE_INTERVAL


async def test_the_purge_job_deletes_ended_reports_past_retention(application, register):
    old = await register.reports.file(new_report(), "k-old")
    await register.reports.change_status(old.reference, Status.CLOSED, actor="t")
    fresh = await register.reports.file(new_report(), "k-fresh")
    long_ago = utcnow() - timedelta(days=register.config.report_retention_days + 1)
    await set_report_columns(register.db, old.reference, status_changed_at=long_ago)

    await jobs.purge(SimpleNamespace(register=register))

    assert await register.reports.get(old.reference) is None
    assert await register.reports.get(fresh.reference) is not None
    [event] = await audit_events(register.db, "purge")
    assert '"reports": 1' in event.details
