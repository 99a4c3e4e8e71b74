"""web console: one-time sign-in links, sessions and failed sign-ins

Revision ID: web
Revises: intel
Create Date: 2026-12-04 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.storage.columns

revision: str = "web"
down_revision: str | None = "intel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, models.storage.columns.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    for table in ("web_sign_in_link", "web_session"):
        extra = (
            [_when("used_at", nullable=True)]
            if table == "web_sign_in_link"
            else [_when("last_seen_at")]
        )
        op.create_table(
            table,
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.BigInteger(), nullable=False),
            _when("created_at"),
            _when("expires_at"),
            *extra,
            sa.ForeignKeyConstraint(["user_id"], ["staff_member.user_id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        op.create_index(f"ix_{table}_user_id", table, ["user_id"], unique=False)
        op.create_index(f"ix_{table}_expires_at", table, ["expires_at"], unique=False)
    op.create_table(
        "web_sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_hash", sa.String(length=32), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_web_sign_in_failure_source_at", "web_sign_in_failure", ["source_hash", "at"]
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_web_sign_in_failure_source_at", table_name="web_sign_in_failure")
    op.drop_table("web_sign_in_failure")
    for table in ("web_session", "web_sign_in_link"):
        op.drop_index(f"ix_{table}_expires_at", table_name=table)
        op.drop_index(f"ix_{table}_user_id", table_name=table)
        op.drop_table(table)
