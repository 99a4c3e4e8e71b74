"""Web console sessions: one-time links, idle and absolute expiry, failures by source."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.register import Register
from models.services.alerts import NotStaff
from models.services.staff import Role
from models.services.websessions import Refused, SignedIn, TooManyFailures, token_hash
from models.storage.columns import utcnow
from models.storage.tables import WebSession, WebSignInLink
from tests.factories import rows

USER = 7001


@pytest.fixture
async def staff(register: Register) -> int:
    await register.staff.add(USER, Role.OFFICER, added_by="test")
    return USER


async def test_only_the_token_hash_is_stored(register: Register, staff: int) -> None:
    token = await register.web.issue_link(staff, actor="test")
    signed = await register.web.sign_in(token, source="10.0.0.1")
    assert isinstance(signed, SignedIn)

    (link,) = await rows(register.db, WebSignInLink)
    (session,) = await rows(register.db, WebSession)

    assert link.token_hash == token_hash(token) and token not in repr(link)
    assert session.token_hash == token_hash(signed.session_token)
    assert link.used_at is not None


async def test_a_link_is_for_staff_only(register: Register) -> None:
    with pytest.raises(NotStaff):
        await register.web.issue_link(USER, actor="test")


async def test_two_sign_ins_racing_with_one_link_open_one_session(
    register: Register, staff: int
) -> None:
    token = await register.web.issue_link(staff, actor="test")

    outcomes = await asyncio.gather(
        *(register.web.sign_in(token, source=f"10.0.0.{n}") for n in range(4))
    )

    assert sum(isinstance(outcome, SignedIn) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, Refused) for outcome in outcomes) == 3
    assert len(await rows(register.db, WebSession)) == 1


async def test_a_session_ends_when_idle(register: Register, staff: int) -> None:
    start = utcnow()
    token = await register.web.issue_link(staff, actor="test", now=start)
    signed = await register.web.sign_in(token, source="s", now=start)
    assert isinstance(signed, SignedIn)
    idle = register.web.rules.idle

    # Each use within the idle time keeps it alive past what one idle time would allow.
    later = start + idle - timedelta(seconds=1)
    assert await register.web.resolve(signed.session_token, now=later) is not None
    still = later + idle - timedelta(seconds=1)
    assert await register.web.resolve(signed.session_token, now=still) is not None

    assert await register.web.resolve(signed.session_token, now=still + idle) is None


async def test_a_session_ends_at_its_absolute_limit(register: Register, staff: int) -> None:
    start = utcnow()
    signed = await register.web.sign_in(
        await register.web.issue_link(staff, actor="test", now=start), source="s", now=start
    )
    assert isinstance(signed, SignedIn)
    rules = register.web.rules
    moment = start
    while moment + rules.idle / 2 < start + rules.absolute:
        moment += rules.idle / 2
        assert await register.web.resolve(signed.session_token, now=moment) is not None

    assert await register.web.resolve(signed.session_token, now=start + rules.absolute) is None


async def test_the_role_comes_from_the_staff_table(register: Register, staff: int) -> None:
    signed = await register.web.sign_in(
        await register.web.issue_link(staff, actor="test"), source="s"
    )
    assert isinstance(signed, SignedIn)
    assert (await register.web.resolve(signed.session_token)).role is Role.OFFICER

    await register.staff.add(staff, Role.ADMIN, added_by="test")
    assert (await register.web.resolve(signed.session_token)).role is Role.ADMIN

    await register.staff.remove(staff, removed_by="test")
    assert await register.web.resolve(signed.session_token) is None
    # Removal took the sessions with it.
    async with register.db.read() as session:
        assert list((await session.execute(select(WebSession))).scalars()) == []


async def test_failures_are_counted_per_source_within_a_window(
    register: Register, staff: int
) -> None:
    now = utcnow()
    allowed = register.web.rules.failures_allowed
    for n in range(allowed):
        assert isinstance(await register.web.sign_in(f"bad{n}", source="a", now=now), Refused)

    token = await register.web.issue_link(staff, actor="test", now=now)
    limited = await register.web.sign_in(token, source="a", now=now)
    assert isinstance(limited, TooManyFailures)
    assert limited.retry_at == now + register.web.rules.failure_window
    # Another source is not held back, and the link was not used by the refused attempt.
    assert isinstance(await register.web.sign_in(token, source="b", now=now), SignedIn)


async def test_failures_age_out(register: Register, staff: int) -> None:
    then = utcnow() - register.web.rules.failure_window - timedelta(seconds=1)
    for n in range(register.web.rules.failures_allowed):
        await register.web.sign_in(f"bad{n}", source="a", now=then)

    token = await register.web.issue_link(staff, actor="test")

    assert isinstance(await register.web.sign_in(token, source="a"), SignedIn)
