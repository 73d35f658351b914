"""Device check-ins per second with 10,000 registered devices, as a ratio to a bare ASGI endpoint.

Every check-in is a real signed request (Ed25519, a rising sequence number: the server refuses
replays, so each request is signed anew by the load generator), spread round-robin over the
10,000 devices, answered with the device's assignment and notices; a security rollout is
running, so a share of the devices get an assignment. The server and the bare endpoint are
served by uvicorn (one worker, same flags, the HTTP protocol of `fleetcare serve`) in the same run and loaded over 16 keep-alive
connections with the same signed requests (so both pay the same HTTP parsing and the load
generator's signing), once signed with each device's key and once with HMAC under a check-in
session (what the reference agent does), in three interleaved rounds after one check-in of every device (the
steady state: the server knows every device's key); the medians are printed, and the rate of
that first pass. Runs on SQLite and, when FLEETCARE_BENCH_POSTGRES_URL is set, on PostgreSQL (a
scratch database is created and dropped). Also prints the server's resident memory.

    python -m bench.device_checkin [--devices 10000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import io
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench._load import LoadResult, exchange, free_port, resident_memory, serve
from fleetcare.serving import PROTOCOL

PATH = "/device/v1/checkin?installed=1.0.0"
ROUNDS = 3


def prepare(database_url: str, data_dir: Path, count: int) -> list[tuple[str, Ed25519PrivateKey]]:
    os.environ["FLEETCARE_DATA_DIR"] = str(data_dir)
    os.environ["FLEETCARE_DATABASE_URL"] = database_url
    import datetime as dt

    from sqlalchemy import update

    from fleetcare.core import migrations
    from fleetcare.core.auth import system_principal
    from fleetcare.core.db import Database
    from fleetcare.core.settings import get_settings, reset_settings
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
    from fleetcare.updates import devices, keys, repository, rollouts, service
    from fleetcare.updates.models import Device
    from fleetcare.updates.schemas import DeviceIn, RolloutIn, WaveIn

    reset_settings()
    settings = get_settings()
    db = Database(settings.resolved_database_url)
    migrations.upgrade(db.engine)
    actor = system_principal("bench", via="cli")
    cfg = service.config(settings)
    root = keys.init_keys(data_dir / "offline")
    cfg.keys_dir.mkdir(parents=True)
    for role in keys.ONLINE_ROLES:
        (cfg.keys_dir / f"{role}.pem").write_bytes(
            (data_dir / "offline" / f"{role}.pem").read_bytes()
        )
    identities = [(f"bench-{i:06d}", Ed25519PrivateKey.generate()) for i in range(count)]
    with db.session() as session:
        repository.install_root(session, root.read_bytes())
        repository.start(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
        portfolio.create_product(
            session,
            ProductIn(
                name="Bench Gateway",
                placed_on_market=dt.date(2026, 1, 1),
                support_end=dt.date(2032, 1, 1),
            ),
            actor=actor,
        )
        for version in ("1.0.0", "1.0.1"):
            portfolio.create_release(
                session,
                "bench-gateway",
                ReleaseIn(version=version, release_date=dt.date(2026, 1, 1), kind="security"),
                actor=actor,
            )
            service.upload_artifact(
                session,
                settings,
                "bench-gateway",
                version,
                "fw.bin",
                io.BytesIO(version.encode() * 1000),
                actor=actor,
            )
            service.sign_release(session, settings, "bench-gateway", version, actor=actor)
        devices.import_factory_list(
            session,
            "bench-gateway",
            [
                DeviceIn(
                    uid=uid,
                    public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(),
                    groups=["canary"] if i % 10 == 0 else [],
                )
                for i, (uid, key) in enumerate(identities)
            ],
            actor=actor,
        )
        # Steady state: every device has enrolled and reported 1.0.0 before the measurement.
        release = portfolio.get_release(session, "bench-gateway", "1.0.0")
        session.execute(
            update(Device).values(
                state="active",
                installed_release_id=release.id,
                installed_version="1.0.0",
                installed_counter=1,
            )
        )
        rollout = rollouts.create(
            session,
            RolloutIn(
                name="bench",
                product="bench-gateway",
                version="1.0.1",
                waves=[WaveIn(groups=["canary"]), WaveIn(percent=100)],
            ),
            actor=actor,
        )
        rollouts.start(session, rollout.id, actor=actor)
        session.commit()
    db.dispose()
    return identities


Signer = Callable[[int], bytes]


def signers(identities: list[tuple[str, Ed25519PrivateKey]], *, sessions: bool) -> list[Signer]:
    """Per device, a function from sequence number to a signed check-in request: signed with
    the device's key, or with HMAC under a session (derived here as the server derives it,
    both reading the secret key of the same data directory)."""
    if not sessions:
        return [partial(_signed_request, uid, key) for uid, key in identities]
    from fleetcare.core.settings import get_settings
    from fleetcare.updates import devices

    settings = get_settings()
    master = devices.sessions_master(settings)
    expires = int(time.time()) + 3600
    out: list[Signer] = []
    for i, (uid, key) in enumerate(identities):
        session_id = f"{expires}.{i:016x}"
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        session_key = devices.session_key(master, uid, public, session_id)
        out.append(partial(_session_request, uid, session_id, session_key))
    return out


def _session_request(uid: str, session_id: str, key: bytes, seq: int) -> bytes:
    message = "\n".join(
        ["fleetcare-device-v1", "GET", PATH, str(seq), hashlib.sha256(b"").hexdigest()]
    ).encode()
    signature = hmac.new(key, message, hashlib.sha256).hexdigest()
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fleetcare-Device: {uid}\r\n"
        f"X-Fleetcare-Seq: {seq}\r\nX-Fleetcare-Session: {session_id}\r\n"
        f"X-Fleetcare-Signature: {signature}\r\n\r\n"
    ).encode()


def _signed_request(uid: str, key: Ed25519PrivateKey, seq: int) -> bytes:
    message = "\n".join(
        ["fleetcare-device-v1", "GET", PATH, str(seq), hashlib.sha256(b"").hexdigest()]
    ).encode()
    signature = key.sign(message).hex()
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fleetcare-Device: {uid}\r\n"
        f"X-Fleetcare-Seq: {seq}\r\nX-Fleetcare-Signature: {signature}\r\n\r\n"
    ).encode()


def load_checkins(
    port: int,
    identities: list[Signer],
    seconds: float,
    connections: int = 16,
    *,
    once: bool = False,
) -> LoadResult:
    """Signed check-ins round-robin over the devices for `seconds`, or one per device."""
    next_device = [0]

    async def worker(stop_at: float, result: LoadResult) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at and not (
                once and next_device[0] >= len(identities)
            ):
                sign = identities[next_device[0] % len(identities)]
                next_device[0] += 1
                request = sign(time.time_ns() // 1000)
                await exchange(reader, writer, request, result)
        finally:
            writer.close()

    async def run() -> LoadResult:
        result = LoadResult(0, 0.0, [], 0)
        start = time.perf_counter()
        stop_at = start + (3600 if once else seconds)
        await asyncio.gather(*(worker(stop_at, result) for _ in range(connections)))
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(run())


def run_one(label: str, database_url: str, count: int, seconds: float, workers: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        identities = prepare(database_url, Path(tmp), count)
        print(f"[{label}] {count} devices registered in {time.perf_counter() - started:.1f} s")
        env = {
            "FLEETCARE_DATA_DIR": tmp,
            "FLEETCARE_DATABASE_URL": database_url,
            "FLEETCARE_LOG_LEVEL": "WARNING",
            "FLEETCARE_RUN_JOBS": "0",
            "FLEETCARE_DEVICE_RATE_LIMIT": "100000",
        }
        modes = {"signed with the key": signers(identities, sessions=False)}
        modes["signed under a session"] = signers(identities, sessions=True)
        runs: dict[str, list[tuple[LoadResult, LoadResult]]] = {mode: [] for mode in modes}
        with ExitStack() as servers:
            bare_port, our_port = free_port(), free_port()
            # Both with the HTTP protocol `fleetcare serve` uses (uvicorn's httptools protocol;
            # for an app without a device hot path, such as the bare one, it is exactly that).
            servers.enter_context(
                serve("bench._bare_app:app", bare_port, workers=workers, http=PROTOCOL)
            )
            server = servers.enter_context(
                serve(
                    "fleetcare.app:create_app_from_env",
                    our_port,
                    env=env,
                    factory=True,
                    workers=workers,
                    http=PROTOCOL,
                )
            )
            # The first check-in of each device after a start reads its key: measured apart.
            cold = load_checkins(our_port, modes["signed with the key"], 0, once=True)
            print(cold.line(f"[{label}] first check-in of each device"))
            for _ in range(ROUNDS):  # interleaved, so that a busy moment hits both
                for mode, requests in modes.items():
                    bare = load_checkins(bare_port, requests, seconds)
                    runs[mode].append((bare, load_checkins(our_port, requests, seconds)))
            memory = resident_memory(server.pid)
        for mode, pairs in runs.items():
            bare = sorted((b for b, _ in pairs), key=lambda r: r.rate)[ROUNDS // 2]
            ours = sorted((c for _, c in pairs), key=lambda r: r.rate)[ROUNDS // 2]
            print(bare.line(f"[{label}] bare ASGI endpoint, same requests"))
            print(ours.line(f"[{label}] check-in {mode}"))
            rates = ", ".join(f"{c.rate / b.rate:.3f}" for b, c in pairs)
            print(f"[{label}] ratio {mode}: {ours.rate / bare.rate:.3f} (rounds: {rates})")
        print(f"[{label}] server {memory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes, for both servers"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_one("SQLite", f"sqlite:///{tmp}/bench.db", args.devices, args.seconds, args.workers)
    postgres = os.environ.get("FLEETCARE_BENCH_POSTGRES_URL", "")
    if postgres:
        from sqlalchemy import create_engine, text

        name = f"fleetcare_bench_checkin_{os.getpid()}"
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run_one(
                "PostgreSQL",
                postgres.rsplit("/", 1)[0] + f"/{name}",
                args.devices,
                args.seconds,
                args.workers,
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        print("PostgreSQL skipped: set FLEETCARE_BENCH_POSTGRES_URL")


if __name__ == "__main__":
    main()
