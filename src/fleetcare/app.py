"""Builds the ASGI application: the API under /api/v1, the dashboard, public pages, health.

    app = create_app()                       # from settings (environment, config file)
    app = create_app(settings, database)     # tests pass their own

`fleetcare serve` runs this under uvicorn and, unless told otherwise, consumes background jobs in
the same process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from fleetcare import __version__, wiring
from fleetcare.advisories.api import router as advisories_router
from fleetcare.advisories.api import well_known_router as csaf_well_known_router
from fleetcare.core import migrations
from fleetcare.core.api import router as core_router
from fleetcare.core.auth import Principal
from fleetcare.core.db import Database
from fleetcare.core.http import API_PREFIX, READERS, install_error_handlers, public, require
from fleetcare.core.notify_api import router as notify_router
from fleetcare.core.observability import Metrics, RequestMiddleware
from fleetcare.core.settings import Settings, get_settings
from fleetcare.disclosure.api import public_router as disclosure_public_router
from fleetcare.disclosure.api import router as disclosure_router
from fleetcare.disclosure.api import well_known_router as disclosure_well_known_router
from fleetcare.intel.api import router as intel_router
from fleetcare.lifecycle.api import public_router as lifecycle_public_router
from fleetcare.lifecycle.api import router as lifecycle_router
from fleetcare.matching.api import router as matching_router
from fleetcare.portfolio.api import public_router as portfolio_public_router
from fleetcare.portfolio.api import router as portfolio_router
from fleetcare.reporting.api import router as reporting_router
from fleetcare.sbom.api import router as sbom_router
from fleetcare.triage.api import router as triage_router
from fleetcare.updates.api import router as updates_router
from fleetcare.updates.ddi import router as ddi_router
from fleetcare.updates.device_api import router as device_router
from fleetcare.updates.fastpath import DeviceHotPath
from fleetcare.web.advisory_pages import router as advisory_pages
from fleetcare.web.disclosure import router as disclosure_pages
from fleetcare.web.lifecycle import router as lifecycle_pages
from fleetcare.web.reporting import router as reporting_pages
from fleetcare.web.updates import router as updates_pages

log = logging.getLogger("fleetcare.app")


class FleetcareApp(FastAPI):
    """FastAPI, but the requests devices repeat all day are offered first to the device hot
    path (`fleetcare.updates.fastpath`), which answers the steady state without routing,
    dependencies or the thread pool and passes everything else on, untouched."""

    hot_path: DeviceHotPath | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        hot_path = self.hot_path
        if hot_path is not None and await hot_path.handle(scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    run_jobs: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = None
        if run_jobs:
            from fleetcare.core.jobs import set_task_database, start_consumer

            set_task_database(database)
            consumer = start_consumer()
            log.info("job consumer started in-process")
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            if isinstance(app, FleetcareApp) and app.hot_path is not None:
                app.hot_path.close()

    app = FleetcareApp(
        title="fleetcare",
        version=__version__,
        description=(
            "Cyber Resilience Act after-sale platform: products and support periods, SBOMs and "
            "vulnerabilities, disclosure, Article 14 reporting, advisories, signed updates, "
            "end of life. Authenticate with `Authorization: Bearer <token>` "
            "(create one with `fleetcare tokens create`)."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.rate_limiters = {}
    metrics = Metrics()
    app.state.metrics = metrics
    install_error_handlers(app)

    wiring.connect()
    for router in (
        core_router,
        portfolio_router,
        portfolio_public_router,
        sbom_router,
        matching_router,
        intel_router,
        notify_router,
        disclosure_router,
        disclosure_public_router,
        disclosure_well_known_router,
        reporting_router,
        triage_router,
        advisories_router,
        csaf_well_known_router,
        updates_router,
        device_router,
        ddi_router,
        updates_pages,
        disclosure_pages,
        advisory_pages,
        reporting_pages,
        lifecycle_router,
        lifecycle_public_router,
        lifecycle_pages,
    ):
        app.include_router(router)
    _add_operational_routes(app, database)

    from fleetcare.web.routes import install_web

    install_web(app)
    app.add_middleware(RequestMiddleware, metrics=metrics)
    app.hot_path = DeviceHotPath(app.state, metrics)
    return app


def _add_operational_routes(app: FastAPI, database: Database) -> None:
    @app.get("/healthz", tags=["operations"], dependencies=[Depends(public("health", 6000))])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"], dependencies=[Depends(public("health", 6000))])
    def readyz() -> Response:
        """Readiness: the database answers and its schema is at the current migration."""
        checks: dict[str, Any] = {}
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, head = migrations.current_and_head(database.engine)
            checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"])
    def metrics(request: Request, who: Principal = Depends(require(*READERS))) -> Response:
        """Prometheus metrics; scrape with any API token (a viewer token is enough)."""
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn (`fleetcare serve`), which re-imports the app in each worker."""
    import os

    from fleetcare.core.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings, run_jobs=os.environ.get("FLEETCARE_RUN_JOBS") == "1")
