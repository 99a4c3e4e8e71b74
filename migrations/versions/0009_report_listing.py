"""report: one index for staff's filtered list (status, newest first, every filtered column)

Revision ID: report_listing
Revises: audit_target
Create Date: 2026-12-04 14:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "report_listing"
down_revision: str | None = "audit_target"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["status", "id", "created_at", "theft_method", "imei_count", "tracked_lat", "tracked_at"]


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_report_listing", "report", COLUMNS, unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_report_listing", table_name="report")
