"""Staff management (admins): who may use the register and in which role.

An admin cannot remove or demote themselves here (so the console cannot lock its last admin
out); the command line can. Removal ends the member's sessions at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from starlette.responses import RedirectResponse, Response

from handlers.web.auth import AdminDep
from handlers.web.context import RegisterDep
from handlers.web.render import NavEntry, render
from models.register import Register
from models.services.staff import Role

router = APIRouter()
NAV = NavEntry("Staff", "/staff", Role.ADMIN)
MAX_TELEGRAM_ID = 2**63 - 1


async def _page(
    request: Request, register: Register, *, error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "staff.html",
        {"members": await register.staff.list(), "roles": [r.value for r in Role], "error": error},
        status_code=status_code,
    )


@router.get("/staff")
async def staff_page(request: Request, staff: AdminDep, register: RegisterDep) -> Response:
    """Every staff member and their role."""
    return await _page(request, register)


def _user_id(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 0 < value <= MAX_TELEGRAM_ID else None


@router.post("/staff")
async def add_member(
    request: Request,
    staff: AdminDep,
    register: RegisterDep,
    user_id: Annotated[str, Form(max_length=25)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Add a staff member, or change a member's role."""
    member = _user_id(user_id)
    if member is None:
        return await _page(
            request, register, error="A Telegram user id is a number.", status_code=422
        )
    if role not in {r.value for r in Role}:
        raise HTTPException(status_code=422)
    if member == staff.user_id and role != staff.role.value:
        return await _page(
            request,
            register,
            error="You cannot change your own role here; another admin or the command line can.",
            status_code=400,
        )
    await register.staff.add(member, Role(role), added_by=staff.actor)
    return RedirectResponse("/staff", status_code=303)


@router.post("/staff/{user_id}/remove")
async def remove_member(
    request: Request,
    user_id: Annotated[int, Path(ge=1, le=MAX_TELEGRAM_ID)],
    staff: AdminDep,
    register: RegisterDep,
) -> Response:
    """Remove a staff member (their sessions end at once)."""
    if user_id == staff.user_id:
        return await _page(
            request,
            register,
            error="You cannot remove yourself here; another admin or the command line can.",
            status_code=400,
        )
    if not await register.staff.remove(user_id, removed_by=staff.actor):
        raise HTTPException(status_code=404)
    return RedirectResponse("/staff", status_code=303)
