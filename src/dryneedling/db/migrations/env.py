"""Alembic environment: runs the migrations on the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from dryneedling.db.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    connection.info["write"] = True
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
