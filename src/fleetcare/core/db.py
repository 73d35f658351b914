"""Database engine, sessions and the declarative base every capability's tables use.

One `Database` per process wraps an engine and a session factory. SQLite gets WAL mode, a busy
timeout and foreign keys; PostgreSQL goes through psycopg 3. Services take a `Session`; the caller
(an API handler, a CLI command, a job) owns the transaction and commits.

    db = Database(settings.resolved_database_url)
    with db.session() as session:
        ...
        session.commit()
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones; without this, values read back naive and comparisons with aware
    datetimes fail. Naive values are refused on the way in so that no local time slips through.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 15}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


_hot_lock = threading.Lock()


class Database:
    """An engine plus the session factory bound to it."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._hot_local = threading.local()
        self._hot_all: list[Any] = []

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def in_memory(self) -> bool:
        return self.url in ("sqlite://", "sqlite:///:memory:")

    def hot_connection(self) -> Any:
        """A DB-API connection of this thread's own in autocommit, for the few statements of
        a hot path that cannot afford the ORM (`fleetcare.updates.fastpath`). It waits at most
        10 ms for a lock another writer holds and then raises, so that the caller can pass the
        work to the ordinary, patient path. Closed by `dispose`."""
        connection: Any = getattr(self._hot_local, "connection", None)
        if connection is None:
            raw = self.engine.raw_connection()
            connection = raw.driver_connection
            raw.detach()  # ours until dispose(), never handed back to the pool
            if self.engine.dialect.name == "sqlite":
                connection.isolation_level = None
                connection.execute("PRAGMA busy_timeout=10")
            else:
                connection.autocommit = True
                connection.execute("SET lock_timeout = '10ms'")
                # The hot path writes bookkeeping (when a device was last seen, its replay
                # guard); not waiting for the WAL flush of each makes a check-in 3x cheaper.
                # If PostgreSQL itself crashes, the last ~0.6 s of it can be lost (never
                # corrupted): a request captured in that moment could be replayed once.
                connection.execute("SET synchronous_commit = off")
                # Its few statements are prepared on first use and planned once: planning
                # them took longer than running them.
                connection.prepare_threshold = 0
                connection.execute("SET plan_cache_mode = force_generic_plan")
                # They touch a handful of rows by key. Right after a mass enrolment the
                # statistics still describe a small table, and the plan made once from them
                # scanned the whole fleet for each batch (measured: 5 ms against 0.2 ms):
                # tell the planner what these statements are instead of trusting them.
                for method in ("seqscan", "hashjoin", "mergejoin"):
                    connection.execute(f"SET enable_{method} = off")
            self._hot_local.connection = connection
            with _hot_lock:
                self._hot_all.append(connection)
        return connection

    def drop_hot_connection(self, *, if_broken: bool = False) -> None:
        """Forget this thread's hot connection (with `if_broken`, only if it has lost its
        server: a lock timeout leaves it usable, a restarted PostgreSQL does not)."""
        connection = getattr(self._hot_local, "connection", None)
        if connection is None:
            return
        if if_broken:
            try:
                connection.execute("SELECT 1").fetchall()
                return
            except Exception:  # noqa: S110 - the probe's failure is the answer
                pass
        self._hot_local.connection = None
        with _hot_lock:
            self._hot_all.remove(connection)
        with suppress(Exception):
            connection.close()

    def dispose(self) -> None:
        with _hot_lock:
            hot, self._hot_all = self._hot_all, []
        for connection in hot:
            with suppress(Exception):
                connection.close()
        self._hot_local = threading.local()
        self.engine.dispose()
