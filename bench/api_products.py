"""Authenticated `GET /api/v1/products` with 1,000 products, as a ratio to a bare ASGI endpoint.

Both are served by uvicorn (one worker, same flags) in the same run, and loaded by the same
client over 16 keep-alive connections. Figures: requests/s and p50/p99 latency for a page of 100
products (the default page) and for the full list of 1,000, on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from bench._load import free_port, load, serve


def prepare(data_dir: Path) -> str:
    os.environ["FLEETCARE_DATA_DIR"] = str(data_dir)
    from fleetcare.core import auth, migrations
    from fleetcare.core.auth import Role, system_principal
    from fleetcare.core.db import Database
    from fleetcare.core.settings import get_settings
    from fleetcare.portfolio import service
    from fleetcare.portfolio.schemas import ProductIn, ReleaseIn

    db = Database(get_settings().resolved_database_url)
    migrations.upgrade(db.engine)
    actor = system_principal("bench", via="cli")
    with db.session() as session:
        user = auth.create_user(
            session,
            email="bench@example.test",
            role=Role.VIEWER,
            password="bench password long",
            actor=actor,
        )
        _token, clear = auth.create_token(session, user=user, actor=actor)
        for i in range(1000):
            placed = dt.date(2020, 1, 1) + dt.timedelta(days=i)
            product = service.create_product(
                session,
                ProductIn(
                    name=f"Device {i:04d}",
                    model_id=f"DV-{i:04d}",
                    placed_on_market=placed,
                    support_end=placed + dt.timedelta(days=365 * 6),
                    description="Benchmark product with a realistic description length. " * 3,
                ),
                actor=actor,
            )
            for v in range(3):
                service.create_release(
                    session,
                    product.id,
                    ReleaseIn(
                        version=f"1.{v}.0",
                        release_date=placed + dt.timedelta(days=30 * v),
                        kind="security" if v else "feature",
                        status="released",
                    ),
                    actor=actor,
                )
        session.commit()
    db.dispose()
    return clear


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        token = prepare(Path(tmp))
        env = {
            "FLEETCARE_DATA_DIR": tmp,
            "FLEETCARE_LOG_LEVEL": "WARNING",
            "FLEETCARE_RUN_JOBS": "0",
        }
        headers = {"Authorization": f"Bearer {token}"}
        port = free_port()
        with serve("bench._bare_app:app", port):
            bare = load(port, "/")
        port = free_port()
        with serve("fleetcare.app:create_app_from_env", port, env=env, factory=True):
            page = load(port, "/api/v1/products", headers)
            full = load(port, "/api/v1/products?limit=1000", headers, seconds=5, connections=4)
        print(bare.line("bare ASGI endpoint (baseline)"))
        print(page.line("GET /api/v1/products (100 of 1,000)"))
        print(full.line("GET /api/v1/products?limit=1000"))
        print(
            f"ratio page/baseline: {page.rate / bare.rate:.3f}   "
            f"ratio full list/baseline: {full.rate / bare.rate:.4f}"
        )


if __name__ == "__main__":
    main()
