"""The device hot path: steady-state check-ins and DDI polls, answered below the web framework.

Every device in the field polls, and after an outage or a push to a whole fleet they all come at
once. For these requests FastAPI's routing over the app's few hundred routes, its dependency
solving and the thread-pool hop cost more than the work itself, and the ORM several times more
than the SQL (measured: 2.6 ms of service time per check-in through the full route). So the two
requests devices repeat,

    GET /device/v1/checkin                         (signed, see `fleetcare.updates.devices`)
    GET /{tenant}/controller/v1/{controllerId}     (hawkBit DDI polling base, TargetToken)

are answered here before the framework sees them (`fleetcare.app.FleetcareApp` asks this
module first), with two or three indexed SQL statements on a connection of the thread's own in
autocommit (`Database.hot_connection`): on SQLite inline on the event loop, on PostgreSQL on
a database thread of the hot path's own while the loop reads and verifies the next requests.
Signatures are checked with libsodium (PyNaCl; 74 µs here against OpenSSL's 126 µs) or, for a
check-in signed under a device session, as an HMAC. The request still counts in the metrics
and the access log like any other.

Only the steady state is answered here: an active device whose key the server has, reporting
the release and state the server already recorded. Everything else passes through untouched to
the full routes in `device_api` and `ddi`, which enrol, record a new release, refuse and
rate-limit: a factory key's first request, a changed release or state, a replayed or forged
request, a decommissioned or unknown device, another tenant, a flood, a row locked by another
writer (waited for 10 ms at most), any database error. The decision is taken before anything
is written: the sequence number is consumed by the same conditional UPDATE that checks the
steady state, so a request passed on is still unused and the full route judges it afresh.

The answers are the full routes' answers, byte for byte (the tests compare them): both build
them with `devices.checkin_answer`, `rollouts.build_offer` and `ddi.poll_body`. Kept in the
process: device public keys (a hint only: the UPDATE also checks that the key is still the
stored one), and for a minute a rollout's release details and a product's notices, which
change only when a release is signed or a support end moves.

Set `FLEETCARE_DEVICE_HOT_PATH=0` to send everything through the full routes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from prometheus_client import Counter
from starlette.requests import Request
from starlette.types import Scope, Send

from fleetcare.core.db import Database, utcnow
from fleetcare.core.observability import Metrics
from fleetcare.core.settings import Settings
from fleetcare.updates import ddi, devices, rollouts, rules
from fleetcare.updates.device_api import DEVICE_PREFIX, device_limiter, encode_answer
from fleetcare.updates.models import Device

log = logging.getLogger("fleetcare.updates.fastpath")

Headers = list[tuple[bytes, bytes]]
#: An answer the hot path gives: status, headers, body.
Answer = tuple[int, Headers, bytes]

CHECKIN_PATH = DEVICE_PREFIX + "/checkin"
CACHE_SECONDS = 60.0
#: Keys kept per process; past this the cache starts afresh (a miss costs one SELECT).
MAX_KEYS = 500_000
#: Check-in answers kept as bytes (about 0.5 kB each); past this the cache starts afresh.
MAX_BODIES = 100_000

#: What the check-in's UPDATE returns on SQLite, in the order `_answer_for` reads it, then the
#: open assignment and the customer's policy, each a JSON array from a subquery (one statement
#: per check-in instead of three: SQLite's own work is the smaller part of each).
_RETURNING = """
RETURNING id, product_id, customer, installed_version, installed_counter,
  security_updates, postponed_until, hardware_revision,
  (SELECT json_array(a.id, a.status, r.id, r.mode, r.windows)
   FROM update_assignments a JOIN update_rollouts r ON r.id = a.rollout_id
   WHERE a.device_id = update_devices.id
     AND a.status NOT IN ('cancelled', 'failure', 'success')
     AND r.status = 'running' AND a.wave <= r.current_wave
   ORDER BY r.id DESC LIMIT 1),
  (SELECT json_array(p.security_updates, p.postponed_until) FROM update_customer_policies p
   WHERE p.customer = update_devices.customer AND update_devices.customer <> '')"""
_CANCEL_SQL = (
    "UPDATE update_assignments SET status = 'cancelled', detail = :detail, updated_at = :now "
    "WHERE id = :id"
)
# A check-in consumes the sequence number only in the steady state (`{conditions}` adds the
# reported release and state), so that a request passed on to the full route is still unused.
_CHECKIN_SQL = (
    "UPDATE update_devices SET request_seq = :seq, last_checkin_at = :now "
    "WHERE id = :id AND public_key = :key AND state = 'active' AND request_seq < :seq"
    "{conditions} {returning}"
)
_POLL_SQL = (
    "UPDATE update_devices SET last_checkin_at = :now "
    "WHERE id = :id AND uid = :uid AND state = 'active' {returning}"
)
# PostgreSQL: a whole batch in one statement, check-ins and DDI polls alike (a NULL `seq` is
# a DDI poll, which carries its uid instead of a key). The batch travels as one JSON document:
# psycopg dumps arrays element by element in Python, which cost more than the statement. The
# columns are those of `_RETURNING`, the open assignment, the customer's policy and DDI's
# links, per device. The statement is prepared once with a generic plan
# (`Database.hot_connection`, which also tells the planner to keep to the indexes);
# `coalesce` on the state keeps that plan on the primary key: after a mass enrolment, stale
# statistics made the state index look selective and cost a scan of the whole fleet.
_BATCH_SQL = """
WITH v AS (
  SELECT * FROM jsonb_to_recordset(%(batch)s::jsonb)
    AS v(id bigint, seq bigint, key text, installed text, state text, uid text, now timestamptz)
), d AS (
  UPDATE update_devices u
  SET request_seq = coalesce(v.seq, u.request_seq), last_checkin_at = v.now
  FROM v
  WHERE u.id = v.id AND coalesce(u.state, '') = 'active'
    AND (v.seq IS NULL OR (u.request_seq < v.seq AND u.public_key = v.key))
    AND (v.uid IS NULL OR u.uid = v.uid)
    AND (v.installed IS NULL OR u.installed_version = v.installed)
    AND (v.state IS NULL OR u.device_state = v.state)
  RETURNING u.id, u.product_id, u.customer, u.installed_version, u.installed_counter,
            u.security_updates, u.postponed_until, u.hardware_revision, v.uid AS ddi
)
SELECT d.id, d.product_id, d.customer, d.installed_version, d.installed_counter,
       d.security_updates, d.postponed_until, d.hardware_revision,
       o.id, o.status, o.rollout_id, o.mode, o.windows,
       p.security_updates, p.postponed_until,
       CASE WHEN d.ddi IS NOT NULL THEN
         (SELECT max(id) FROM update_assignments WHERE device_id = d.id
            AND status = 'cancelled' AND detail = 'rollout aborted') END,
       CASE WHEN d.ddi IS NOT NULL THEN
         (SELECT max(id) FROM update_assignments WHERE device_id = d.id
            AND status = 'success') END
FROM d
LEFT JOIN LATERAL (
  SELECT a.id, a.status, r.id AS rollout_id, r.mode, r.windows
  FROM update_assignments a JOIN update_rollouts r ON r.id = a.rollout_id
  WHERE a.device_id = d.id AND a.status NOT IN ('cancelled', 'failure', 'success')
    AND r.status = 'running' AND a.wave <= r.current_wave
  ORDER BY r.id DESC LIMIT 1
) o ON true
LEFT JOIN update_customer_policies p ON p.customer = d.customer AND d.customer <> ''
"""
# `coalesce` keeps the planner on the uid index whatever its statistics say of the state.
_DEVICES_SQL = (
    "SELECT uid, id, public_key FROM update_devices "
    "WHERE uid {uids} AND coalesce(state, '') = 'active'"
)
# DDI's extra links: the last assignment a rollout abort cancelled, the last one installed.
_LINKS_SQL = """
SELECT (SELECT max(id) FROM update_assignments
        WHERE device_id = :device AND status = 'cancelled' AND detail = 'rollout aborted'),
       (SELECT max(id) FROM update_assignments WHERE device_id = :device AND status = 'success')
"""


class _CheckinRequest(NamedTuple):
    uid: str
    seq: int
    signature: bytes
    wanted: dict[str, str]  # the release and state reported in the query
    session: str | None


class _AnswerParts(NamedTuple):
    installed_version: str
    installed_counter: int
    choice: rules.SecurityChoice
    until: dt.date | None
    offer: dict[str, Any] | None
    details: rollouts.OfferDetails | None
    notices: list[dict[str, Any]]


class _Passed(Exception):
    """Not the steady state: the full route takes the request."""


@dataclass
class _Pending:
    """One device request waiting for its group commit: a native check-in (with `seq` and
    `key`, and the release and state it reported, if any) or a DDI poll (`ddi`)."""

    uid: str
    device_id: int
    now: dt.datetime
    ddi: bool
    seq: int | None = None
    key: str | None = None
    installed: str | None = None
    state: str | None = None
    #: Filled by the batch: the UPDATE's row (None: not the steady state), the open
    #: assignment, the customer's policy, DDI's links.
    rows: tuple[Any, ...] | None = None
    offer: tuple[Any, ...] | None = None
    policy: tuple[Any, ...] | None = None
    links: tuple[Any, ...] | None = None
    #: Called when the batch is back (`handle` resolves its future, `begin` answers).
    then: Callable[[], None] | None = field(default=None, repr=False)

    def update(self) -> tuple[str, dict[str, Any]]:
        """The UPDATE that records this request in the steady state only, and its values."""
        params: dict[str, Any] = {"now": self.now, "id": self.device_id}
        if self.ddi:
            params["uid"] = self.uid
            return _POLL_SQL.format(returning=_RETURNING), params
        conditions = ""
        params.update(seq=self.seq, key=self.key)
        if self.installed is not None:
            conditions += " AND installed_version = :installed"
            params["installed"] = self.installed
        if self.state is not None:
            conditions += " AND device_state = :state"
            params["state"] = self.state
        return _CHECKIN_SQL.format(conditions=conditions, returning=_RETURNING), params


class _Sql:
    """Hand-written statements on a DB-API connection: `:name` parameters become the driver's
    style, and values are converted the way the tables' column types would."""

    def __init__(self, database: Database) -> None:
        self.database = database
        dialect = database.engine.dialect
        self.sqlite = dialect.name == "sqlite"
        stamp_type = Device.__table__.c.last_checkin_at.type.dialect_impl(dialect)
        self._stamp = stamp_type.bind_processor(dialect) or (lambda value: value)
        self._converted: dict[str, str] = {}

    def text(self, sql: str) -> str:
        converted = self._converted.get(sql)
        if converted is None:
            if self.sqlite:
                converted = sql
            else:  # psycopg: %(name)s
                converted = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))
            self._converted[sql] = converted
        return converted

    def stamp(self, value: dt.datetime) -> Any:
        """`value` (aware) as the column stores it. On SQLite that is SQLAlchemy's text form of
        the UTC time, "YYYY-MM-DD HH:MM:SS.ffffff", which `isoformat` writes in C (a test keeps
        the two equal); elsewhere the column type's own conversion."""
        if self.sqlite:
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return self._stamp(value)  # type: ignore[no-untyped-call]

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        return _first(self.database.hot_connection().execute(self.text(sql), params))

    def devices(self, uids: list[str]) -> dict[str, tuple[Any, ...]]:
        """uid -> (id, public key) of the active devices among `uids`, in one statement."""
        connection = self.database.hot_connection()
        if self.sqlite:
            marks = ", ".join("?" * len(uids))  # placeholders only; the uids are bound
            cursor = connection.execute(_DEVICES_SQL.format(uids=f"IN ({marks})"), uids)
        else:
            cursor = connection.execute(_DEVICES_SQL.format(uids="= ANY(%(uids)s)"), {"uids": uids})
        rows = cursor.fetchall()
        cursor.close()
        return {row[0]: (row[1], row[2]) for row in rows}

    def run(self, batch: list[_Pending]) -> None:
        """Record a batch of check-ins in one transaction and read what their answers need."""
        if self.sqlite:
            self._run_sqlite(batch)
            return
        connection = self.database.hot_connection()
        rounds: list[list[_Pending]] = []  # a device at most once per statement
        for item in batch:
            for round_ in rounds:
                if all(other.device_id != item.device_id for other in round_):
                    round_.append(item)
                    break
            else:
                rounds.append([item])
        if len(rounds) == 1:  # one statement in autocommit is a transaction of its own
            self._run_postgres(connection, batch)
            return
        with connection.transaction():
            for round_ in rounds:
                self._run_postgres(connection, round_)

    def _run_sqlite(self, batch: list[_Pending]) -> None:
        """In-process statements are cheap: one after the other, in one transaction."""
        connection = self.database.hot_connection()
        connection.execute("BEGIN")
        try:
            for item in batch:
                sql, params = item.update()
                params["now"] = self.stamp(item.now)
                row = _first(connection.execute(sql, params))
                if row is None:
                    item.rows = None
                    continue
                item.rows = row[:8]
                item.offer = tuple(json.loads(row[8])) if row[8] is not None else None
                item.policy = tuple(json.loads(row[9])) if row[9] is not None else None
                if item.ddi:
                    item.links = _first(connection.execute(_LINKS_SQL, {"device": item.device_id}))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    @staticmethod
    def _run_postgres(connection: Any, batch: list[_Pending]) -> None:
        """Every round trip costs (~0.2 ms here): the whole batch is one statement."""
        rows = [
            {
                "id": item.device_id,
                "seq": item.seq,
                "key": item.key,
                "installed": item.installed,
                "state": item.state,
                "uid": item.uid if item.ddi else None,
                "now": item.now.isoformat(),
            }
            for item in batch
        ]
        cursor = connection.execute(_BATCH_SQL, {"batch": json.dumps(rows)})
        found = {row[0]: row for row in cursor.fetchall()}
        cursor.close()
        for item in batch:
            row = found.get(item.device_id)
            if row is None:
                item.rows = None
                continue
            item.rows = tuple(row[:8])
            item.offer = tuple(row[8:13]) if row[8] is not None else None
            item.policy = tuple(row[13:15]) if row[13] is not None else None
            item.links = tuple(row[15:17])


def _lock_timeout(exc: Exception) -> bool:
    """Whether `exc` is the hot path's short wait for a lock running out (SQLite's busy
    timeout, PostgreSQL's lock_timeout), as happens when another writer or another worker
    process holds the rows: no fault, the full route waits its turn."""
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc)
    return getattr(exc, "sqlstate", None) == "55P03"  # lock_not_available


def _first(cursor: Any) -> tuple[Any, ...] | None:
    """The first row of a statement, read to the end (SQLite commits an autocommit statement
    only once it has run to completion)."""
    if cursor is None:
        return None
    rows = cursor.fetchall() if cursor.description else []
    cursor.close()
    return tuple(rows[0]) if rows else None


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass
class _Batches:
    """The requests of one event loop waiting for their batch, and whether one is running."""

    queue: list[_Pending] = field(default_factory=list)
    in_flight: bool = False


def _answer(batch: list[_Pending]) -> None:
    for item in batch:
        if item.then is not None:
            try:
                item.then()
            except Exception:  # one connection's fault must not stop the others' answers
                log.exception("device hot path could not send an answer")


class _Expiring:
    """A small cache whose entries are recomputed after `CACHE_SECONDS`."""

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] < now:
            if len(self._entries) > 10_000:
                self._entries.clear()
            entry = (now + CACHE_SECONDS, compute())
            self._entries[key] = entry
        return entry[1]


class DeviceHotPath:
    """Answers steady-state device requests; `handle` says whether it did.

    Group commit: the requests that arrive in one turn of the event loop are recorded in one
    transaction (`_Sql.run`), scheduled for the end of that turn, and each is answered once
    its transaction has committed. Under load a batch holds about as many requests as there
    are busy connections; alone, a request waits for nothing.
    """

    def __init__(self, state: Any, metrics: Metrics) -> None:
        self.state = state
        self.metrics = metrics
        self.log = logging.getLogger("fleetcare.access")
        settings: Settings = state.settings
        database: Database = state.db
        self.enabled = settings.device_hot_path and not database.in_memory
        self.sql = _Sql(database)
        self._keys: dict[str, tuple[int, str, VerifyKey | None]] = {}
        self._details = _Expiring()
        self._notices = _Expiring()
        self._local = threading.local()  # each event loop (thread) batches on its own
        self._writer: ThreadPoolExecutor | None = None  # PostgreSQL's batches, made on use
        self._master: bytes | None = None  # of the device sessions, read on first use
        self._queries: dict[bytes, dict[str, str]] = {}  # query string -> release and state
        self._bodies: dict[str, tuple[Any, ...]] = {}  # uid -> its last answer and its inputs
        counter = Counter(
            "fleetcare_device_hot_path_requests",
            "Device requests answered by the hot path, or passed on to the full routes",
            ["outcome"],
            registry=metrics.registry,
        )
        self.answered = counter.labels("answered")
        self.passed = counter.labels("passed")

    async def handle(self, scope: Scope, send: Send) -> bool:
        """Answer `scope` if it is a steady-state device request; False leaves it to the app."""
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            return False
        start = time.perf_counter()
        try:
            prepared = await self._prepare(scope)
        except _Passed:
            self.passed.inc()
            return False
        if prepared is None:  # not a request of the hot path
            return False
        item, template = prepared
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()

        def batch_back() -> None:
            if not done.done():  # done already: the request was cancelled (the client left)
                done.set_result(True)

        item.then = batch_back
        self._enqueue(item)
        await done
        response = self.response(scope, item, template, start)
        if response is None:
            return False
        status, headers, body = response
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    def begin(self, scope: Scope, then: Callable[[Answer | None], None]) -> bool:
        """Take a steady-state check-in of a device whose key is in memory, without a
        coroutine: `then` gets its answer (status, headers, body) once the batch that records
        it has committed, or None if the full route must take it. False: not taken, because
        the path is another, the device's key must be read first (`handle` does that in
        batches) or the request is not the steady state. For `fleetcare.serving`, which
        calls it from the HTTP protocol for `GET /device/v1/checkin`."""
        if not self.enabled:
            return False
        start = time.perf_counter()
        try:
            request = self._parse_checkin(scope)
            device = self._keys.get(request.uid)
            if device is None:
                return False
            item = self._verified(scope, request, device)
        except _Passed:
            self.passed.inc()
            return False
        item.then = lambda: then(self.response(scope, item, CHECKIN_PATH, start))
        self._enqueue(item)
        return True

    def response(self, scope: Scope, item: _Pending, template: str, start: float) -> Answer | None:
        """The answer to a request whose batch is back, counted in the metrics and the access
        log; None, counted as passed, if the full route must take it."""
        if item.rows is None:
            # Not the steady state: perhaps a new key or a device recreated; read it afresh.
            self._keys.pop(item.uid, None)
            self.passed.inc()
            return None
        try:
            body, etag, media = self._finish(scope, item)
        except Exception:
            # The check-in is recorded; answering it is what failed. Let the full route judge
            # the request afresh (it will find the sequence number used, as it should).
            log.exception("device hot path could not answer a recorded check-in")
            self.passed.inc()
            return None
        status = 304 if _header(scope, b"if-none-match") == etag else 200
        request_id = os.urandom(8).hex()
        headers = [(b"etag", etag.encode()), (b"x-request-id", request_id.encode())]
        if status == 200:
            headers += [(b"content-type", media), (b"content-length", str(len(body)).encode())]
        else:
            body = b""
            headers.append((b"content-length", b"0"))
        self.metrics.record(self.log, scope, template, status, start, request_id)
        self.answered.inc()
        return status, headers, body

    async def _prepare(self, scope: Scope) -> tuple[_Pending, str] | None:
        """The request made ready for its batch; None if the hot path does not serve its path,
        `_Passed` if it does but this request is not the steady state."""
        path: str = scope["path"]
        if path == CHECKIN_PATH:
            return await self._prepare_checkin(scope), CHECKIN_PATH
        parts = path.split("/")
        if len(parts) == 5 and parts[2:4] == ["controller", "v1"] and parts[4]:
            return await self._prepare_poll(scope, parts[1], parts[4]), ddi.BASE
        return None

    def _enqueue(self, item: _Pending) -> None:
        """Queue `item` for its event loop's next batch (`item.then` hears)."""
        batches: _Batches | None = getattr(self._local, "batches", None)
        if batches is None:
            batches = self._local.batches = _Batches()
        batches.queue.append(item)
        if len(batches.queue) == 1 and not batches.in_flight:
            asyncio.get_running_loop().call_soon(self._flush, batches)

    def _flush(self, batches: _Batches) -> None:
        """Record what has queued up. SQLite runs in the process: at once, on the loop.
        PostgreSQL runs elsewhere: the batch goes to the hot path's database thread, and the
        loop goes on reading and verifying requests, which queue up for the next batch, sent
        as soon as this one is back (one batch in flight per loop, on one connection)."""
        batch = batches.queue[:]
        batches.queue.clear()
        if self.sql.sqlite:
            self._record(batch)
            _answer(batch)
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="fleetcare-device-db")
        batches.in_flight = True
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._writer, self._record, batch)
        future.add_done_callback(lambda _: self._recorded(batches, batch))

    def _recorded(self, batches: _Batches, batch: list[_Pending]) -> None:
        batches.in_flight = False
        _answer(batch)
        if batches.queue:
            self._flush(batches)

    def _record(self, batch: list[_Pending]) -> None:
        """Run a batch; after an error, every request in it is passed on."""
        try:
            self.sql.run(batch)
        except Exception as exc:  # a broken connection, a lock: the full routes cope or say why
            if _lock_timeout(exc):  # expected now and then: another writer held the rows
                log.info("device hot path passed %d requests on: %s", len(batch), exc)
            else:
                log.warning(
                    "device hot path passed %d requests on after an error",
                    len(batch),
                    exc_info=True,
                )
            self.sql.database.drop_hot_connection(if_broken=True)
            for item in batch:
                item.rows = None

    def close(self) -> None:
        """Stop the database thread (the app's shutdown)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _finish(self, scope: Scope, item: _Pending) -> tuple[bytes, str, bytes]:
        if not item.ddi:
            return (*self._encoded_checkin(item), b"application/json")
        answer = self._answer_for(item)
        tenant = scope["path"].split("/")[1]
        base = f"{str(Request(scope).base_url).rstrip('/')}/{tenant}/controller/v1/{item.uid}"
        links = item.links or (None, None)
        assert item.rows is not None
        body = ddi.poll_body(base, answer, links[0], links[1], item.rows[7] or "")
        return (*encode_answer(body, sort_keys=False), b"application/hal+json")

    # --- shared steps ---------------------------------------------------------------------

    def _limit(self, uid: str) -> None:
        """The full route's per-device limit; over it, the full route answers 429."""
        if device_limiter(self.state, "device").hit(uid) is not None:
            raise _Passed

    def _answer_for(self, item: _Pending) -> dict[str, Any]:
        """The check-in answer for a device whose check-in the batch has just recorded."""
        return self._answer(item.uid, self._answer_parts(item))

    def _encoded_checkin(self, item: _Pending) -> tuple[bytes, str]:
        """The native check-in's answer as bytes and its ETag. A device asks again and again
        and is mostly told the same: the bytes are kept per device and reused while what they
        are made of is unchanged (the release it runs, its choice, its assignment row and
        whether its maintenance window is open, the same cached release details and notices),
        which saves building and hashing them."""
        parts = self._answer_parts(item)
        key = (
            parts.installed_version,
            parts.installed_counter,
            parts.choice,
            parts.until,
            item.offer if parts.offer is not None else None,
            parts.offer.get("window") if parts.offer is not None else None,  # open or closed
        )
        kept = self._bodies.get(item.uid)
        if (
            kept is not None
            and kept[0] == key
            and kept[1] is parts.details
            and kept[2] is parts.notices
        ):
            return kept[3], kept[4]
        body, etag = encode_answer(self._answer(item.uid, parts))
        if len(self._bodies) >= MAX_BODIES:
            self._bodies.clear()
        self._bodies[item.uid] = (key, parts.details, parts.notices, body, etag)
        return body, etag

    def _answer(self, uid: str, parts: _AnswerParts) -> dict[str, Any]:
        return devices.checkin_answer(
            self.state.settings,
            uid=uid,
            installed_version=parts.installed_version,
            installed_counter=parts.installed_counter,
            choice=parts.choice,
            postponed_until=parts.until,
            assignment=parts.offer,
            notices=parts.notices,
        )

    def _answer_parts(self, item: _Pending) -> _AnswerParts:
        """What the answer is made of, from the batch's rows and the caches (and the
        assignment cancelled if the device already runs its release or a later one)."""
        assert item.rows is not None
        (_, product_id, _, installed_version, installed_counter) = item.rows[:5]
        security_updates, postponed_until = item.rows[5], _date(item.rows[6])
        now, policy = item.now, item.policy
        today = now.date()
        choice, until = rules.security_choice(
            security_updates,
            postponed_until,
            policy[0] if policy else None,
            _date(policy[1]) if policy else None,
            today,
        )
        offer, details = None, None
        if item.offer is not None:
            assignment_id, status, rollout_id, mode, windows = item.offer
            details = self._details.get(rollout_id, lambda: self._load_details(rollout_id))
            offer, cancel = rollouts.build_offer(
                assignment_id=assignment_id,
                assignment_status=status,
                rollout_id=rollout_id,
                rollout_mode=mode,
                windows=_json(windows) or [],
                details=details,
                installed_counter=installed_counter,
                choice=choice,
                now=now,
            )
            if cancel:
                self.sql.one(
                    _CANCEL_SQL,
                    id=assignment_id,
                    detail=rollouts.cancelled_detail(installed_counter),
                    now=self.sql.stamp(now),
                )
        notices = self._notices.get(
            (product_id, today), lambda: self._load_notices(product_id, today)
        )
        return _AnswerParts(
            installed_version, installed_counter, choice, until, offer, details, notices
        )

    def _load_details(self, rollout_id: int) -> rollouts.OfferDetails:
        with self.sql.database.session() as session:
            return rollouts.offer_details(session, rollout_id)

    def _load_notices(self, product_id: int, today: dt.date) -> list[dict[str, Any]]:
        with self.sql.database.session() as session:
            device = Device(product_id=product_id)
            return devices.device_notices(session, self.state.settings, device, today)

    # --- native check-in -------------------------------------------------------------------

    async def _device(self, uid: str) -> tuple[int, str, VerifyKey | None]:
        """(id, public key, verifier) of an active device, from memory or, for the first
        request of a device since the start, looked up together with the other first requests
        of the same event-loop turn (after a restart every device comes at once)."""
        known = self._keys.get(uid)
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        queue: list[tuple[str, asyncio.Future[Any]]] | None = getattr(self._local, "lookups", None)
        if queue is None:
            queue = self._local.lookups = []
        future: asyncio.Future[Any] = loop.create_future()
        queue.append((uid, future))
        if len(queue) == 1:
            loop.call_soon(self._look_up, queue)
        found: tuple[int, str, VerifyKey | None] | None = await future
        if found is None:
            raise _Passed
        return found

    def _look_up(self, queue: list[tuple[str, asyncio.Future[Any]]]) -> None:
        batch = queue[:]
        queue.clear()
        try:
            rows = self.sql.devices(sorted({uid for uid, _ in batch}))
        except Exception:  # the database unreachable: the full routes say so
            log.warning("device hot path could not look up %d devices", len(batch), exc_info=True)
            self.sql.database.drop_hot_connection(if_broken=True)
            rows = {}
        for uid, future in batch:
            if not future.done():
                future.set_result(self._remember(uid, rows.get(uid)))

    def _remember(
        self, uid: str, row: tuple[Any, ...] | None
    ) -> tuple[int, str, VerifyKey | None] | None:
        if row is None:
            return None
        device_id, public_key = row
        verifier = None
        if public_key:
            try:
                verifier = VerifyKey(bytes.fromhex(public_key))
            except (ValueError, TypeError, CryptoError):
                verifier = None
        if len(self._keys) >= MAX_KEYS:
            self._keys.clear()
        entry = self._keys[uid] = (int(device_id), str(public_key or ""), verifier)
        return entry

    def _check_session(
        self, uid: str, public_key: str, session_id: str, message: bytes, signature: bytes
    ) -> None:
        """A check-in signed under a session: an HMAC, some microseconds instead of the
        ~0.1 ms of an Ed25519 verification."""
        settings: Settings = self.state.settings
        if self._master is None:
            self._master = devices.sessions_master(settings)
        if not devices.session_signed(
            self._master,
            uid,
            public_key,
            session_id,
            message,
            signature,
            max_hours=settings.device_session_hours,
        ):
            raise _Passed

    def _parse_checkin(self, scope: Scope) -> _CheckinRequest:
        """Read a check-in's signed headers and its query (the release and state reported)."""
        headers = dict(scope["headers"])
        if len(headers) != len(scope["headers"]):
            raise _Passed  # a header twice: the full route judges which one counts
        uid = headers.get(b"x-fleetcare-device", b"").decode("latin-1")
        try:
            seq = int(headers.get(b"x-fleetcare-seq", b""))
            signature = bytes.fromhex(headers.get(b"x-fleetcare-signature", b"").decode("latin-1"))
        except ValueError:
            raise _Passed from None
        if not uid or not 0 < seq < devices.MAX_SEQ:
            raise _Passed
        query: bytes = scope.get("query_string", b"")
        wanted = self._queries.get(query)
        if wanted is None:
            wanted = {}
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if name not in ("installed", "state") or name in wanted or len(value) > 100:
                    raise _Passed
                wanted[name] = value
            if len(self._queries) >= 10_000:  # a fleet reports a few releases and states
                self._queries.clear()
            self._queries[query] = wanted
        session = headers.get(b"x-fleetcare-session")
        return _CheckinRequest(
            uid, seq, signature, wanted, session.decode("latin-1") if session else None
        )

    def _verified(
        self,
        scope: Scope,
        request: _CheckinRequest,
        device: tuple[int, str, VerifyKey | None],
    ) -> _Pending:
        """The check-in made ready for its batch once its signature and limit are checked."""
        device_id, public_key, verifier = device
        if verifier is None:
            raise _Passed
        query_string = scope.get("query_string", b"")
        target = scope["path"] + ("?" + query_string.decode("latin-1") if query_string else "")
        message = devices.request_message("GET", target, request.seq, b"")
        if request.session:
            self._check_session(
                request.uid, public_key, request.session, message, request.signature
            )
        else:
            try:
                verifier.verify(message, request.signature)
            except (ValueError, TypeError, CryptoError):  # CryptoError: a bad signature too
                raise _Passed from None
        self._limit(request.uid)
        wanted = request.wanted
        return _Pending(
            request.uid,
            device_id,
            utcnow(),
            ddi=False,
            seq=request.seq,
            key=public_key,
            # An empty release records nothing, as in the full route.
            installed=wanted.get("installed") or None,
            state=wanted.get("state"),
        )

    async def _prepare_checkin(self, scope: Scope) -> _Pending:
        request = self._parse_checkin(scope)
        return self._verified(scope, request, await self._device(request.uid))

    # --- hawkBit DDI polling base ----------------------------------------------------------

    async def _prepare_poll(self, scope: Scope, tenant: str, controller_id: str) -> _Pending:
        settings: Settings = self.state.settings
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        expected = ddi.target_token(settings, controller_id)
        if (
            tenant != settings.ddi_tenant
            or scheme.lower() != "targettoken"
            or not hmac.compare_digest(expected, token.strip())
        ):
            raise _Passed
        device_id = (await self._device(controller_id))[0]
        self._limit(controller_id)
        return _Pending(controller_id, device_id, utcnow(), ddi=True)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
