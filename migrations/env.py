"""Alembic environment: migrations run on a connection the caller passes in."""

from alembic import context
from sqlmodel import SQLModel

import models.storage.tables  # noqa: F401  (registers the tables on the metadata)

target_metadata = SQLModel.metadata


def run_on(connection) -> None:
    """Run the pending migrations on an open synchronous connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as sync_connection:
        run_on(sync_connection)
        sync_connection.commit()
else:
    run_on(connection)
