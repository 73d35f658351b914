"""hawkBit DDI polls per second, fleetcare against goosebit, with 10,000 devices each, on SQLite.

Both servers and a bare ASGI endpoint run under uvicorn (one worker, same flags) on the same
machine at the same time and are loaded in turn, three interleaved rounds (medians printed),
over 16 keep-alive connections with `GET /DEFAULT/controller/v1/<device>` spread round-robin
over 10,000 devices. fleetcare's devices are registered from a factory list, enrol with their
first poll and authenticate with their TargetToken; goosebit's are created by one poll each
before the measurement (its default: no device authentication). goosebit is not a fleetcare dependency:
point GOOSEBIT_PYTHON at the interpreter of a virtual environment where it is installed
(`pip install goosebit`, then `aerich upgrade` as its documentation says, done here).

    GOOSEBIT_PYTHON=/path/venv/bin/python python -m bench.ddi_goosebit [--devices 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from bench._load import LoadResult, exchange, free_port, serve

ROUNDS = 3


def prepare_fleetcare(data_dir: Path, count: int) -> list[str]:
    os.environ.update(
        {
            "FLEETCARE_DATA_DIR": str(data_dir),
            "FLEETCARE_DATABASE_URL": f"sqlite:///{data_dir}/bench.db",
            "FLEETCARE_SECRET_KEY": "bench-secret-key",
        }
    )
    import datetime as dt

    from fleetcare.core import migrations
    from fleetcare.core.auth import system_principal
    from fleetcare.core.db import Database
    from fleetcare.core.settings import get_settings, reset_settings
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ProductIn
    from fleetcare.updates import ddi, devices
    from fleetcare.updates.schemas import DeviceIn

    reset_settings()
    settings = get_settings()
    db = Database(settings.resolved_database_url)
    migrations.upgrade(db.engine)
    actor = system_principal("bench", via="cli")
    uids = [f"ddi-{i:06d}" for i in range(count)]
    with db.session() as session:
        portfolio.create_product(
            session,
            ProductIn(
                name="Bench Gateway",
                placed_on_market=dt.date(2026, 1, 1),
                support_end=dt.date(2032, 1, 1),
            ),
            actor=actor,
        )
        devices.import_factory_list(
            session,
            "bench-gateway",
            [DeviceIn(uid=uid, secret=f"factory-secret-{uid}") for uid in uids],
            actor=actor,
        )
        session.commit()
    db.dispose()
    return [f"{uid}\n{ddi.target_token(settings, uid)}" for uid in uids]


def load_polls(
    port: int,
    request_for: Callable[[int], bytes],
    count: int,
    seconds: float,
    connections: int = 16,
) -> LoadResult:
    counter = [0]

    async def worker(stop_at: float, result: LoadResult) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at and (seconds or counter[0] < count):
                request = request_for(counter[0] % count)
                counter[0] += 1
                await exchange(reader, writer, request, result)
        finally:
            writer.close()

    async def run() -> LoadResult:
        result = LoadResult(0, 0.0, [], 0)
        start = time.perf_counter()
        limit = start + (seconds or 3600)
        await asyncio.gather(*(worker(limit, result) for _ in range(connections)))
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(run())


def _poll(uid: str, token: str | None) -> bytes:
    auth = f"Authorization: TargetToken {token}\r\n" if token else ""
    return (f"GET /DEFAULT/controller/v1/{uid} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    goosebit = os.environ.get("GOOSEBIT_PYTHON", "")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        pairs = [p.split("\n") for p in prepare_fleetcare(Path(tmp), args.devices)]
        requests = [_poll(uid, token) for uid, token in pairs]
        env = {
            "FLEETCARE_DATA_DIR": tmp,
            "FLEETCARE_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "FLEETCARE_SECRET_KEY": "bench-secret-key",
            "FLEETCARE_LOG_LEVEL": "WARNING",
            "FLEETCARE_RUN_JOBS": "0",
            "FLEETCARE_DEVICE_RATE_LIMIT": "100000",
        }
        bare_port, our_port = free_port(), free_port()
        servers.enter_context(serve("bench._bare_app:app", bare_port))
        servers.enter_context(
            serve("fleetcare.app:create_app_from_env", our_port, env=env, factory=True)
        )
        started = time.perf_counter()
        load_polls(our_port, requests.__getitem__, len(requests), 0)  # the first poll enrols
        print(
            f"fleetcare: {len(requests)} devices enrolled by polling in "
            f"{time.perf_counter() - started:.1f} s"
        )
        targets: dict[str, tuple[int, list[bytes]]] = {
            "bare ASGI endpoint (baseline)": (bare_port, requests),
            "fleetcare DDI poll": (our_port, requests),
        }
        if goosebit:
            port = free_port()
            plain = [_poll(uid, None) for uid, _ in pairs]
            servers.enter_context(_start_goosebit(goosebit, Path(tmp), port))
            started = time.perf_counter()
            load_polls(port, plain.__getitem__, len(plain), 0)  # one poll each registers
            print(
                f"goosebit: {len(plain)} devices registered by polling in "
                f"{time.perf_counter() - started:.1f} s"
            )
            targets["goosebit DDI poll"] = (port, plain)
        else:
            print("goosebit skipped: set GOOSEBIT_PYTHON to an interpreter where it is installed")
        runs: dict[str, list[LoadResult]] = {name: [] for name in targets}
        for _ in range(ROUNDS):  # interleaved, so that a busy moment of the machine hits all
            for name, (port, sent) in targets.items():
                runs[name].append(load_polls(port, sent.__getitem__, len(sent), args.seconds))
        median = {name: sorted(r, key=lambda x: x.rate)[ROUNDS // 2] for name, r in runs.items()}
        for name, result in median.items():
            print(result.line(name))
        bare, ours = median["bare ASGI endpoint (baseline)"], median["fleetcare DDI poll"]
        print(f"fleetcare/bare: {ours.rate / bare.rate:.3f}")
        if goosebit:
            theirs = median["goosebit DDI poll"]
            rounds = ", ".join(
                f"{a.rate / b.rate:.2f}"
                for a, b in zip(runs["fleetcare DDI poll"], runs["goosebit DDI poll"], strict=True)
            )
            print(f"fleetcare/goosebit: {ours.rate / theirs.rate:.2f} (rounds: {rounds})")


def _start_goosebit(
    python: str, tmp: Path, port: int
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """goosebit with its own SQLite database, migrated with aerich as its documentation says."""
    data = tmp / "goosebit"
    data.mkdir()
    site = subprocess.run(
        [python, "-c", "import goosebit, os; print(os.path.dirname(goosebit.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (data / "pyproject.toml").write_text(
        f'[tool.aerich]\ntortoise_orm = "goosebit.db.config.TORTOISE_CONF"\n'
        f'location = "{site}/db/migrations"\nsrc_folder = "./."\n'
    )
    gb_env = {
        **os.environ,
        "GOOSEBIT_DB_URI": f"sqlite:///{data}/db.sqlite3",
        "GOOSEBIT_ARTIFACTS_DIR": str(data / "artifacts"),
    }
    aerich = str(Path(python).parent / "aerich")
    subprocess.run([aerich, "upgrade"], cwd=data, env=gb_env, check=True, capture_output=True)
    os.environ.update({k: v for k, v in gb_env.items() if k.startswith("GOOSEBIT_")})
    return serve("goosebit:app", port, python=python, cwd=data)


if __name__ == "__main__":
    main()
