"""Shared fixtures: a migrated database on SQLite and PostgreSQL, an app, users and tokens.

Every test that takes `database` (or anything built on it) runs twice: on SQLite, and on
PostgreSQL when `FLEETCARE_TEST_POSTGRES_URL` is set (`.ci/run` sets it). Without it the
PostgreSQL run is skipped with a one-line reason, except under `CI=true`, where it fails.

SQLite tests get a copy of a database migrated once per session; PostgreSQL tests share one
schema per xdist worker, migrated once and emptied after each test.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from fleetcare.app import create_app
from fleetcare.core import auth, migrations
from fleetcare.core.auth import Role, system_principal
from fleetcare.core.db import Base, Database
from fleetcare.core.settings import Settings
from tests import _route_cache

_route_cache.install()

POSTGRES_URL = os.environ.get("FLEETCARE_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_PASSWORD = "correct horse battery staple"


def needs_postgres() -> str:
    """The PostgreSQL URL, or skip (fail under CI) when there is none."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but FLEETCARE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set FLEETCARE_TEST_POSTGRES_URL)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def worker_name(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "fleetcare.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_name: str) -> Iterator[str]:
    base = needs_postgres()
    # A schema of its own per run and worker: runs started side by side do not collide.
    schema = f"fleetcare_test_{worker_name}_{secrets.token_hex(4)}"
    admin = Database(base)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    db = Database(url)
    migrations.upgrade(db.engine)
    db.dispose()
    yield url
    admin = Database(base)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _empty_postgres(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audit_head (id, seq, last_hash, note) VALUES (1, 0, :h, '')"),
            {"h": "0" * 64},
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "fleetcare.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
    else:
        url = request.getfixturevalue("postgres_url")
        db = Database(url)
        try:
            yield db
        finally:
            _empty_postgres(db)
            db.dispose()


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database.url,
        secret_key="test-secret-key-not-for-production",
        jobs_backend="memory",
        log_json=False,
        public_rate_limit=1000,
    )


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Tokens:
    """One user and one API token per role; `headers(role)` gives the Authorization header."""

    values: dict[Role, str]

    def headers(self, role: Role | str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.values[Role(role)]}"}


@pytest.fixture
def tokens(database: Database) -> Tokens:
    actor = system_principal("tests", via="cli")
    values = {}
    with database.session() as session:
        for role in Role:
            user = auth.create_user(
                session,
                email=f"{role.value}@example.test",
                role=role,
                password=TEST_PASSWORD,
                actor=actor,
            )
            _token, clear = auth.create_token(session, user=user, actor=actor)
            values[role] = clear
        session.commit()
    return Tokens(values)
