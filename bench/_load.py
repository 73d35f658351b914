"""A small HTTP/1.1 load generator and server launcher shared by the HTTP benchmarks.

Written by hand (asyncio streams, keep-alive connections, Content-Length responses only) because
the usual tools (wrk, hey) are not Python packages, and a full HTTP client library would cost more
CPU than the servers under test on a 2-core machine. It counts requests, not bytes, and records
per-request latency for p50/p99.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self, label: str) -> str:
        return (
            f"{label:<40} {self.rate:9.0f} req/s   p50 {self.percentile(0.5):7.2f} ms   "
            f"p99 {self.percentile(0.99):7.2f} ms   errors {self.errors}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    app: str,
    port: int,
    env: dict[str, str] | None = None,
    factory: bool = False,
    *,
    python: str = sys.executable,
    cwd: Path | None = None,
    workers: int = 1,
    http: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `uvicorn APP` on 127.0.0.1:PORT in a subprocess until the block ends (with another
    interpreter, e.g. a compared server's virtual environment, if `python` is given, and with
    `workers` worker processes)."""
    args = [
        python,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        args.append("--factory")
    if workers > 1:
        args += ["--workers", str(workers)]
    if http:
        args += ["--http", http]
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"server {app} did not start on port {port}")
        while workers > 1 and len(children(process.pid)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {app} did not start {workers} workers")
            time.sleep(0.1)
        if workers > 1:
            time.sleep(3)  # the supervisor listens at once; its workers import the app first
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s children (uvicorn's worker processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def resident_memory(pid: int) -> str:
    """Resident memory of a server process and of its children, if it has worker processes."""

    def rss(one: int) -> tuple[int, int]:
        fields = {}
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    sizes = [rss(one) for one in [pid, *children(pid)]]
    return f"RSS {sum(r for r, _ in sizes)} kB, peak {sum(p for _, p in sizes)} kB" + (
        f" ({len(sizes)} processes)" if len(sizes) > 1 else ""
    )


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, result: LoadResult
) -> None:
    """Send one request on a keep-alive connection, read the whole answer, and count it."""
    start = time.perf_counter()
    writer.write(request)
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
    if not status_line.startswith(b"HTTP/1.1 200"):
        result.errors += 1
    result.requests += 1


async def _worker(port: int, request: bytes, stop_at: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            await exchange(reader, writer, request, result)
    finally:
        writer.close()


def load(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    seconds: float = 5.0,
    connections: int = 16,
) -> LoadResult:
    """Send GET PATH over `connections` keep-alive connections for `seconds`."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()

    async def run() -> LoadResult:
        result = LoadResult(0, 0.0, [], 0)
        # Warm-up: a short burst that is not counted.
        warm = LoadResult(0, 0.0, [], 0)
        await asyncio.gather(
            *(_worker(port, request, time.perf_counter() + 0.5, warm) for _ in range(4))
        )
        start = time.perf_counter()
        stop_at = start + seconds
        await asyncio.gather(*(_worker(port, request, stop_at, result) for _ in range(connections)))
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(run())


def median_of(values: list[float]) -> float:
    return statistics.median(values)
