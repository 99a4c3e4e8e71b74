"""languages: the language a report was filed in, and the one a following chat chose

Revision ID: i18n
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i18n"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: reports filed before it stay NULL, which means English."""
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("language")
