"""The Alembic migrations: one head, upgrade and downgrade on both backends, and the tables defined in
code match what the migrations build (alembic's compare_metadata finds no difference)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from dryneedling.db.engine import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    table_names,
    upgrade,
)
from dryneedling.db.tables import metadata


def test_it_has_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1
    assert script.get_heads() == [head_revision()]


def test_it_keeps_the_models_and_the_migrations_in_step(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_it_migrates_up_and_down_and_up_again(database_url, backend):
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()  # the session's store migrated it
        expected = sorted([*metadata.tables, "alembic_version"])
        assert table_names(engine) == expected
        downgrade(engine, "base")
        assert table_names(engine) == ["alembic_version"]
        assert current_revision(engine) is None
        upgrade(engine)
        assert table_names(engine) == expected and current_revision(engine) == head_revision()
    finally:
        engine.dispose()
