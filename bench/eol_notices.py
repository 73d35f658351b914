"""An end-of-life milestone for 100,000 devices across 5,000 customers: the time to announce it
(the notice and one delivery per customer and channel, queued) and to send it to local sinks, as
ratios to the same number of bare inserts (100,000 rows, one transaction) in the same run.

Every customer accepts email, a signed webhook and MQTT, so 15,000 deliveries go out: emails to
an aiosmtpd server, webhooks to a keep-alive HTTP receiver on 127.0.0.1 that counts the calls
(both in a child process)
(it does not verify: the signing is timed, not the receiver), and MQTT to the broker at
FLEETCARE_TEST_MQTT_HOST/PORT (default 127.0.0.1:1883; without one the MQTT deliveries are
recorded as skipped and the figure says so). SQLite in WAL mode, one process, one sending
thread per channel as the job queue runs them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "5000"))
DEVICES = int(os.environ.get("BENCH_DEVICES", "100000"))
CHANNELS = os.environ.get("BENCH_CHANNELS", "email;webhook;mqtt")
MQTT_HOST = os.environ.get("FLEETCARE_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("FLEETCARE_TEST_MQTT_PORT", "1883"))


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def hit(self) -> None:
        with self.lock:
            self.count += 1


def _sinks(conn: Connection) -> None:
    """In a child process, so that the receivers do not compete with the sender for the GIL:
    an aiosmtpd server and a keep-alive HTTP server that count what they receive."""
    from aiosmtpd.controller import Controller

    emails, calls = _Counter(), _Counter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            calls.hit()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook name
            emails.hit()
            return "250 OK"

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        smtp_port = sock.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    conn.send((smtp_port, f"http://127.0.0.1:{http.server_address[1]}/hook"))
    conn.recv()  # until asked for the counts
    conn.send((emails.count, calls.count))
    controller.stop()
    http.shutdown()


def _broker() -> str:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=1):
            return f"mqtt://{MQTT_HOST}:{MQTT_PORT}"
    except OSError:
        return ""


def _bare_inserts(url: str, rows: int) -> float:
    """`rows` inserts of a delivery-sized row into a plain table, one transaction."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

    from fleetcare.core.db import make_engine

    engine = make_engine(url)
    table = Table(
        "bench_bare",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("target", String(200)),
        Column("devices", Integer),
        Column("created_at", DateTime),
    )
    table.create(engine)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    values = [
        {"target": f"owner{n}@customers.example", "devices": n % 40, "created_at": now}
        for n in range(rows)
    ]
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(table), values)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="fleetcare-bench-eol-"))
    os.environ["FLEETCARE_DATA_DIR"] = str(data_dir)
    from fleetcare.core import migrations
    from fleetcare.core.auth import system_principal
    from fleetcare.core.db import Database
    from fleetcare.core.settings import Settings
    from fleetcare.lifecycle import service
    from fleetcare.lifecycle.schemas import PlanIn
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ProductIn

    parent, child = multiprocessing.Pipe()
    sinks = multiprocessing.Process(target=_sinks, args=(child,), daemon=True)
    sinks.start()
    smtp_port, webhook_url = parent.recv()
    mqtt_url = _broker()
    settings = Settings(
        data_dir=data_dir,
        secret_key="bench-secret-key-not-for-production",
        jobs_backend="memory",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        mqtt_url=mqtt_url,
        timezone="UTC",
    )
    db = Database(settings.resolved_database_url)
    migrations.upgrade(db.engine)
    actor = system_principal("bench", via="cli")

    support_end = dt.date(2031, 3, 31)
    with db.session() as session:
        product = portfolio.create_product(
            session,
            ProductIn(
                name="Thermostat T1", placed_on_market=dt.date(2024, 3, 1), support_end=support_end
            ),
            actor=actor,
        )
        service.save_plan(session, product.id, PlanIn(milestones=[12]), actor=actor)
        rows = ["ref,name,emails,webhook_url,channels"]
        rows += [
            f"C{n:05d},Customer {n},owner{n}@customers.example,{webhook_url},{CHANNELS}"
            for n in range(CUSTOMERS)
        ]
        service.import_customers_csv(
            session, "\n".join(rows) + "\n", actor=actor, settings=settings
        )
        devices = ["device,customer,product"]
        devices += [f"D{n:07d},C{n % CUSTOMERS:05d},{product.slug}" for n in range(DEVICES)]
        service.import_devices_csv(session, "\n".join(devices) + "\n", actor=actor)
        session.commit()
    print(f"{CUSTOMERS} customers, {DEVICES} devices; MQTT: {mqtt_url or 'no broker (skipped)'}")

    due = dt.datetime(2030, 3, 31, 9, 5, tzinfo=dt.UTC)
    start = time.perf_counter()
    with db.session() as session:
        [notice_id] = service.schedule_notices(session, settings, due)
        session.commit()
    enqueue = time.perf_counter() - start

    # One sender per channel, as the job queue runs them (one job per notice and channel).
    reports: dict[str, Any] = {}

    def sender(channel: str) -> None:
        with db.session() as session:
            reports[channel] = service.send_notice(
                session, notice_id, settings, now=lambda: due, channel=channel
            )

    start = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(c,)) for c in ("email", "webhook", "mqtt")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    send = time.perf_counter() - start
    sent = sum(r.sent for r in reports.values())
    failed = sum(r.failed for r in reports.values())
    skipped = sum(r.skipped for r in reports.values())
    parent.send("counts")
    emails, calls = parent.recv()
    sinks.join(10)
    db.dispose()

    bare = _bare_inserts(f"sqlite:///{data_dir / 'bare.db'}", DEVICES)
    deliveries = sent + failed + skipped
    print(
        f"deliveries: {sent} sent, {failed} failed, {skipped} skipped "
        f"(sinks received {emails} emails, {calls} webhook calls)"
    )
    print(f"bare inserts ({DEVICES} rows, one transaction): {bare:.3f} s")
    print(
        f"enqueue (notice + {deliveries} deliveries):   {enqueue:.3f} s  "
        f"= {enqueue / bare:.1f}x the bare inserts"
    )
    print(
        f"send to local sinks:                       {send:.3f} s  "
        f"= {send / bare:.1f}x the bare inserts, {deliveries / send:.0f} deliveries/s"
    )
    print(
        f"enqueue + send:                            {enqueue + send:.3f} s  "
        f"= {(enqueue + send) / bare:.1f}x the bare inserts"
    )


if __name__ == "__main__":
    main()
