"""Migrations run from an empty database to head, and the newest one downgrades and re-applies."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import inspect, text

from fleetcare.core import migrations
from fleetcare.core.db import Base, Database
from tests.conftest import needs_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path, worker_name):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield db
        db.dispose()
        return
    base = needs_postgres()
    schema = f"fleetcare_migrations_{worker_name}_{secrets.token_hex(4)}"
    admin = Database(base)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    db = Database(f"{base}{sep}options=-csearch_path%3D{schema}")
    yield db
    db.dispose()
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def test_upgrade_from_empty_creates_every_table(empty_database):
    assert migrations.current_and_head(empty_database.engine)[0] is None
    migrations.upgrade(empty_database.engine)
    current, head = migrations.current_and_head(empty_database.engine)
    assert current == head is not None
    tables = set(inspect(empty_database.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_the_head_constant_is_alembics_head():
    """`migrations.HEAD` saves each CLI command importing alembic; a new revision script
    must update it."""
    assert migrations.head_revision() == migrations.HEAD


def test_models_match_the_migrations(empty_database):
    """A model change without a migration shows up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrations.upgrade(empty_database.engine)
    with empty_database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_latest_migration_downgrades_and_upgrades_again(empty_database):
    migrations.upgrade(empty_database.engine)
    _, head = migrations.current_and_head(empty_database.engine)
    migrations.downgrade(empty_database.engine, "-1")
    current, _ = migrations.current_and_head(empty_database.engine)
    assert current != head
    migrations.upgrade(empty_database.engine)
    assert migrations.current_and_head(empty_database.engine)[0] == head
    with empty_database.engine.connect() as conn:
        assert conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one() == 0
