"""Background jobs run through real huey consumers on SQLite and on PostgreSQL storage."""

from __future__ import annotations

import datetime as dt

import pytest
from huey import Huey, SqliteHuey
from huey.constants import EmptyData

from fleetcare.core.jobs import PostgresStorage, build_huey
from fleetcare.core.settings import Settings


def _consume_one(huey: Huey) -> None:
    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        result = add(2, 3)
        assert result.get(blocking=True, timeout=15) == 5
    finally:
        consumer.stop(graceful=True)


def test_sqlite_queue_is_consumed(tmp_path):
    huey = build_huey(Settings(data_dir=tmp_path, jobs_backend="sqlite"))
    assert isinstance(huey, SqliteHuey)
    _consume_one(huey)


@pytest.mark.postgres
def test_postgres_queue_is_consumed(postgres_url):
    huey = build_huey(Settings(database_url=postgres_url))
    assert isinstance(huey.storage, PostgresStorage)
    huey.flush()
    _consume_one(huey)


@pytest.mark.postgres
def test_postgres_storage_operations(postgres_url):
    storage = PostgresStorage("unit", url=postgres_url)
    storage.flush_all()
    storage.enqueue(b"low", priority=0)
    storage.enqueue(b"high", priority=5)
    assert storage.queue_size() == 2
    assert storage.enqueued_items() == [b"high", b"low"]
    assert storage.dequeue() == b"high"
    assert storage.dequeue() == b"low"
    assert storage.dequeue() is None
    now = dt.datetime.now(dt.UTC)
    storage.add_to_schedule(b"later", now + dt.timedelta(hours=1))
    storage.add_to_schedule(b"due", now - dt.timedelta(seconds=1))
    assert storage.read_schedule(now) == [b"due"]
    assert storage.schedule_size() == 1
    storage.put_data("k", b"v")
    assert storage.peek_data("k") == b"v"
    assert storage.put_if_empty("k", b"w") is False
    assert storage.pop_data("k") == b"v"
    assert storage.peek_data("k") is EmptyData
    assert storage.incr("c") == 1
    assert storage.incr("c", 4) == 5
    storage.flush_all()
    assert storage.schedule_size() == 0
    storage.close()


def test_memory_backend_runs_tasks_at_once():
    huey = build_huey(Settings(jobs_backend="memory"))

    @huey.task()
    def double(x: int) -> int:
        return 2 * x

    assert double(21)() == 42


def test_registered_tasks_are_known_to_consumers(tmp_path):
    """The module-level proxy registers every capability's tasks on the configured huey."""
    import fleetcare.tasks  # noqa: F401
    from fleetcare.core.jobs import huey

    instance = huey.configure(Settings(data_dir=tmp_path, jobs_backend="sqlite"))
    names = {name.rsplit(".", 1)[-1] for name in instance._registry._registry}
    assert {"verify_audit_chain", "record_support_status_changes"} <= names
