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
autocommit (`Database.hot_connection`), run inline on the event loop. Signatures are checked
with libsodium (PyNaCl), twice as fast as OpenSSL's Ed25519 here (94 against 186 µs). The
request still counts in the metrics and the access log like any other.

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

import datetime as dt
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey
from starlette.requests import Request
from starlette.types import Scope, Send

from fleetcare.core.db import Database, utcnow
from fleetcare.core.observability import Metrics
from fleetcare.core.ratelimit import SlidingWindowLimiter
from fleetcare.core.settings import Settings
from fleetcare.updates import ddi, devices, rollouts, rules
from fleetcare.updates.device_api import DEVICE_PREFIX, encode_answer
from fleetcare.updates.models import Device

log = logging.getLogger("fleetcare.updates.fastpath")

CHECKIN_PATH = DEVICE_PREFIX + "/checkin"
CACHE_SECONDS = 60.0
#: Keys kept per process; past this the cache starts afresh (a miss costs one SELECT).
MAX_KEYS = 500_000

_OFFER_SQL = """
SELECT a.id, a.status, r.id, r.mode, r.windows
FROM update_assignments a JOIN update_rollouts r ON r.id = a.rollout_id
WHERE a.device_id = :device AND a.status NOT IN ('cancelled', 'failure', 'success')
  AND r.status = 'running' AND a.wave <= r.current_wave
ORDER BY r.id DESC LIMIT 1"""
#: What the check-in's UPDATE returns, in the order `_answer_for` reads it.
_RETURNING = (
    "RETURNING id, product_id, customer, installed_version, installed_counter, "
    "security_updates, postponed_until, hardware_revision"
)
_POLICY_SQL = (
    "SELECT security_updates, postponed_until FROM update_customer_policies "
    "WHERE customer = :customer"
)
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
    "WHERE uid = :uid AND state = 'active' {returning}"
)
_KEY_SQL = "SELECT id, public_key FROM update_devices WHERE uid = :uid AND state = 'active'"
# DDI's extra links: the last assignment a rollout abort cancelled, the last one installed.
_DDI_LINKS_SQL = """
SELECT (SELECT max(id) FROM update_assignments
        WHERE device_id = :device AND status = 'cancelled' AND detail = 'rollout aborted'),
       (SELECT max(id) FROM update_assignments WHERE device_id = :device AND status = 'success')
"""


class _Passed(Exception):
    """Not the steady state: the full route takes the request."""


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

    def _text(self, sql: str) -> str:
        converted = self._converted.get(sql)
        if converted is None:
            if self.sqlite:
                converted = sql
            else:  # psycopg: %(name)s
                converted = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))
            self._converted[sql] = converted
        return converted

    def stamp(self, value: dt.datetime) -> Any:
        return self._stamp(value)  # type: ignore[no-untyped-call]

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        cursor = self.database.hot_connection().execute(self._text(sql), params)
        rows = cursor.fetchall() if cursor.description else []  # to the end: SQLite commits
        cursor.close()
        return tuple(rows[0]) if rows else None


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


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
    """Answers steady-state device requests; `handle` says whether it did."""

    def __init__(self, state: Any, metrics: Metrics) -> None:
        self.state = state
        self.metrics = metrics
        self.log = logging.getLogger("fleetcare.access")
        settings: Settings = state.settings
        database: Database = state.db
        self.enabled = settings.device_hot_path and not database.in_memory
        self.sql = _Sql(database)
        self._keys: dict[str, tuple[int, str, VerifyKey]] = {}
        self._details = _Expiring()
        self._notices = _Expiring()

    async def handle(self, scope: Scope, send: Send) -> bool:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            return False
        start = time.perf_counter()
        answer = self._answer(scope)
        if answer is None:
            return False
        status, body, etag, media, template = answer
        request_id = os.urandom(8).hex()
        headers = [
            (b"etag", etag.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        if status == 200:
            headers.append((b"content-type", media.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.record(self.log, scope, template, status, start, request_id)
        return True

    def _answer(self, scope: Scope) -> tuple[int, bytes, str, str, str] | None:
        path: str = scope["path"]
        try:
            if path == CHECKIN_PATH:
                body, etag = self.checkin(scope)
                media, template = "application/json", CHECKIN_PATH
            else:
                parts = path.split("/")
                if len(parts) != 5 or parts[2:4] != ["controller", "v1"] or not parts[4]:
                    return None
                body, etag = self.ddi_poll(scope, parts[1], parts[4])
                media, template = "application/hal+json", ddi.BASE
        except _Passed:
            return None
        except Exception:  # a broken connection, a lock: the full route copes or says why
            log.warning("device hot path passed a request on after an error", exc_info=True)
            self.sql.database.drop_hot_connection()
            return None
        if _header(scope, b"if-none-match") == etag:
            return 304, b"", etag, media, template
        return 200, body, etag, media, template

    # --- shared steps ---------------------------------------------------------------------

    def _limit(self, uid: str) -> None:
        """The full route's per-device limit; over it, the full route answers 429."""
        limiters = self.state.rate_limiters
        limiter = limiters.get("device")
        if limiter is None:
            limit = self.state.settings.device_rate_limit
            limiter = limiters.setdefault("device", SlidingWindowLimiter(limit))
        if limiter.hit(uid) is not None:
            raise _Passed

    def _answer_for(self, uid: str, row: tuple[Any, ...], now: dt.datetime) -> dict[str, Any]:
        """The check-in answer for a device whose check-in the UPDATE just recorded."""
        (device_id, product_id, customer, installed_version, installed_counter) = row[:5]
        security_updates, postponed_until = row[5], _date(row[6])
        settings: Settings = self.state.settings
        today = now.date()
        policy = self.sql.one(_POLICY_SQL, customer=customer) if customer else None
        choice, until = rules.security_choice(
            security_updates,
            postponed_until,
            policy[0] if policy else None,
            _date(policy[1]) if policy else None,
            today,
        )
        offer = None
        found = self.sql.one(_OFFER_SQL, device=device_id)
        if found is not None:
            assignment_id, status, rollout_id, mode, windows = found
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
        return devices.checkin_answer(
            settings,
            uid=uid,
            installed_version=installed_version,
            installed_counter=installed_counter,
            choice=choice,
            postponed_until=until,
            assignment=offer,
            notices=notices,
        )

    def _load_details(self, rollout_id: int) -> rollouts.OfferDetails:
        with self.sql.database.session() as session:
            return rollouts.offer_details(session, rollout_id)

    def _load_notices(self, product_id: int, today: dt.date) -> list[dict[str, Any]]:
        with self.sql.database.session() as session:
            device = Device(product_id=product_id)
            return devices.device_notices(session, self.state.settings, device, today)

    # --- native check-in -------------------------------------------------------------------

    def _key(self, uid: str) -> tuple[int, str, VerifyKey]:
        key = self._keys.get(uid)
        if key is None:
            row = self.sql.one(_KEY_SQL, uid=uid)
            if row is None or not row[1]:
                raise _Passed
            try:
                verifier = VerifyKey(bytes.fromhex(row[1]))
            except (ValueError, TypeError, CryptoError):
                raise _Passed from None
            if len(self._keys) >= MAX_KEYS:
                self._keys.clear()
            key = self._keys[uid] = (int(row[0]), str(row[1]), verifier)
        return key

    def checkin(self, scope: Scope) -> tuple[bytes, str]:
        uid = _header(scope, b"x-fleetcare-device")
        try:
            seq = int(_header(scope, b"x-fleetcare-seq") or "")
            signature = bytes.fromhex(_header(scope, b"x-fleetcare-signature") or "")
        except ValueError:
            raise _Passed from None
        if not uid or not 0 < seq < devices.MAX_SEQ:
            raise _Passed
        query_string = scope.get("query_string", b"").decode("latin-1")
        wanted: dict[str, str] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            if name not in ("installed", "state") or name in wanted or len(value) > 100:
                raise _Passed
            wanted[name] = value
        target = scope["path"] + (f"?{query_string}" if query_string else "")
        device_id, public_key, verifier = self._key(uid)
        try:
            verifier.verify(devices.request_message("GET", target, seq, b""), signature)
        except (BadSignatureError, ValueError, TypeError, CryptoError):
            raise _Passed from None
        self._limit(uid)
        now = utcnow()
        conditions = ""
        params: dict[str, Any] = {
            "seq": seq,
            "now": self.sql.stamp(now),
            "id": device_id,
            "key": public_key,
        }
        if wanted.get("installed"):  # an empty value records nothing, as in the full route
            conditions += " AND installed_version = :installed"
            params["installed"] = wanted["installed"]
        if "state" in wanted:
            conditions += " AND device_state = :state"
            params["state"] = wanted["state"]
        row = self.sql.one(
            _CHECKIN_SQL.format(conditions=conditions, returning=_RETURNING), **params
        )
        if row is None:
            raise _Passed
        return encode_answer(self._answer_for(uid, row, now))

    # --- hawkBit DDI polling base ----------------------------------------------------------

    def ddi_poll(self, scope: Scope, tenant: str, controller_id: str) -> tuple[bytes, str]:
        settings: Settings = self.state.settings
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        expected = ddi.target_token(settings, controller_id)
        if (
            tenant != settings.ddi_tenant
            or scheme.lower() != "targettoken"
            or not hmac.compare_digest(expected, token.strip())
        ):
            raise _Passed
        self._limit(controller_id)
        now = utcnow()
        row = self.sql.one(
            _POLL_SQL.format(returning=_RETURNING), now=self.sql.stamp(now), uid=controller_id
        )
        if row is None:
            raise _Passed
        answer = self._answer_for(controller_id, row, now)
        links = self.sql.one(_DDI_LINKS_SQL, device=row[0]) or (None, None)
        base = f"{str(Request(scope).base_url).rstrip('/')}/{tenant}/controller/v1/{controller_id}"
        body = ddi.poll_body(base, answer, links[0], links[1], row[7] or "")
        return encode_answer(body, sort_keys=False)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
