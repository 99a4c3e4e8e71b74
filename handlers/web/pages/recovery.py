"""Bulk recovery: upload a file of seized handsets, see what matches, confirm once (admins).

The upload is refused before it is read when it is larger than RECOVERY_MAX_FILE_MB allows; the
file is then read in bounded memory (`models.services.seized`) and matched as a dry run. The
preview lists every line (matched, not in the register, ambiguous, malformed, repeated) and is
kept in the register under a one-time token, so that its confirmation, which may reach another
console process, applies exactly what was shown, once (`models.services.recovery_previews`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from handlers.texts import describe, plain, text
from handlers.web.auth import AdminDep
from handlers.web.context import register_of
from handlers.web.render import NavEntry, render
from models.services.recovery import (
    AMBIGUOUS,
    MALFORMED,
    MATCHED,
    REPEATED,
    UNKNOWN,
    result_rows,
)
from models.services.recovery_previews import PreviewError
from models.services.seized import MalformedLine, ReadLimits, SeizedFileError, read_seized
from models.services.staff import Role

router = APIRouter()
NAV = NavEntry("Recovery", "/recovery", Role.ADMIN)
FILE_FIELD = "seized"
# Room for the form's other fields and the multipart headers around the file.
FORM_OVERHEAD = 64 * 1024
SHOWN_ROWS = 1000
REFUSALS = {
    "recovery_preview_unknown": 404,
    "recovery_preview_used": 409,
    "recovery_preview_expired": 410,
}
KINDS = (MATCHED, AMBIGUOUS, UNKNOWN, MALFORMED, REPEATED)


def _limits(request: Request) -> ReadLimits:
    return register_of(request).recovery.limits


async def bounded_upload(request: Request) -> None:
    """Refuse an upload larger than the recovery file limit before any of it is read."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise HTTPException(status_code=411)
    if int(declared) > _limits(request).max_bytes + FORM_OVERHEAD:
        raise HTTPException(status_code=413)


def _reason(bad: MalformedLine) -> str:
    return describe(bad.error, html_text=False) if bad.error else bad.reason


def _upload_page(request: Request, error: str | None = None, *, status_code: int = 200) -> Response:
    return render(
        request,
        "recovery.html",
        {"limit_mb": f"{_limits(request).max_mb:g}", "error": error, "field": FILE_FIELD},
        status_code=status_code,
    )


@router.get("/recovery")
async def recovery_page(request: Request, staff: AdminDep) -> Response:
    """The upload form."""
    return _upload_page(request)


@router.post("/recovery/preview")
async def recovery_preview(
    request: Request,
    _bounded: Annotated[None, Depends(bounded_upload)],
    staff: AdminDep,
) -> Response:
    """Read the uploaded file, match it (changing nothing) and show the answer to confirm."""
    form = await request.form()
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _upload_page(request, "Choose a file to upload.", status_code=400)
    try:
        seized = await asyncio.to_thread(read_seized, upload.file, _limits(request))
    except SeizedFileError as exc:
        reason = plain(text(f"staff.{exc.code}", **exc.params))
        return _upload_page(request, f"The file cannot be used: {reason}.", status_code=400)
    finally:
        await upload.close()
    register = register_of(request)
    previewed = await register.recovery_previews.preview(
        seized, staff_user_id=staff.user_id, actor=staff.actor, channel="web"
    )
    plan = previewed.outcome.plan
    lines = result_rows(plan, _reason)
    counts = {kind: 0 for kind in KINDS}
    for line in lines:
        counts[line[2]] += 1
    return render(
        request,
        "recovery_preview.html",
        {
            "token": previewed.token,
            "plan": plan,
            "to_recover": plan.to_recover,
            "counts": counts,
            "lines": lines[:SHOWN_ROWS],
            "more": max(0, len(lines) - SHOWN_ROWS),
            "expires_at": previewed.expires_at,
        },
    )


@router.post("/recovery/confirm")
async def recovery_confirm(request: Request, staff: AdminDep) -> Response:
    """Apply the preview the form names, once; a second confirmation changes nothing."""
    token = (await request.form()).get("token")
    if not isinstance(token, str) or not token:
        raise HTTPException(status_code=400)
    try:
        done = await register_of(request).recovery_previews.confirm(
            token, staff_user_id=staff.user_id, actor=staff.actor, channel="web"
        )
    except PreviewError as exc:
        return render(
            request,
            "recovery_done.html",
            {"done": None, "refusal": text(f"staff.{exc.code}")},
            status_code=REFUSALS.get(exc.code, 400),
        )
    return render(request, "recovery_done.html", {"done": done, "refusal": None})
