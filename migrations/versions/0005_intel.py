"""intelligence: duplicate flags, staff alerts, tracked clusters, block-list delta

Revision ID: intel
Revises: register
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.storage.columns
from models.storage.columns import sealed_key_id

revision: str = "intel"
down_revision: str | None = "register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "duplicate_imei_at",
                models.storage.columns.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index("ix_report_tracked_at", ["tracked_at"], unique=False)

    with op.batch_alter_table("report_imei", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("added_at", models.storage.columns.UTCDateTime(timezone=True), nullable=True)
        )
    # IMEIs already stored joined their report when it was filed.
    op.execute(
        "UPDATE report_imei SET added_at = "
        "(SELECT report.created_at FROM report WHERE report.id = report_imei.report_id)"
    )

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
    # Like every sealed column: the key id beside it, kept by the database (see 0003_hardening).
    stored = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "notification",
        sa.Column(
            "payload_key_id",
            sa.String(length=16),
            sa.Computed(sealed_key_id(sa.literal_column("payload")), persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_notification_payload_key_id", "notification", ["payload_key_id"], unique=False
    )

    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alerts", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "tracked_cluster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_lat", sa.Float(), nullable=False),
        sa.Column("centre_lon", sa.Float(), nullable=False),
        sa.Column(
            "first_seen_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("alerted_reports", sa.Integer(), nullable=False),
        sa.Column("created_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.storage.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracked_cluster", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracked_cluster_last_seen_at"), ["last_seen_at"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("tracked_cluster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_cluster_last_seen_at"))
    op.drop_table("tracked_cluster")
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_column("alerts")
    op.drop_index("ix_notification_payload_key_id", table_name="notification")
    op.drop_column("notification", "payload_key_id")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("payload")
    with op.batch_alter_table("report_imei", schema=None) as batch_op:
        batch_op.drop_column("added_at")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_tracked_at")
        batch_op.drop_column("duplicate_imei_at")
