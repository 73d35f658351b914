"""hawkBit DDI v1 compatibility, so that existing agents (SWUpdate's suricatta,
rauc-hawkbit-updater, Zephyr's hawkBit client) work against fleetcare unchanged.

    GET  /{tenant}/controller/v1/{controllerId}                          polling base (ETag)
    GET  .../deploymentBase/{actionId}                                    what to install
    POST .../deploymentBase/{actionId}/feedback                          progress and result
    GET  .../installedBase/{actionId}                                     the last installed action
    GET  .../cancelAction/{actionId}, POST .../cancelAction/{id}/feedback an aborted rollout
    PUT  .../configData                                                   device attributes
    GET  .../softwaremodules/{moduleId}/artifacts/{file}[.MD5SUM]        download (Range)

The controller id is the device identifier, the action id the assignment, the software module
the release. Devices authenticate with `Authorization: TargetToken <token>`, where the token is
derived from the server's secret key and the device (`fleetcare devices ddi-token UID`); nothing
is stored, decommissioning a device revokes it. DDI has no request signing, so DDI devices are
not protected against replays the way native devices are, and they check downloads against the
hashes given here rather than with TUF: use the native API where the agent can be chosen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core.db import utcnow
from fleetcare.core.errors import (
    FleetcareError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from fleetcare.core.http import DbSession
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import devices, rules, service
from fleetcare.updates.device_api import encode_answer, file_response, limit_device
from fleetcare.updates.models import Assignment, Device, Rollout
from fleetcare.updates.schemas import StatusIn
from fleetcare.updates.storage import ArtifactStorage

BASE = "/{tenant}/controller/v1/{controller_id}"


class _JsonErrors(APIRoute):
    """Errors as JSON, like the API's: DDI paths are outside /api and /device, where the
    dashboard would otherwise answer with an HTML error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FleetcareError as exc:
                headers = {"WWW-Authenticate": "TargetToken"} if exc.status_code == 401 else {}
                if isinstance(exc.detail, dict) and "retry_after" in exc.detail:
                    headers["Retry-After"] = str(exc.detail["retry_after"])
                return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

        return handle


router = APIRouter(tags=["device (hawkBit DDI)"], route_class=_JsonErrors)

#: DDI execution states mapped onto assignment statuses (closed needs the result).
_EXECUTION = {
    "scheduled": "downloading",
    "resumed": "downloading",
    "download": "downloading",
    "downloaded": "downloading",
    "proceeding": "installing",
}


def target_token(settings: Settings, uid: str) -> str:
    """The DDI TargetToken of a device, derived from the server's secret key."""
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, f"ddi-target-token:{uid}".encode(), hashlib.sha256).hexdigest()


def ddi_device(request: Request, session: DbSession, tenant: str, controller_id: str) -> Device:
    """The device named by the path, if its TargetToken is right; rate-limited per device."""
    settings: Settings = request.app.state.settings
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "targettoken" or not token.strip():
        raise NotAuthenticated("DDI requests need 'Authorization: TargetToken <token>'")
    expected = target_token(settings, controller_id)
    device = session.execute(select(Device).where(Device.uid == controller_id)).scalar()
    if device is None or not hmac.compare_digest(expected, token.strip()):
        limit_device(request, "device-refused", request.client.host if request.client else "")
        raise NotAuthenticated("unknown controller or wrong TargetToken")
    if tenant != settings.ddi_tenant:
        raise NotFound(f"no tenant {tenant!r}")
    if device.state == "decommissioned":
        raise PermissionDenied(f"device {controller_id} is decommissioned")
    device.last_checkin_at = utcnow()
    if device.state == "preauthorised":  # a DDI device enrols with its first poll
        device.state, device.enrolled_at = "active", device.last_checkin_at
    limit_device(request, "device", device.uid)
    return device


ddi_device.fleetcare_device = True  # type: ignore[attr-defined]
DdiDevice = Annotated[Device, Depends(ddi_device)]


def _base_url(request: Request, tenant: str, controller_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/{tenant}/controller/v1/{controller_id}"


def _sleep(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _json(body: dict[str, Any], request: Request | None = None) -> Response:
    encoded, etag = encode_answer(body, sort_keys=False)
    if request is not None and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(encoded, media_type="application/hal+json", headers={"ETag": etag})


def _cancelled(session: Session, device: Device) -> Assignment | None:
    return session.execute(
        select(Assignment)
        .where(
            Assignment.device_id == device.id,
            Assignment.status == "cancelled",
            Assignment.detail == "rollout aborted",
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    ).scalar()


def _last_success(session: Session, device: Device) -> Assignment | None:
    return session.execute(
        select(Assignment)
        .where(Assignment.device_id == device.id, Assignment.status == "success")
        .order_by(Assignment.id.desc())
        .limit(1)
    ).scalar()


def poll_body(
    base: str,
    answer: dict[str, Any],
    cancelled_id: int | None,
    installed_id: int | None,
    hardware_revision: str,
) -> dict[str, Any]:
    """The polling base resource, from a check-in answer; the same from the full route and
    the device hot path (`fleetcare.updates.fastpath`)."""
    links: dict[str, dict[str, str]] = {}
    assignment = answer["assignment"]
    if assignment is not None:
        change = hashlib.sha256(json.dumps(assignment, sort_keys=True).encode()).hexdigest()[:8]
        links["deploymentBase"] = {"href": f"{base}/deploymentBase/{assignment['id']}?c={change}"}
    if cancelled_id is not None:
        links["cancelAction"] = {"href": f"{base}/cancelAction/{cancelled_id}"}
    if installed_id is not None:
        links["installedBase"] = {"href": f"{base}/installedBase/{installed_id}"}
    if not hardware_revision:
        links["configData"] = {"href": f"{base}/configData"}
    sleep = _sleep(int(answer["poll_seconds"]))
    return {"config": {"polling": {"sleep": sleep}}, "_links": links}


@router.get(BASE)
def controller_base(
    request: Request, tenant: str, controller_id: str, session: DbSession, device: DdiDevice
) -> Response:
    settings = request.app.state.settings
    answer = devices.checkin(session, settings, device, installed_version=None, device_state=None)
    cancelled = _cancelled(session, device)
    installed = _last_success(session, device)
    body = poll_body(
        _base_url(request, tenant, controller_id),
        answer,
        cancelled.id if cancelled is not None else None,
        installed.id if installed is not None else None,
        device.hardware_revision,
    )
    return _json(body, request)


_LEGACY_HASHES: dict[str, tuple[str, str]] = {}


def _legacy_hashes(storage: ArtifactStorage, sha256: str) -> tuple[str, str]:
    """(sha1, md5) of a stored artifact, which DDI clients expect beside the SHA-256; the
    storage is content-addressed, so each is computed once per process."""
    if sha256 not in _LEGACY_HASHES:
        sha1, md5 = hashlib.sha1(usedforsecurity=False), hashlib.md5(usedforsecurity=False)
        with storage.open(sha256) as handle:
            while chunk := handle.read(1024 * 1024):
                sha1.update(chunk)
                md5.update(chunk)
        if len(_LEGACY_HASHES) > 10_000:
            _LEGACY_HASHES.clear()
        _LEGACY_HASHES[sha256] = (sha1.hexdigest(), md5.hexdigest())
    return _LEGACY_HASHES[sha256]


def _action(
    request: Request,
    session: Session,
    device: Device,
    assignment: Assignment,
    tenant: str,
) -> dict[str, Any]:
    rollout = session.get(Rollout, assignment.rollout_id)
    assert rollout is not None
    release = portfolio.get_release_by_id(session, rollout.release_id)
    product = portfolio.get_product(session, release.product_id)
    storage = service.config(request.app.state.settings).storage
    base = _base_url(request, tenant, device.uid)
    artifacts = []
    for artifact in service.list_artifacts(session, release.id):
        sha1, md5 = _legacy_hashes(storage, artifact.sha256)
        link = f"{base}/softwaremodules/{release.id}/artifacts/{artifact.filename}"
        artifacts.append(
            {
                "filename": artifact.filename,
                "hashes": {"sha1": sha1, "md5": md5, "sha256": artifact.sha256},
                "size": artifact.size,
                "_links": {
                    "download-http": {"href": link},
                    "md5sum-http": {"href": f"{link}.MD5SUM"},
                },
            }
        )
    forced = rollout.mode == "automatic"
    choice, _until = devices._security_choice(session, device, utcnow().date())
    if choice is not rules.SecurityChoice.AUTOMATIC:
        forced = False
    handling = "forced" if forced else "attempt"
    deployment: dict[str, Any] = {
        "download": handling,
        "update": handling,
        "chunks": [
            {
                "part": "os",
                "version": release.version,
                "name": product.name,
                "artifacts": artifacts,
            }
        ],
    }
    if rollout.windows:  # as hawkBit: download ahead, install only inside a window
        if rules.in_window(rollout.windows, utcnow()):
            deployment["maintenanceWindow"] = "available"
        else:
            deployment["maintenanceWindow"] = "unavailable"
            deployment["update"] = "skip"
    return {"id": str(assignment.id), "deployment": deployment}


def _own_assignment(session: Session, device: Device, action_id: str) -> Assignment:
    assignment = session.get(Assignment, int(action_id)) if action_id.isdigit() else None
    if assignment is None or assignment.device_id != device.id:
        raise NotFound(f"this controller has no action {action_id}")
    return assignment


@router.get(BASE + "/deploymentBase/{action_id}")
def deployment_base(
    request: Request,
    tenant: str,
    controller_id: str,
    action_id: str,
    session: DbSession,
    device: DdiDevice,
) -> Response:
    assignment = _own_assignment(session, device, action_id)
    if assignment.status in rules.FINAL_STATUSES:
        raise NotFound(f"action {action_id} is closed")
    return _json(_action(request, session, device, assignment, tenant), request)


@router.get(BASE + "/installedBase/{action_id}")
def installed_base(
    request: Request,
    tenant: str,
    controller_id: str,
    action_id: str,
    session: DbSession,
    device: DdiDevice,
) -> Response:
    assignment = _own_assignment(session, device, action_id)
    if assignment.status != "success":
        raise NotFound(f"action {action_id} did not install successfully")
    return _json(_action(request, session, device, assignment, tenant))


class _Result(BaseModel):
    finished: str = Field(pattern=r"^(success|failure|none)$")
    progress: dict[str, int] | None = None


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    execution: str = Field(
        pattern=r"^(closed|proceeding|canceled|scheduled|rejected|resumed|downloaded|download)$"
    )
    result: _Result
    details: list[str] = Field(default_factory=list, max_length=100)


class DdiFeedback(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: _Status


@router.post(BASE + "/deploymentBase/{action_id}/feedback")
def deployment_feedback(
    tenant: str,
    controller_id: str,
    action_id: str,
    feedback: DdiFeedback,
    session: DbSession,
    device: DdiDevice,
) -> Response:
    assignment = _own_assignment(session, device, action_id)
    execution, finished = feedback.status.execution, feedback.status.result.finished
    detail = "\n".join(feedback.status.details)[-4000:]
    if execution == "closed":
        status = "success" if finished == "success" else "failure"
    elif execution == "rejected":
        status = "failure"
        detail = f"rejected by the device: {detail}"
    else:
        status = _EXECUTION.get(execution, "downloading")
    devices.report_status(
        session, device, StatusIn(assignment=assignment.id, status=status, detail=detail)
    )
    return Response(status_code=200)


@router.get(BASE + "/cancelAction/{action_id}")
def cancel_action(
    tenant: str, controller_id: str, action_id: str, session: DbSession, device: DdiDevice
) -> Response:
    assignment = _own_assignment(session, device, action_id)
    if assignment.status != "cancelled":
        raise NotFound(f"action {action_id} is not being cancelled")
    return _json({"id": str(assignment.id), "cancelAction": {"stopId": str(assignment.id)}})


@router.post(BASE + "/cancelAction/{action_id}/feedback")
def cancel_feedback(
    tenant: str,
    controller_id: str,
    action_id: str,
    feedback: DdiFeedback,
    session: DbSession,
    device: DdiDevice,
) -> Response:
    assignment = _own_assignment(session, device, action_id)
    if assignment.status != "cancelled":
        raise NotFound(f"action {action_id} is not being cancelled")
    if feedback.status.execution in ("closed", "canceled"):
        assignment.detail = "rollout aborted; cancellation confirmed by the device"
        session.commit()
    return Response(status_code=200)


class DdiConfigData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    mode: str = Field(default="merge", pattern=r"^(merge|replace|remove)$")
    data: dict[str, str] = Field(max_length=100)


@router.put(BASE + "/configData")
def config_data(
    tenant: str, controller_id: str, body: DdiConfigData, session: DbSession, device: DdiDevice
) -> Response:
    """Device attributes; `hwRevision` becomes the device's hardware revision."""
    revision = body.data.get("hwRevision")
    if revision:
        device.hardware_revision = revision[:100]
        session.commit()
    return Response(status_code=200)


@router.get(BASE + "/softwaremodules/{module_id}/artifacts/{filename}")
def download(
    request: Request,
    tenant: str,
    controller_id: str,
    module_id: int,
    filename: str,
    session: DbSession,
    device: DdiDevice,
) -> Response:
    md5_file = filename.endswith(".MD5SUM")
    name = filename.removesuffix(".MD5SUM")
    release = portfolio.get_release_by_id(session, module_id)
    if (
        release.product_id != device.product_id
        or service.signed_release(session, module_id) is None
    ):
        raise NotFound(f"no software module {module_id} for this controller")
    artifact = next(
        (a for a in service.list_artifacts(session, module_id) if a.filename == name), None
    )
    if artifact is None:
        raise NotFound(f"software module {module_id} has no artifact {name!r}")
    storage = service.config(request.app.state.settings).storage
    if md5_file:
        _sha1, md5 = _legacy_hashes(storage, artifact.sha256)
        return Response(f"{md5}  {name}\n", media_type="text/plain")
    return file_response(storage, artifact.sha256, request.headers.get("range"))
