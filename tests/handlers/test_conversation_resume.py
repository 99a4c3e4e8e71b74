"""Drafts outlive the process (a rebuilt Application resumes them) and expire when idle."""

from __future__ import annotations

import pytest

from bot.app import CONSOLE_TOKEN, build_application
from bot.local_api import LocalUser
from handlers.conversation import expire_drafts, states
from models.storage.columns import utcnow
from tests.handlers.conftest import FIRST_IMEI, Victim, age_draft


@pytest.fixture
async def restarted(settings, register, api):
    """A second Application on the same database: what `reportbot run` is after a restart."""
    app = build_application(
        settings, register, request=api, token=CONSOLE_TOKEN, with_updater=False
    )
    await app.initialize()
    yield app
    await app.shutdown()


def same_person(victim: Victim, application, api) -> Victim:
    """The victim, now talking to APPLICATION."""
    user = LocalUser(application, api, user_id=victim.user.user_id)
    return Victim(user, victim.register)


async def test_after_a_restart_the_next_message_offers_to_continue(victim, restarted, api):
    await victim.walk(states.IMEI)
    before = await victim.answers()
    again = same_person(victim, restarted, api)

    offer = await again.send(FIRST_IMEI.digits)
    assert "Welcome back" in offer[0].text
    assert [label for label, _ in offer[0].buttons] == [
        "Continue where I left off",
        "Start again",
    ]
    assert await again.step() == states.IMEI  # the message was not taken as an answer

    resumed = await again.press("Continue where I left off")
    assert "IMEI" in resumed[-1].text
    await again.send(FIRST_IMEI.digits)
    assert await again.step() == states.IMEI_OK
    after = await again.answers()
    assert {k: after[k] for k in before if not k.startswith("_")} == {
        k: v for k, v in before.items() if not k.startswith("_")
    }
    await again.file()
    assert await again.register.reports.count() == 1


async def test_after_a_restart_a_button_of_the_current_question_just_works(victim, restarted, api):
    await victim.walk(states.MAKE)
    question = victim.seen[-1]
    again = same_person(victim, restarted, api)
    await again.press("Samsung", question)
    assert await again.step() == states.MODEL


async def test_after_a_restart_start_again_begins_a_new_draft(victim, restarted, api):
    await victim.walk(states.WHERE)
    token = (await victim.draft()).token
    again = same_person(victim, restarted, api)
    await again.send("hello?")
    restarted_replies = await again.press("Start again")
    assert "Do you agree" in restarted_replies[-1].text
    draft = await again.draft()
    assert draft.step == states.CONSENT and draft.token != token


async def test_an_expired_draft_is_deleted_and_the_conversation_starts_again(victim, register):
    await victim.walk(states.WHERE)
    await age_draft(register, victim.chat_id, hours=25)
    replies = await victim.send("Oxford Street")
    assert "deleted after 24 hours" in replies[0].text
    assert "Do you agree" in replies[-1].text
    draft = await victim.draft()
    assert draft.step == states.CONSENT and "model" not in draft.answers


async def test_a_button_of_an_expired_draft_is_refused_politely(victim, register):
    await victim.walk(states.MAKE)
    question = victim.seen[-1]
    await age_draft(register, victim.chat_id, hours=25)
    replies = await victim.press("Samsung", question)
    assert "expired" in replies[0].text
    assert await victim.draft() is None


async def test_an_idle_draft_is_kept_until_its_time(victim, register):
    await victim.walk(states.WHERE)
    await age_draft(register, victim.chat_id, hours=23)
    await victim.send("Oxford Street")
    assert await victim.step() == states.LOSS


async def test_the_expiry_job_deletes_idle_drafts(victim, register, application):
    await victim.walk(states.WHERE)
    other = Victim(victim.user.__class__(application, victim.user.api, user_id=77), register)
    await other.walk(states.MAKE)
    await age_draft(register, victim.chat_id, hours=30)

    class JobContext:
        pass

    context = JobContext()
    context.register = register
    await expire_drafts(context)
    assert await register.drafts.get(victim.chat_id) is None
    assert await register.drafts.get(77) is not None
    assert application.job_queue.get_jobs_by_name("expire-drafts")


async def test_retention_purge_deletes_expired_drafts(victim, register):
    await victim.walk(states.WHERE)
    await age_draft(register, victim.chat_id, hours=30)
    result = await register.retention.purge(utcnow())
    assert result.drafts == 1
