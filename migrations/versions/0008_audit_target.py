"""audit trail: events by what they are about, newest first (a report's "who looked")

Revision ID: audit_target
Revises: recovery_preview
Create Date: 2026-12-04 11:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "audit_target"
down_revision: str | None = "recovery_preview"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_audit_event_target_id", "audit_event", ["target", "id"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_audit_event_target_id", table_name="audit_event")
