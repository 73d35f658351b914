"""Pages of updates: rollouts with their progress per wave, and the fleet by installed release.

Everyone with an account reads them; release managers pause, resume, abort and start
rollouts from here. Charts are SVG drawn on the server (see `fleetcare.updates.charts`).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import charts, push, repository, rollouts, service
from fleetcare.web.auth import AnyUser, ReleaseManager, check_csrf
from fleetcare.web.rendering import render

router = APIRouter(tags=["pages"])


@router.get("/updates")
def updates_overview(request: Request, session: DbSession, who: AnyUser) -> Response:
    fleet = rollouts.fleet_by_release(session)
    bars, height = charts.horizontal_bars(fleet)
    return render(
        request,
        "updates.html",
        rollouts=[rollouts.rollout_out(session, r) for r in rollouts.list_rollouts(session)],
        bars=bars,
        chart_height=height,
        devices=sum(n for _, n in fleet),
        tuf=repository.status(session),
        chart=charts,
        products=portfolio.list_products(session, limit=1000)[0],
        done=request.query_params.get("done", "")[:200],
    )


@router.get("/updates/rollouts/{rollout_id}")
def rollout_page(request: Request, rollout_id: int, session: DbSession, who: AnyUser) -> Response:
    rollout = rollouts.rollout_out(session, rollouts.get(session, rollout_id))
    return render(
        request,
        "rollout.html",
        rollout=rollout,
        segments=[charts.progress_segments(w.counts) for w in rollout.waves],
        chart=charts,
    )


@router.post("/updates/rollouts/{rollout_id}/{action}")
async def change_rollout(
    request: Request, rollout_id: int, action: str, who: ReleaseManager
) -> Response:
    await check_csrf(request)
    operations = {
        "start": rollouts.start,
        "pause": rollouts.pause,
        "resume": rollouts.resume,
        "abort": rollouts.abort,
    }
    if action not in operations:
        raise InvalidInput(f"unknown action {action!r}")
    with request.app.state.db.session() as session:
        try:
            operations[action](session, rollout_id, actor=who)
            session.commit()
            if action in ("start", "resume"):
                push.notify_rollout(session, request.app.state.settings, rollout_id)
        except FleetcareError:
            session.rollback()
            raise
    return RedirectResponse(f"/updates/rollouts/{rollout_id}", status_code=303)


@router.post("/updates/artifacts")
async def upload_artifact(request: Request, who: ReleaseManager) -> Response:
    """Upload a firmware file for a release, and sign the release if asked to."""
    form = await check_csrf(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose the firmware file to upload")
    product, version = str(form.get("product", "")), str(form.get("version", "")).strip()
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        artifact = service.upload_artifact(
            session, settings, product, version, upload.filename, upload.file, actor=who
        )
        done = f"{artifact.filename} stored for release {version} (sha256 {artifact.sha256[:12]}…)"
        if form.get("sign") == "yes":
            signed = service.sign_release(session, settings, product, version, actor=who)
            done += f"; release signed with release counter {signed.counter}"
        session.commit()
    return RedirectResponse(f"/updates?done={quote(done)}", status_code=303)
