"""The migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hotline.bootstrap import Context
from storage.migrate import MIGRATIONS, alembic_config, current_revision
from storage.tables import Base


def test_database_is_at_head(context: Context) -> None:
    head = ScriptDirectory.from_config(alembic_config(context.engine)).get_current_head()
    assert current_revision(context.engine) == head


def test_models_and_migrations_agree(context: Context) -> None:
    with context.engine.connect() as connection:
        migration_context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(migration_context, Base.metadata)
    assert differences == [], f"models differ from {MIGRATIONS}: add a migration ({differences})"
