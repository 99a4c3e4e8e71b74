"""web console: bulk recoveries previewed and waiting for their one confirmation

Revision ID: recovery_preview
Revises: web
Create Date: 2026-12-04 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.storage.columns

revision: str = "recovery_preview"
down_revision: str | None = "web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "recovery_preview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", models.storage.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("supports", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_recovery_preview_expires_at", "recovery_preview", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_recovery_preview_expires_at", table_name="recovery_preview")
    op.drop_table("recovery_preview")
