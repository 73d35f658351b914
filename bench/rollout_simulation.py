"""A simulated rollout of 10,000 devices in three waves (5 %, 30 %, 100 %) on SQLite.

Run twice: a healthy fleet (1 % failures) that finishes, and a fleet whose second wave fails
at 20 %, which must pause on the first failure past the 5 % threshold. Every status report
goes through the same service call the device API uses (counting and wave evaluation
included). Prints the time to register, to start (assign waves) and to run each rollout, and the
reports' rate as a ratio to a baseline of bare one-row UPDATEs, each committed, on the same
database.

    python -m bench.rollout_simulation [--devices 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

_IDS = "SELECT id FROM update_assignments ORDER BY id"
_BARE = "UPDATE update_assignments SET detail = :detail WHERE id = :id"


def run(devices_count: int, rates: list[float], label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FLEETCARE_DATA_DIR"] = tmp
        os.environ["FLEETCARE_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        from fleetcare.core import migrations
        from fleetcare.core.auth import system_principal
        from fleetcare.core.db import Database
        from fleetcare.core.settings import get_settings, reset_settings
        from fleetcare.portfolio import service as portfolio
        from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
        from fleetcare.updates import devices, keys, repository, rollouts, service, simulation
        from fleetcare.updates.schemas import DeviceIn, RolloutIn, WaveIn

        reset_settings()
        settings = get_settings()
        db = Database(settings.resolved_database_url)
        migrations.upgrade(db.engine)
        actor = system_principal("bench", via="cli")
        cfg = service.config(settings)
        root = keys.init_keys(Path(tmp) / "offline")
        cfg.keys_dir.mkdir(parents=True)
        for role in keys.ONLINE_ROLES:
            (cfg.keys_dir / f"{role}.pem").write_bytes(
                (Path(tmp) / "offline" / f"{role}.pem").read_bytes()
            )
        with db.session() as session:
            repository.install_root(session, root.read_bytes())
            repository.start(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
            portfolio.create_product(
                session,
                ProductIn(
                    name="Sim Gateway",
                    placed_on_market=dt.date(2026, 1, 1),
                    support_end=dt.date(2032, 1, 1),
                ),
                actor=actor,
            )
            portfolio.create_release(
                session,
                "sim-gateway",
                ReleaseIn(version="2.0.0", release_date=dt.date(2026, 6, 1), kind="security"),
                actor=actor,
            )
            service.upload_artifact(
                session,
                settings,
                "sim-gateway",
                "2.0.0",
                "fw.bin",
                io.BytesIO(b"fw" * 1000),
                actor=actor,
            )
            service.sign_release(session, settings, "sim-gateway", "2.0.0", actor=actor)
            started = time.perf_counter()
            devices.import_factory_list(
                session,
                "sim-gateway",
                [
                    DeviceIn(uid=f"sim-{i:06d}", secret=f"simulated-secret-{i:08d}")
                    for i in range(devices_count)
                ],
                actor=actor,
            )
            session.commit()
            registered = time.perf_counter() - started
            waves = [
                WaveIn(percent=p, success_threshold=95, failure_threshold=5) for p in (5, 30, 100)
            ]
            rollout = rollouts.create(
                session,
                RolloutIn(name="sim", product="sim-gateway", version="2.0.0", waves=waves),
                actor=actor,
            )
            started = time.perf_counter()
            rollouts.start(session, rollout.id, actor=actor)
            session.commit()
            assigned = time.perf_counter() - started
            started = time.perf_counter()
            result = simulation.run_rollout(session, rollout.id, rates, seed=7)
            ran = time.perf_counter() - started
            out = rollouts.rollout_out(session, rollouts.get(session, rollout.id))
        # Baseline: the least a report costs here, one UPDATE of its assignment committed on
        # its own, as many times as there were reports, on the same database.
        ids = [row[0] for row in db.engine.connect().execute(text(_IDS)).fetchall()]
        started = time.perf_counter()
        with db.engine.connect() as connection:
            for i in range(result.reports):
                connection.execute(text(_BARE), {"id": ids[i % len(ids)], "detail": str(i)})
                connection.commit()
        bare = time.perf_counter() - started
        db.dispose()
        print(
            f"{label}: {devices_count} devices registered in {registered:.2f} s, "
            f"assigned to waves in {assigned:.2f} s"
        )
        print(
            f"  {result.reports} status reports in {ran:.2f} s "
            f"({result.reports / ran:.0f} reports/s); rollout {out.status}"
            + (f": {out.pause_reason}" if out.pause_reason else "")
        )
        print(
            f"  baseline: {result.reports} bare one-row UPDATEs, each committed, in {bare:.2f} s "
            f"({result.reports / bare:.0f}/s); ratio of report rates {bare / ran:.3f}"
        )
        for wave in out.waves:
            print(
                f"  wave {wave.position + 1} ({wave.percent} %): {wave.size} devices {dict(wave.counts)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    run(args.devices, [0.0, 0.01, 0.01], "healthy fleet")
    run(args.devices, [0.0, 0.20, 0.0], "failing second wave")


if __name__ == "__main__":
    main()
