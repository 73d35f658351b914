"""REST API of updates under /api/v1: artifacts, signing, devices, rollouts, the fleet."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from fleetcare.core.auth import Principal, Role
from fleetcare.core.errors import InvalidInput, TooLarge
from fleetcare.core.http import API_PREFIX, READERS, DbSession, require
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import devices, exposure, push, repository, rollouts, service
from fleetcare.updates.schemas import (
    DeviceOut,
    FactoryList,
    RolloutIn,
    RolloutOut,
    UpdateSettingsIn,
)

router = APIRouter(prefix=API_PREFIX, tags=["updates"])

Reader = Annotated[Principal, Depends(require(*READERS))]
ReleaseManager = Annotated[Principal, Depends(require(Role.RELEASE))]


def _artifact(a: Any) -> dict[str, Any]:
    return {
        "filename": a.filename,
        "sha256": a.sha256,
        "size": a.size,
        "uploaded_at": a.uploaded_at,
    }


@router.post("/products/{product_ref}/releases/{version}/artifacts", status_code=201)
async def upload_artifact(
    request: Request,
    product_ref: str,
    version: str,
    who: ReleaseManager,
    filename: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """Upload a firmware file as the raw request body (`?filename=` names it)."""
    settings = request.app.state.settings
    limit = settings.artifact_max_bytes
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise TooLarge(f"the artifact is larger than the limit of {limit} bytes")
        spool.write(chunk)
    spool.seek(0)

    def store() -> dict[str, Any]:
        with request.app.state.db.session() as session, spool:
            artifact = service.upload_artifact(
                session, settings, product_ref, version, filename, spool, actor=who
            )
            session.commit()
            return _artifact(artifact)

    return await run_in_threadpool(store)


@router.get("/products/{product_ref}/releases/{version}/artifacts")
def list_artifacts(
    product_ref: str, version: str, session: DbSession, who: Reader
) -> list[dict[str, Any]]:
    release = portfolio.get_release(session, product_ref, version)
    return [_artifact(a) for a in service.list_artifacts(session, release.id)]


@router.post("/products/{product_ref}/releases/{version}/sign")
def sign_release(
    request: Request, product_ref: str, version: str, session: DbSession, who: ReleaseManager
) -> dict[str, Any]:
    """Publish the release as signed TUF targets with the product's next release counter."""
    signed = service.sign_release(
        session, request.app.state.settings, product_ref, version, actor=who
    )
    session.commit()
    return {"version": version, "release_counter": signed.counter, "signed_at": signed.signed_at}


@router.get("/tuf")
def tuf_status(session: DbSession, who: Reader) -> list[dict[str, Any]]:
    """Every TUF role with its latest version and expiry."""
    return [
        {"role": role, "version": version, "expires": expires}
        for role, version, expires in repository.status(session)
    ]


@router.post("/devices", status_code=201)
def import_devices(data: FactoryList, session: DbSession, who: ReleaseManager) -> dict[str, int]:
    """Pre-authorise devices from a factory list (a secret or a public key each)."""
    count = devices.import_factory_list(session, data.product, data.devices, actor=who)
    session.commit()
    return {"imported": count}


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    session: DbSession,
    who: Reader,
    product: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeviceOut]:
    product_id = portfolio.get_product(session, product).id if product else None
    found = devices.list_devices(session, product_id=product_id, limit=limit, offset=offset)
    return [devices.device_out(d) for d in found]


@router.get("/devices/{uid}", response_model=DeviceOut)
def show_device(uid: str, session: DbSession, who: Reader) -> DeviceOut:
    return devices.device_out(devices.get_device(session, uid))


@router.put("/devices/{uid}/update-settings", response_model=DeviceOut)
def device_update_settings(
    request: Request, uid: str, data: UpdateSettingsIn, session: DbSession, who: ReleaseManager
) -> DeviceOut:
    """Opt a device out of automatic security updates, or postpone them (bounded)."""
    device = devices.set_device_update_settings(
        session, request.app.state.settings, uid, data, actor=who
    )
    session.commit()
    return devices.device_out(device)


@router.post("/devices/{uid}/decommission", response_model=DeviceOut)
def decommission_device(uid: str, session: DbSession, who: ReleaseManager) -> DeviceOut:
    device = devices.decommission(session, uid, actor=who)
    session.commit()
    return devices.device_out(device)


@router.put("/customers/{customer}/update-settings")
def customer_update_settings(
    request: Request,
    customer: str,
    data: UpdateSettingsIn,
    session: DbSession,
    who: ReleaseManager,
) -> dict[str, Any]:
    policy = devices.set_customer_update_settings(
        session, request.app.state.settings, customer, data, actor=who
    )
    session.commit()
    return {
        "customer": policy.customer,
        "security_updates": policy.security_updates,
        "postponed_until": policy.postponed_until,
    }


@router.post("/rollouts", response_model=RolloutOut, status_code=201)
def create_rollout(data: RolloutIn, session: DbSession, who: ReleaseManager) -> RolloutOut:
    rollout = rollouts.create(session, data, actor=who)
    session.commit()
    return rollouts.rollout_out(session, rollout)


@router.get("/rollouts", response_model=list[RolloutOut])
def list_rollouts(session: DbSession, who: Reader) -> list[RolloutOut]:
    return [rollouts.rollout_out(session, r) for r in rollouts.list_rollouts(session)]


@router.get("/rollouts/{rollout_id}", response_model=RolloutOut)
def show_rollout(rollout_id: int, session: DbSession, who: Reader) -> RolloutOut:
    return rollouts.rollout_out(session, rollouts.get(session, rollout_id))


@router.post("/rollouts/{rollout_id}/{action}", response_model=RolloutOut)
def change_rollout(
    request: Request, rollout_id: int, action: str, session: DbSession, who: ReleaseManager
) -> RolloutOut:
    """start, pause, resume or abort."""
    operations = {
        "start": rollouts.start,
        "pause": rollouts.pause,
        "resume": rollouts.resume,
        "abort": rollouts.abort,
    }
    if action not in operations:
        raise InvalidInput(f"unknown action {action!r}; use start, pause, resume or abort")
    rollout = operations[action](session, rollout_id, actor=who)
    session.commit()
    if action in ("start", "resume"):
        push.notify_rollout(session, request.app.state.settings, rollout.id)
    return rollouts.rollout_out(session, rollout)


@router.get("/fleet/releases")
def fleet_by_release(
    session: DbSession, who: Reader, product: Annotated[str | None, Query(max_length=200)] = None
) -> list[dict[str, Any]]:
    """Active devices by installed release."""
    product_id = portfolio.get_product(session, product).id if product else None
    return [{"version": v, "devices": n} for v, n in rollouts.fleet_by_release(session, product_id)]


@router.get("/vulnerabilities/{vulnerability_id}/exposure")
def vulnerability_exposure(
    vulnerability_id: str, session: DbSession, who: Reader
) -> list[dict[str, Any]]:
    """Per affected product: devices running an affected release, devices with the fix, and
    the median days from the fix's signature to installation."""
    return [asdict(e) for e in exposure.exposure(session, vulnerability_id)]


@router.get("/products/{product_ref}/coverage")
def release_coverage(product_ref: str, session: DbSession, who: Reader) -> list[dict[str, Any]]:
    """Every signed release with the devices that run it and how fast rollouts installed it."""
    product = portfolio.get_product(session, product_ref)
    return [asdict(c) for c in exposure.coverage(session, product.id)]
