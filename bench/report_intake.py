"""Public report intake (`POST /api/v1/public/reports`) with the rate limiter on, as a ratio to a
bare ASGI endpoint served the same way in the same run.

Both servers are uvicorn, one worker, same flags; the client keeps 16 connections open. Each
intake stores the report, its receipt message and credit, an audit event and the receipt email's
delivery record (SQLite, WAL), and queues the email job. Figures:

- honest reporters: every request comes from another address (X-Forwarded-For, which uvicorn
  trusts from 127.0.0.1), so the hourly per-address limit counts every request but refuses none;
- a flood: every request from one address, so after the first few each is answered 429;
- the bare endpoint: a GET returning a small JSON body.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench._load import LoadResult, free_port, load, serve

REPORT = {
    "title": "Unauthenticated firmware upload",
    "product": "gateway-x1",
    "affected_version": "1.0.0",
    "description": "POST /cgi-bin/upload accepts a firmware image without a session. " * 8,
    "steps_to_reproduce": "curl -F fw=@evil.bin http://gateway/cgi-bin/upload",
    "impact": "Anyone on the LAN can replace the firmware.",
    "reporter_name": "Bench Reporter",
    "reporter_email": "bench@research.example",
    "preferred_channel": "email",
}


def prepare(data_dir: Path) -> None:
    os.environ["FLEETCARE_DATA_DIR"] = str(data_dir)
    import datetime as dt

    from fleetcare.core import migrations
    from fleetcare.core.auth import system_principal
    from fleetcare.core.db import Database
    from fleetcare.core.settings import get_settings
    from fleetcare.portfolio import service
    from fleetcare.portfolio.schemas import ProductIn

    db = Database(get_settings().resolved_database_url)
    migrations.upgrade(db.engine)
    with db.session() as session:
        service.create_product(
            session,
            ProductIn(
                name="Gateway X1",
                placed_on_market=dt.date(2025, 1, 1),
                support_end=dt.date(2031, 12, 31),
            ),
            actor=system_principal("bench", via="cli"),
        )
        session.commit()
    db.dispose()


def _request(body: bytes, address: str) -> bytes:
    return (
        "POST /api/v1/public/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Forwarded-For: {address}\r\n\r\n"
    ).encode() + body


async def _post_worker(
    port: int,
    requests: list[bytes],
    offset: int,
    step: int,
    stop_at: float,
    result: LoadResult,
    expect: bytes,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            writer.write(requests[index % len(requests)])
            index += step
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - start)
            if not status_line.startswith(b"HTTP/1.1 " + expect):
                result.errors += 1
            result.requests += 1
    finally:
        writer.close()


def post_load(
    port: int, requests: list[bytes], expect: bytes, seconds: float = 5.0, connections: int = 16
) -> LoadResult:
    """POST the given requests round-robin over keep-alive connections for `seconds`;
    answers other than `expect` (b"201", b"429") count as errors."""

    async def run() -> LoadResult:
        warm = LoadResult(0, 0.0, [], 0)
        await asyncio.gather(
            *(
                _post_worker(port, requests[-50:], i, 4, time.perf_counter() + 0.5, warm, expect)
                for i in range(4)
            )
        )
        result = LoadResult(0, 0.0, [], 0)
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _post_worker(port, requests, i, connections, start + seconds, result, expect)
                for i in range(connections)
            )
        )
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(run())


def main() -> None:
    body = json.dumps(REPORT).encode()
    # One address per request: 65,000 honest reporters, none over the hourly limit.
    honest = [
        _request(body, f"10.{i // 65025 % 255}.{i // 255 % 255}.{i % 255 + 1}")
        for i in range(65000)
    ]
    flood = [_request(body, "203.0.113.66")]
    with tempfile.TemporaryDirectory() as tmp:
        prepare(Path(tmp))
        env = {
            "FLEETCARE_DATA_DIR": tmp,
            "FLEETCARE_LOG_LEVEL": "WARNING",
            "FLEETCARE_RUN_JOBS": "0",
            "FLEETCARE_REPORT_RATE_LIMIT": "10",
        }
        port = free_port()
        with serve("bench._bare_app:app", port):
            bare = load(port, "/")
        port = free_port()
        with serve("fleetcare.app:create_app_from_env", port, env=env, factory=True):
            intake = post_load(port, honest, b"201")
            flooded = post_load(port, flood, b"429", seconds=3)
        print(bare.line("bare ASGI endpoint (baseline)"))
        print(intake.line("report intake, limiter on, many reporters"))
        print(flooded.line("flood from one address (429s)"))
        print(
            f"ratio intake/baseline: {intake.rate / bare.rate:.4f}   "
            f"ratio flood refusals/baseline: {flooded.rate / bare.rate:.3f}"
        )


if __name__ == "__main__":
    main()
