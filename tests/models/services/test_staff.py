"""Tests for staff members and their roles."""

from __future__ import annotations

import asyncio
import json

import pytest

from models.register import Register
from models.services.staff import Role
from tests.factories import audit_events

BIG_ID = 1_234_567_890_123


async def test_add_list_and_role_of(register: Register) -> None:
    assert await register.staff.list() == []

    assert await register.staff.add(BIG_ID, Role.ADMIN, added_by="cli:root") is True
    assert await register.staff.add(42, Role.OFFICER, added_by="cli:root") is True

    members = await register.staff.list()
    assert [(m.user_id, m.role, m.added_by) for m in members] == [
        (42, "officer", "cli:root"),
        (BIG_ID, "admin", "cli:root"),
    ]
    assert all(member.added_at.tzinfo is not None for member in members)
    assert await register.staff.role_of(BIG_ID) is Role.ADMIN
    assert await register.staff.role_of(42) is Role.OFFICER
    assert await register.staff.role_of(43) is None


async def test_add_again_updates_the_role(register: Register) -> None:
    await register.staff.add(42, Role.OFFICER, added_by="cli:a")
    (first,) = await register.staff.list()

    assert await register.staff.add(42, Role.ADMIN, added_by="cli:b") is False

    (member,) = await register.staff.list()
    assert member.role == "admin"
    assert await register.staff.role_of(42) is Role.ADMIN
    # Who first added them, and when, is kept.
    assert (member.added_by, member.added_at) == ("cli:a", first.added_at)


async def test_remove(register: Register) -> None:
    await register.staff.add(42, Role.OFFICER, added_by="cli:a")
    await register.staff.add(43, Role.ADMIN, added_by="cli:a")

    assert await register.staff.remove(42, removed_by="cli:b") is True
    assert await register.staff.remove(42, removed_by="cli:b") is False
    assert await register.staff.remove(999, removed_by="cli:b") is False

    assert [member.user_id for member in await register.staff.list()] == [43]
    assert await register.staff.role_of(42) is None


async def test_staff_changes_are_audited(register: Register) -> None:
    await register.staff.add(BIG_ID, Role.OFFICER, added_by="cli:a")
    await register.staff.add(BIG_ID, Role.ADMIN, added_by="admin:7")
    await register.staff.remove(BIG_ID, removed_by="admin:8")
    await register.staff.remove(BIG_ID, removed_by="admin:8")

    events = [e for e in await audit_events(register.db) if e.action.startswith("staff_")]
    assert [(e.actor, e.action, e.target, json.loads(e.details)) for e in events] == [
        ("cli:a", "staff_add", str(BIG_ID), {"role": "officer"}),
        ("admin:7", "staff_add", str(BIG_ID), {"role": "admin"}),
        ("admin:8", "staff_remove", str(BIG_ID), {}),
    ]


async def test_concurrent_adds_of_one_user_make_one_member(register: Register) -> None:
    results = await asyncio.gather(
        *(register.staff.add(77, Role.OFFICER, added_by=f"cli:{n}") for n in range(5)),
        return_exceptions=True,
    )

    assert not [result for result in results if isinstance(result, BaseException)], results
    assert [member.user_id for member in await register.staff.list()] == [77]
    # Exactly one call created the member; the others at worst updated it.
    assert [result for result in results if result is True] == [True]


def test_role_values() -> None:
    assert [role.value for role in Role] == ["officer", "admin"]
    with pytest.raises(ValueError):
        Role("superuser")
