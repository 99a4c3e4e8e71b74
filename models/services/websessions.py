"""Web console sign-in: one-time links, sessions, and a limit on failed sign-ins.

Links and sessions are random tokens of which only a hash is stored. A link works once and for a
few minutes; a session ends after an idle time, after an absolute time, at sign-out, or when the
staff member is removed (the rows go with them). The role is read from the staff table every
time a session is resolved, so a changed role applies to the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.sealing.vault import Vault
from models.services.alerts import NotStaff
from models.services.audit import record
from models.services.staff import Role
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.once import forget_expired, use_once
from models.storage.tables import StaffMember, WebSession, WebSignInFailure, WebSignInLink

TOKEN_BYTES = 32
# last_seen_at is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """The stored form of a link or session token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionRules:
    """How long links and sessions last, and how many failed sign-ins a source may make."""

    link_ttl: timedelta = timedelta(minutes=5)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    failures_allowed: int = 10
    failure_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the token goes into the cookie and nowhere else."""

    session_token: str
    user_id: int


@dataclass(frozen=True, slots=True)
class Refused:
    """The link is unknown, used, expired, or its staff member was removed."""


@dataclass(frozen=True, slots=True)
class TooManyFailures:
    """Too many failed sign-ins from this source; try again after RETRY_AT."""

    retry_at: datetime


SignInOutcome = SignedIn | Refused | TooManyFailures


@dataclass(frozen=True, slots=True)
class WebStaff:
    """The staff member behind a live session, with the role read just now."""

    user_id: int
    role: Role
    session_hash: str

    @property
    def actor(self) -> str:
        """How the audit trail and the status history name them."""
        return f"web:{self.user_id}"

    @property
    def is_admin(self) -> bool:
        """Whether they hold the admin role."""
        return self.role is Role.ADMIN


class WebSessions:
    """Issue sign-in links, sign in with them, resolve and end sessions."""

    def __init__(self, db: Database, vault: Vault, rules: SessionRules | None = None) -> None:
        """Bind to the register's database and vault (the vault hashes client addresses)."""
        self.db = db
        self.vault = vault
        self.rules = rules or SessionRules()

    async def issue_link(self, user_id: int, *, actor: str, now: datetime | None = None) -> str:
        """A one-time sign-in token for USER_ID (NotStaff if they are not staff)."""
        now = now or utcnow()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self.db.write() as session:
            if await session.get(StaffMember, user_id) is None:
                raise NotStaff(user_id)
            await self._prune(session, now)
            session.add(
                WebSignInLink(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self.rules.link_ttl,
                )
            )
            record(session, actor, "web_link", str(user_id), {})
        return token

    async def sign_in(
        self, token: str, *, source: str, now: datetime | None = None
    ) -> SignInOutcome:
        """Use TOKEN once to open a session; SOURCE (the client address) is rate limited."""
        now = now or utcnow()
        source_hash, limited = await self._limited(source, now)
        if limited is not None:
            return limited
        async with self.db.write() as session:
            # One statement claims the link, so two requests racing with it open one session.
            used = await use_once(
                session, WebSignInLink, token_hash(token), now, returning=("user_id",)
            )
            claimed: int | None = None if used is None else used.user_id
            if claimed is None or await session.get(StaffMember, claimed) is None:
                session.add(WebSignInFailure(source_hash=source_hash, at=now))
                return Refused()
            session_token = self._open(session, claimed, now, how="link")
        return SignedIn(session_token, claimed)

    async def sign_in_proven(
        self, user_id: int, proof: str, *, source: str, now: datetime | None = None
    ) -> SignInOutcome:
        """Open a session for USER_ID, whom Telegram vouched for with PROOF (usable once)."""
        now = now or utcnow()
        source_hash, limited = await self._limited(source, now)
        if limited is not None:
            return limited
        try:
            async with self.db.write() as session:
                if await session.get(StaffMember, user_id) is None:
                    session.add(WebSignInFailure(source_hash=source_hash, at=now))
                    return Refused()
                # The proof is kept as a used link: the same answer replayed finds it taken.
                session.add(
                    WebSignInLink(
                        token_hash=token_hash("telegram:" + proof),
                        user_id=user_id,
                        created_at=now,
                        expires_at=now,
                        used_at=now,
                    )
                )
                await session.flush()
                session_token = self._open(session, user_id, now, how="telegram")
        except IntegrityError:
            async with self.db.write() as session:
                session.add(WebSignInFailure(source_hash=source_hash, at=now))
            return Refused()
        return SignedIn(session_token, user_id)

    async def refuse(self, *, source: str, now: datetime | None = None) -> SignInOutcome:
        """Count a sign-in that failed before reaching the register (e.g. a forged answer)."""
        now = now or utcnow()
        source_hash, limited = await self._limited(source, now)
        if limited is not None:
            return limited
        async with self.db.write() as session:
            session.add(WebSignInFailure(source_hash=source_hash, at=now))
        return Refused()

    async def _limited(self, source: str, now: datetime) -> tuple[str, TooManyFailures | None]:
        """SOURCE's hash, and whether it failed too often of late to try again yet."""
        source_hash = self.vault.blind_index("web_sign_in_source", source)
        since = now - self.rules.failure_window
        async with self.db.read() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(WebSignInFailure.at)).where(
                        col(WebSignInFailure.source_hash) == source_hash,
                        col(WebSignInFailure.at) > since,
                    )
                )
            ).one()
        if count >= self.rules.failures_allowed:
            return source_hash, TooManyFailures(oldest + self.rules.failure_window)
        return source_hash, None

    def _open(self, session: AsyncSession, user_id: int, now: datetime, *, how: str) -> str:
        """Open a session for USER_ID within SESSION's transaction; returns its new token."""
        session_token = secrets.token_urlsafe(TOKEN_BYTES)
        session.add(
            WebSession(
                token_hash=token_hash(session_token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.rules.absolute,
            )
        )
        record(session, f"web:{user_id}", "web_sign_in", str(user_id), {"with": how})
        return session_token

    async def resolve(self, session_token: str, *, now: datetime | None = None) -> WebStaff | None:
        """The staff member behind SESSION_TOKEN, or None if it ended or they are not staff."""
        now = now or utcnow()
        hashed = token_hash(session_token)
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(col(WebSession.last_seen_at), col(WebSession.expires_at), StaffMember)
                    .join(StaffMember, col(StaffMember.user_id) == col(WebSession.user_id))
                    .where(col(WebSession.token_hash) == hashed)
                )
            ).one_or_none()
        if row is None:
            return None
        last_seen, expires_at, member = row
        if now >= expires_at or now - last_seen >= self.rules.idle:
            return None
        if now - last_seen >= TOUCH_EVERY:
            async with self.db.write() as session:
                await session.execute(
                    update(WebSession)
                    .where(col(WebSession.token_hash) == hashed)
                    .values(last_seen_at=now)
                )
        return WebStaff(member.user_id, Role(member.role), hashed)

    async def sign_out(self, staff: WebStaff) -> None:
        """End STAFF's session."""
        async with self.db.write() as session:
            await session.execute(
                delete(WebSession).where(col(WebSession.token_hash) == staff.session_hash)
            )
            record(session, staff.actor, "web_sign_out", str(staff.user_id), {})

    async def _prune(self, session: AsyncSession, now: datetime) -> None:
        """Forget links, sessions and failures that can no longer matter."""
        cutoff = now - timedelta(days=1)
        await forget_expired(session, WebSignInLink, cutoff)
        await forget_expired(session, WebSession, cutoff)
        await session.execute(delete(WebSignInFailure).where(col(WebSignInFailure.at) < cutoff))
