"""key ids of sealed values, kept by the database

Revision ID: hardening
Revises: i18n
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.storage.columns import sealed_key_id

revision: str = "hardening"
down_revision: str | None = "i18n"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, sealed column, key-id column)
KEY_ID_COLUMNS = (
    ("report", "sealed", "key_id"),
    ("status_change", "note_sealed", "note_key_id"),
    ("draft", "sealed", "key_id"),
)


def upgrade() -> None:
    """Add a generated, indexed key-id column beside every sealed column."""
    # SQLite can add only VIRTUAL generated columns to a table; PostgreSQL indexes only STORED.
    stored = op.get_bind().dialect.name != "sqlite"
    for table, sealed, key_id in KEY_ID_COLUMNS:
        op.add_column(
            table,
            sa.Column(
                key_id,
                sa.String(length=16),
                sa.Computed(sealed_key_id(sa.literal_column(sealed)), persisted=stored),
                nullable=True,
            ),
        )
        op.create_index(f"ix_{table}_{key_id}", table, [key_id], unique=False)


def downgrade() -> None:
    """Drop the key-id columns."""
    for table, _sealed, key_id in KEY_ID_COLUMNS:
        op.drop_index(f"ix_{table}_{key_id}", table_name=table)
        op.drop_column(table, key_id)
