"""Background jobs on huey.

Where the queue lives follows the database: an SQLite file beside the main database by default,
tables in the main database when it is PostgreSQL (so a scaled-out deployment needs nothing
more), Redis when `FLEETCARE_JOBS_BACKEND=redis`, and memory with immediate execution in tests.
`fleetcare serve` consumes in-process; `fleetcare worker` consumes alone, for deployments that
separate API workers from job workers.

Tasks are defined in each capability's `tasks.py` against the shared `huey` object below, and
import their services lazily. Task bodies open their own database session through `task_db()`.

Huey ships SQLite and Redis storages but none for PostgreSQL (its SQL one needs peewee), so
`PostgresStorage` is written here: a few statements over psycopg with `SKIP LOCKED` dequeueing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from huey import Huey, MemoryHuey, SqliteHuey
from huey.api import crontab
from huey.constants import EmptyData
from huey.storage import BaseStorage
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetcare.core.db import Database
from fleetcare.core.settings import Settings, get_settings

log = logging.getLogger("fleetcare.jobs")


class PostgresStorage(BaseStorage):  # type: ignore[misc]
    """huey storage in the tables `huey_task`, `huey_schedule`, `huey_kv`, `huey_counter`."""

    def __init__(self, name: str = "huey", url: str = "", **kwargs: Any) -> None:
        super().__init__(name)
        self._url = url
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                from fleetcare.core.db import make_engine

                self._engine = make_engine(self._url, pool_size=4, max_overflow=4)
            return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _exec(self, sql: str, **params: Any) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(text(sql), {"q": self.name, **params})

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        return list(self._exec(sql, **params).all())

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        self._exec(
            "INSERT INTO huey_task (queue, data, priority) VALUES (:q, :d, :p)",
            d=data,
            p=priority or 0,
        )

    def dequeue(self) -> bytes | None:
        row = self._exec(
            "DELETE FROM huey_task WHERE id = (SELECT id FROM huey_task WHERE queue = :q "
            "ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING data"
        ).first()
        return bytes(row[0]) if row else None

    def queue_size(self) -> int:
        return int(self._exec("SELECT count(*) FROM huey_task WHERE queue = :q").scalar_one())

    def enqueued_items(self, limit: int | None = None) -> list[bytes]:
        rows = self._rows(
            "SELECT data FROM huey_task WHERE queue = :q ORDER BY priority DESC, id LIMIT :n",
            n=limit,
        )
        return [bytes(r[0]) for r in rows]

    def flush_queue(self) -> None:
        self._exec("DELETE FROM huey_task WHERE queue = :q")

    def add_to_schedule(self, data: bytes, ts: dt.datetime) -> None:
        self._exec(
            "INSERT INTO huey_schedule (queue, data, ts) VALUES (:q, :d, :t)",
            d=data,
            t=ts.timestamp(),
        )

    def read_schedule(self, ts: dt.datetime) -> list[bytes]:
        rows = self._rows(
            "DELETE FROM huey_schedule WHERE id IN (SELECT id FROM huey_schedule WHERE queue = :q "
            "AND ts <= :t FOR UPDATE SKIP LOCKED) RETURNING ts, id, data",
            t=ts.timestamp(),
        )
        return [bytes(r[2]) for r in sorted(rows, key=lambda r: (r[0], r[1]))]

    def schedule_size(self) -> int:
        return int(self._exec("SELECT count(*) FROM huey_schedule WHERE queue = :q").scalar_one())

    def scheduled_items(self, limit: int | None = None) -> list[bytes]:
        rows = self._rows(
            "SELECT data FROM huey_schedule WHERE queue = :q ORDER BY ts, id LIMIT :n", n=limit
        )
        return [bytes(r[0]) for r in rows]

    def flush_schedule(self) -> None:
        self._exec("DELETE FROM huey_schedule WHERE queue = :q")

    def put_data(self, key: str, value: bytes, is_result: bool = False) -> None:
        self._exec(
            "INSERT INTO huey_kv (queue, key, value) VALUES (:q, :k, :v) "
            "ON CONFLICT (queue, key) DO UPDATE SET value = EXCLUDED.value",
            k=key,
            v=value,
        )

    def peek_data(self, key: str) -> Any:
        row = self._exec("SELECT value FROM huey_kv WHERE queue = :q AND key = :k", k=key).first()
        return bytes(row[0]) if row else EmptyData

    def pop_data(self, key: str) -> Any:
        row = self._exec(
            "DELETE FROM huey_kv WHERE queue = :q AND key = :k RETURNING value", k=key
        ).first()
        return bytes(row[0]) if row else EmptyData

    def has_data_for_key(self, key: str) -> bool:
        return (
            self._exec("SELECT 1 FROM huey_kv WHERE queue = :q AND key = :k", k=key).first()
            is not None
        )

    def put_if_empty(self, key: str, value: bytes, ttl: int | None = None) -> bool:
        if ttl is not None:
            raise NotImplementedError("ttl is not supported by the PostgreSQL storage")
        try:
            self._exec(
                "INSERT INTO huey_kv (queue, key, value) VALUES (:q, :k, :v)", k=key, v=value
            )
        except IntegrityError:
            return False
        return True

    def incr(self, key: str, amount: int = 1) -> int:
        return int(
            self._exec(
                "INSERT INTO huey_counter (queue, key, value) VALUES (:q, :k, :a) "
                "ON CONFLICT (queue, key) DO UPDATE SET value = huey_counter.value + :a "
                "RETURNING value",
                k=key,
                a=amount,
            ).scalar_one()
        )

    def delete_counter(self, key: str) -> None:
        self._exec("DELETE FROM huey_counter WHERE queue = :q AND key = :k", k=key)

    def result_store_size(self) -> int:
        return int(self._exec("SELECT count(*) FROM huey_kv WHERE queue = :q").scalar_one())

    def result_items(self) -> dict[str, bytes]:
        return {
            r[0]: bytes(r[1]) for r in self._rows("SELECT key, value FROM huey_kv WHERE queue = :q")
        }

    def flush_results(self) -> None:
        self._exec("DELETE FROM huey_kv WHERE queue = :q")

    def flush_counters(self) -> None:
        self._exec("DELETE FROM huey_counter WHERE queue = :q")


def build_huey(settings: Settings) -> Huey:
    backend = settings.resolved_jobs_backend
    if backend == "memory":
        return MemoryHuey("fleetcare", immediate=True)
    if backend == "postgres":
        return Huey("fleetcare", storage_class=PostgresStorage, url=settings.resolved_database_url)
    if backend == "redis":
        from huey import RedisHuey

        return RedisHuey("fleetcare", url=settings.jobs_redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("fleetcare", filename=str(settings.data_dir / "jobs.db"))


class _HueyProxy:
    """The module-level `huey`: tasks register on it at import, storage is chosen at first use.

    Tasks are declared when modules import, before the CLI has read its options; the real Huey
    instance is built from settings on first use and rebuilt by `configure()`.
    """

    def __init__(self) -> None:
        self._huey: Huey | None = None
        self._registrations: list[tuple[str, tuple[Any, ...], dict[str, Any], Any]] = []
        self._tasks: dict[str, Any] = {}

    def configure(self, settings: Settings) -> Huey:
        self._huey = build_huey(settings)
        for kind, args, kwargs, func in self._registrations:
            decorator = getattr(self._huey, kind)(*args, **kwargs)
            self._tasks[func.__name__] = decorator(func)
        return self._huey

    @property
    def instance(self) -> Huey:
        if self._huey is None:
            self.configure(get_settings())
        assert self._huey is not None
        return self._huey

    def _register(
        self, kind: str, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            self._registrations.append((kind, args, kwargs, func))
            if self._huey is not None:
                self._tasks[func.__name__] = getattr(self._huey, kind)(*args, **kwargs)(func)
            name = func.__name__

            def enqueue(*a: Any, **kw: Any) -> Any:
                self.instance  # noqa: B018 - builds the huey and registers the task
                return self._tasks[name](*a, **kw)

            enqueue.__name__ = name
            enqueue.__doc__ = func.__doc__
            enqueue.call_local = func  # type: ignore[attr-defined]
            return enqueue

        return decorator

    def task(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._register("task", *args, **kwargs)

    def periodic_task(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._register("periodic_task", *args, **kwargs)


huey = _HueyProxy()

__all__ = ["crontab", "huey", "task_db"]

_task_database: Database | None = None


@contextmanager
def task_db() -> Iterator[Session]:
    """A session for a task body; the task commits what it changed."""
    global _task_database  # noqa: PLW0603 - one engine per worker process
    if _task_database is None:
        _task_database = Database(get_settings().resolved_database_url)
    with _task_database.session() as session:
        yield session


def set_task_database(database: Database | None) -> None:
    """Let tasks share the caller's engine (the server process and tests)."""
    global _task_database  # noqa: PLW0603
    _task_database = database


def start_consumer(workers: int = 2) -> Any:
    """Start consuming in background threads of this process; returns the consumer to stop."""
    import fleetcare.tasks  # noqa: F401 - registers every capability's tasks
    from fleetcare.wiring import connect

    connect()

    consumer = huey.instance.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    return consumer
