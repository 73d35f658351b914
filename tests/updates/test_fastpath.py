"""The device hot path answers steady-state check-ins and DDI polls exactly as the full routes
would, and passes everything else on untouched (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from fleetcare.app import create_app
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from fleetcare.portfolio.models import Product
from fleetcare.updates import ddi, devices, rollouts
from fleetcare.updates.agent import DeviceClient, DeviceIdentity
from fleetcare.updates.models import Assignment, Device, Rollout
from fleetcare.updates.schemas import RolloutIn, UpdateSettingsIn, WaveIn, WindowIn
from tests.updates.conftest import ACTOR, enrolled, register

T = TypeVar("T")


def _in_own_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: a browser test of the same worker may have left
    an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def _counts(app: Any) -> tuple[float, float]:
    hot = app.hot_path
    return hot.answered._value.get(), hot.passed._value.get()


@pytest.fixture
def full_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The same server with the hot path switched off: every request takes the full route."""
    app = create_app(settings.model_copy(update={"device_hot_path": False}), database)
    with TestClient(app) as client:
        yield client


def _rollout(database: Database, **extra: Any) -> int:
    with database.session() as session:
        rollout = rollouts.create(
            session,
            RolloutIn(name="ship", product="gateway", version="2.0.0", **extra),
            actor=ACTOR,
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        return rollout.id


def _same_answer(app: Any, hot: DeviceClient, full: DeviceClient, **checkin: str) -> Any:
    """Check in through the hot path, then through the full route: the same answer."""
    answered, _ = _counts(app)
    fast = hot.checkin(**checkin)
    assert fast.status_code == 200, fast.text
    assert _counts(app)[0] == answered + 1, "the hot path did not answer"
    slow = full.checkin(**checkin)
    assert slow.status_code == 200, slow.text
    assert fast.json() == slow.json()
    assert fast.headers["etag"] == slow.headers["etag"]
    assert fast.headers["content-type"] == slow.headers["content-type"]
    return fast.json()


def test_checkin_answers_match_the_full_route(
    app, client, full_client, database, settings, fleet, tmp_path
):
    register(database, ["dev-1"], customer="ACME")
    device = enrolled(client, tmp_path, "dev-1")
    full = DeviceClient(full_client, device.identity)
    full.next_seq = device.next_seq  # type: ignore[method-assign]  # one device, one sequence

    # The first report of a release goes the full way (it records the release) ...
    assert device.checkin(installed="1.0.0", state="idle").status_code == 200
    # ... and from then on the steady state is answered by the hot path.
    body = _same_answer(app, device, full, installed="1.0.0", state="idle")
    assert body["assignment"] is None
    _same_answer(app, device, full)

    rollout_id = _rollout(database)
    body = _same_answer(app, device, full, installed="1.0.0")
    assert body["assignment"]["version"] == "2.0.0"
    assert body["assignment"]["install"] == "automatic"
    assert body["poll_seconds"] == settings.device_poll_seconds

    with database.session() as session:  # under way: the busy poll interval
        assignment = session.query(Assignment).filter_by(rollout_id=rollout_id).one()
        assignment.status = "downloading"
        session.commit()
    body = _same_answer(app, device, full, installed="1.0.0")
    assert body["poll_seconds"] == settings.device_busy_poll_seconds

    with database.session() as session:  # the customer opts out: offered, not automatic
        devices.set_customer_update_settings(
            session, settings, "ACME", UpdateSettingsIn(security_updates="opt_out"), actor=ACTOR
        )
        session.commit()
    body = _same_answer(app, device, full, installed="1.0.0")
    assert body["security_updates"]["choice"] == "opt_out"
    assert body["assignment"]["install"] == "offered"

    with database.session() as session:  # the device postpones
        devices.set_customer_update_settings(
            session, settings, "ACME", UpdateSettingsIn(security_updates="automatic"), actor=ACTOR
        )
        until = dt.date.today() + dt.timedelta(days=10)
        devices.set_device_update_settings(
            session,
            settings,
            "dev-1",
            UpdateSettingsIn(security_updates="automatic", postponed_until=until),
            actor=ACTOR,
        )
        session.commit()
    body = _same_answer(app, device, full, installed="1.0.0")
    assert body["security_updates"] == {"choice": "postponed", "postponed_until": until.isoformat()}


def test_offers_say_whether_the_maintenance_window_is_open(
    app, client, full_client, database, fleet, tmp_path
):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    full = DeviceClient(full_client, device.identity)
    full.next_seq = device.next_seq  # type: ignore[method-assign]
    device.checkin(installed="1.0.0")
    now = dt.datetime.now(dt.UTC)
    closed = WindowIn(
        days=[(now.weekday() + 3) % 7],
        start="01:00",
        end="02:00",
    )
    rollout_id = _rollout(database, windows=[closed])
    assert _same_answer(app, device, full, installed="1.0.0")["assignment"]["window"] == "closed"
    assert _same_answer(app, device, full, installed="1.0.0")["assignment"]["window"] == "closed"
    with database.session() as session:  # the window opens: the kept answer is not reused
        rollout = session.get(Rollout, rollout_id)
        assert rollout is not None
        every_day = list(range(7))
        rollout.windows = [
            {"days": every_day, "start": "00:00", "end": "12:00"},
            {"days": every_day, "start": "12:00", "end": "00:00"},  # until midnight
        ]
        session.commit()
    assert _same_answer(app, device, full, installed="1.0.0")["assignment"]["window"] == "open"


def test_a_device_on_the_target_release_has_its_assignment_cancelled(
    app, client, database, fleet, tmp_path
):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="1.0.0")
    rollout_id = _rollout(database)
    device.checkin(installed="2.0.0")  # installed another way: recorded by the full route
    answered, _ = _counts(app)
    assert device.checkin(installed="2.0.0").json()["assignment"] is None
    assert _counts(app)[0] == answered + 1
    with database.session() as session:
        assignment = session.query(Assignment).filter_by(rollout_id=rollout_id).one()
        assert assignment.status == "cancelled"
        assert "release counter 2" in assignment.detail


def test_support_end_notices_come_through_the_hot_path(
    app, client, full_client, database, fleet, tmp_path
):
    register(database, ["dev-1"])
    with database.session() as session:
        product = session.get(Product, fleet.product_id)
        product.placed_on_market = dt.date(2019, 1, 1)
        product.support_end = dt.date(2025, 6, 30)
        session.commit()
    device = enrolled(client, tmp_path, "dev-1")
    full = DeviceClient(full_client, device.identity)
    full.next_seq = device.next_seq  # type: ignore[method-assign]
    device.checkin(installed="1.0.0")
    notices = _same_answer(app, device, full, installed="1.0.0")["notices"]
    assert notices[0]["type"] == "end_of_support"


def test_everything_but_the_steady_state_is_passed_on(app, client, database, fleet, tmp_path):
    register(database, ["dev-1", "dev-2"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="1.0.0")
    answered, passed = _counts(app)

    target = "/device/v1/checkin"
    headers = device.signed_headers("GET", target, b"")
    assert client.get(target, headers=headers).status_code == 200
    replay = client.get(target, headers=headers)  # refused by the full route
    assert replay.status_code == 401
    assert "replayed" in replay.json()["error"]

    forged = dict(device.signed_headers("GET", target, b""))
    forged["X-Fleetcare-Signature"] = "00" * 64
    assert client.get(target, headers=forged).status_code == 401
    assert client.get(target).status_code == 401  # unsigned
    assert (
        client.get(
            target + "?other=1", headers=device.signed_headers("GET", target + "?other=1", b"")
        ).status_code
        == 200
    )  # an unknown parameter: the full route ignores it

    unknown = device.checkin(installed="9.9.9")  # the full route says why
    assert unknown.status_code == 422
    assert _counts(app) == (answered + 1, passed + 5)

    with database.session() as session:
        devices.decommission(session, "dev-1", actor=ACTOR)
        session.commit()
    refused = device.checkin(installed="1.0.0")
    assert refused.status_code in (401, 403)
    assert _counts(app)[0] == answered + 1


def test_the_sequence_number_is_consumed_only_by_an_answer(app, client, database, fleet, tmp_path):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="1.0.0")
    # A new release reported: the hot path must leave the request to the full route unused.
    with database.session() as session:
        seq_before = session.query(Device).filter_by(uid="dev-1").one().request_seq
    response = device.checkin(installed="2.0.0")
    assert response.status_code == 200
    assert response.json()["installed"]["version"] == "2.0.0"
    with database.session() as session:
        assert session.query(Device).filter_by(uid="dev-1").one().request_seq > seq_before


def test_device_rate_limit_holds_on_the_hot_path(app, client, database, fleet, tmp_path):
    app.state.settings.device_rate_limit = 3
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    assert device.open_session().status_code == 200  # the first request of the three
    statuses = [device.checkin().status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_a_lock_held_by_another_writer_sends_the_request_the_full_way(
    app, client, database, fleet, tmp_path, caplog
):
    """SQLite: another connection holds the write lock; PostgreSQL: another transaction holds
    the device's row. The hot path waits 10 ms at most, then the full route waits its turn."""
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="1.0.0")
    answered, passed = _counts(app)
    locked = threading.Event()

    def hold_the_lock() -> None:
        with database.engine.connect() as conn:
            if database.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("SELECT 1 FROM update_devices WHERE uid = 'dev-1' FOR UPDATE")
            locked.set()
            time.sleep(0.3)
            conn.rollback()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    locked.wait()
    response = device.checkin(installed="1.0.0")  # the full route waits for the lock
    holder.join()
    assert response.status_code == 200
    assert _counts(app) == (answered, passed + 1)
    # Expected under contention: said in one line, not as a warning with a traceback.
    said = [r for r in caplog.records if r.name == "fleetcare.updates.fastpath"]
    assert [(r.levelname, r.exc_info) for r in said] == [("INFO", None)]


def test_concurrent_check_ins_are_committed_together(app, client, database, fleet, tmp_path):
    """Requests arriving in one turn of the event loop share one transaction; every one gets
    its own answer, and two requests of one device in the same batch are both recorded."""
    uids = [f"dev-{i}" for i in range(12)]
    register(database, uids)
    clients = [enrolled(client, tmp_path, uid) for uid in uids]
    for device in clients:
        device.checkin(installed="1.0.0")
    _rollout(database)
    answered, _ = _counts(app)
    target = "/device/v1/checkin?installed=1.0.0"
    requests = [(c.identity.uid, c.signed_headers("GET", target, b"")) for c in clients]
    requests.append((clients[0].identity.uid, clients[0].signed_headers("GET", target, b"")))

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.get(target, headers=h) for _, h in requests))

    responses = _in_own_loop(run)
    assert [r.status_code for r in responses] == [200] * len(requests)
    assert [r.json()["device"] for r in responses] == [uid for uid, _ in requests]
    assert all(r.json()["assignment"]["version"] == "2.0.0" for r in responses)
    assert _counts(app)[0] == answered + len(requests)
    with database.session() as session:
        seq = session.query(Device).filter_by(uid="dev-0").one().request_seq
    assert seq == int(requests[-1][1]["X-Fleetcare-Seq"])


def test_ddi_polls_match_the_full_route(app, client, full_client, database, settings, fleet):
    register(database, ["ddi-1"])
    rollout_id = _rollout(database, waves=[WaveIn(percent=100)])
    token = {"Authorization": f"TargetToken {ddi.target_token(settings, 'ddi-1')}"}
    base = f"/{settings.ddi_tenant}/controller/v1/ddi-1"
    assert client.get(base, headers=token).status_code == 200  # enrols: the full route

    def same() -> Any:
        answered, _ = _counts(app)
        fast = client.get(base, headers=token)
        assert _counts(app)[0] == answered + 1
        slow = full_client.get(base, headers=token)
        assert fast.status_code == slow.status_code == 200
        assert fast.json() == slow.json()
        assert fast.headers["etag"] == slow.headers["etag"]
        assert fast.headers["content-type"] == slow.headers["content-type"]
        assert (
            client.get(base, headers={**token, "If-None-Match": fast.headers["etag"]}).status_code
            == 304
        )
        return fast.json()

    links = same()["_links"]
    assert set(links) == {"deploymentBase", "configData"}
    with database.session() as session:
        assignment = session.query(Assignment).filter_by(rollout_id=rollout_id).one()
        assignment.status = "success"
        session.query(Device).filter_by(uid="ddi-1").one().hardware_revision = "B"
        session.commit()
    links = same()["_links"]
    assert set(links) == {"installedBase"}

    wrong = {"Authorization": f"TargetToken {ddi.target_token(settings, 'other')}"}
    assert client.get(base, headers=wrong).status_code == 401
    assert client.get("/elsewhere/controller/v1/ddi-1", headers=token).status_code == 404


def test_in_memory_databases_go_the_full_way(tmp_path):
    database = Database("sqlite://")
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", secret_key="x" * 32)
    app = create_app(settings, database)
    assert app.hot_path is not None
    assert not app.hot_path.enabled
    database.dispose()


def test_a_lost_database_connection_is_replaced(app, client, database, fleet, tmp_path):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="1.0.0")
    assert device.checkin(installed="1.0.0").status_code == 200
    for connection in list(database._hot_all):  # as if the server had gone away
        connection.close()
    answered, passed = _counts(app)
    # The full route answers while the hot path finds its connections broken: on PostgreSQL
    # the batches' thread and the loop's lookups each have one, so up to two are passed on.
    assert [device.checkin(installed="1.0.0").status_code for _ in range(3)] == [200] * 3
    now_answered, now_passed = _counts(app)
    assert 1 <= now_passed - passed <= 2
    assert now_answered - answered == 3 - (now_passed - passed)
    assert device.checkin(installed="1.0.0").status_code == 200  # new connections
    assert _counts(app) == (now_answered + 1, now_passed)


def test_check_ins_signed_under_a_session(app, client, database, settings, fleet, tmp_path):
    """A session signs check-ins with HMAC, on the hot path and the full route alike; it does
    not sign anything else, expires, and ends when the device's key or the server's secret
    changes."""
    register(database, ["dev-1", "dev-2"])
    device = enrolled(client, tmp_path, "dev-1")
    opened = device.open_session()
    assert opened.status_code == 200
    session_id = opened.json()["session"]
    assert device.checkin(installed="1.0.0").status_code == 200  # full route: records 1.0.0
    answered, _ = _counts(app)
    assert device.checkin(installed="1.0.0").status_code == 200
    assert _counts(app)[0] == answered + 1  # the hot path checked the HMAC

    # only check-ins: a status report under the session is refused
    assert device._session is not None
    key = device._session[1]
    body = b'{"assignment": 1, "status": "downloading", "detail": ""}'
    seq = device.next_seq()
    message = devices.request_message("POST", "/device/v1/status", seq, body)
    refused = client.post(
        "/device/v1/status",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Fleetcare-Device": "dev-1",
            "X-Fleetcare-Seq": str(seq),
            "X-Fleetcare-Session": session_id,
            "X-Fleetcare-Signature": hmac.new(key, message, hashlib.sha256).hexdigest(),
        },
    )
    assert refused.status_code == 401
    assert "check-ins only" in refused.json()["error"]

    def signed_checkin(uid: str, sid: str, session_key: bytes) -> httpx.Response:
        seq = device.next_seq()
        mac = hmac.new(
            session_key,
            devices.request_message("GET", "/device/v1/checkin", seq, b""),
            hashlib.sha256,
        )
        return client.get(
            "/device/v1/checkin",
            headers={
                "X-Fleetcare-Device": uid,
                "X-Fleetcare-Seq": str(seq),
                "X-Fleetcare-Session": sid,
                "X-Fleetcare-Signature": mac.hexdigest(),
            },
        )

    assert signed_checkin("dev-1", session_id, key).status_code == 200
    # another device cannot use dev-1's session
    enrolled(client, tmp_path, "dev-2")
    other = signed_checkin("dev-2", session_id, key)
    assert other.status_code == 401
    assert "open a new one" in other.json()["error"]
    # a made-up expiry does not verify: the key is derived from the id
    forged_id = str(int(time.time()) + 3600) + session_id[session_id.index(".") :]
    assert signed_checkin("dev-1", forged_id, key).status_code == 401
    # an expired session
    expired = f"{int(time.time()) - 1}.{'0' * 16}"
    master = devices.sessions_master(settings)
    with database.session() as session:
        public_key = devices.get_device(session, "dev-1").public_key
    assert public_key is not None
    old_key = devices.session_key(master, "dev-1", public_key, expired)
    assert signed_checkin("dev-1", expired, old_key).status_code == 401

    # a new key for the device ends its sessions; the agent opens a new one by itself
    with database.session() as session:
        record = devices.get_device(session, "dev-1")
        new_identity = DeviceIdentity("dev-1", Ed25519PrivateKey.generate())
        record.public_key = new_identity.public_key_hex
        session.commit()
    assert signed_checkin("dev-1", session_id, key).status_code == 401
    renewed = DeviceClient(client, new_identity)
    renewed.next_seq = device.next_seq  # type: ignore[method-assign]
    assert renewed.checkin().status_code == 200


def test_first_check_ins_after_a_start_look_the_devices_up_together(
    client, database, settings, fleet, tmp_path
):
    uids = [f"dev-{i}" for i in range(10)]
    register(database, uids)
    clients = [enrolled(client, tmp_path, uid) for uid in uids]
    for device in clients:
        device.sessions = False
        device.checkin(installed="1.0.0")
    restarted = create_app(settings, database)  # a new process: nothing known
    assert restarted.hot_path is not None
    lookups: list[list[str]] = []
    look_up = restarted.hot_path.sql.devices

    def counted(uids: list[str]) -> dict[str, tuple[Any, ...]]:
        lookups.append(uids)
        return look_up(uids)

    restarted.hot_path.sql.devices = counted  # type: ignore[method-assign]
    target = "/device/v1/checkin?installed=1.0.0"
    headers = [c.signed_headers("GET", target, b"") for c in clients]
    headers.append({**headers[0], "X-Fleetcare-Device": "nobody"})  # unknown: passed on

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.get(target, headers=h) for h in headers))

    responses = _in_own_loop(run)
    assert [r.status_code for r in responses] == [200] * len(uids) + [401]
    assert lookups == [sorted([*uids, "nobody"])]
    assert _counts(restarted) == (len(uids), 1)


def test_sqlite_timestamps_are_written_as_sqlalchemy_writes_them(tmp_path):
    from fleetcare.updates.fastpath import _Sql

    database = Database(f"sqlite:///{tmp_path}/stamp.db")
    sql = _Sql(database)
    column = Device.__table__.c.last_checkin_at.type
    dialect = database.engine.dialect
    process = column.dialect_impl(dialect).bind_processor(dialect)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    for value in (
        dt.datetime(2026, 11, 29, 12, 30, 5, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # no microseconds
        dt.datetime(2026, 1, 1, 1, 0, 0, 1, tzinfo=plus_two),  # the day before in UTC
    ):
        assert sql.stamp(value) == process(value)
    database.dispose()
