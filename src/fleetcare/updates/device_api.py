"""The native device API under /device/v1.

Every endpoint but enrolment takes a request signed with the device's key (see
`fleetcare.updates.devices`; check-ins may be signed under a session instead) and is
rate-limited per device; a device only ever sees and reports on itself.

    POST /device/v1/enrol                     factory secret -> the device's own key
    POST /device/v1/session                   a check-in session (HMAC key, 24 h)
    GET  /device/v1/checkin?installed=&state= assignment, poll interval, notices (ETag / 304)
    POST /device/v1/status                    progress of an assignment (idempotent)
    GET  /device/v1/tuf/metadata/{file}       TUF metadata (consistent snapshot names)
    GET  /device/v1/tuf/targets/{path}        artifacts, with HTTP Range for resuming
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from fleetcare.core.errors import FleetcareError, NotAuthenticated, RateLimited
from fleetcare.core.http import DbSession, public
from fleetcare.core.ratelimit import SlidingWindowLimiter
from fleetcare.updates import devices, push, repository, service
from fleetcare.updates.models import Device
from fleetcare.updates.schemas import EnrolIn, StatusIn
from fleetcare.updates.storage import ArtifactStorage

DEVICE_PREFIX = "/device/v1"
router = APIRouter(prefix=DEVICE_PREFIX, tags=["device"])


class RangeNotSatisfiable(FleetcareError):
    status_code = 416


async def _body(request: Request) -> bytes:
    return await request.body()


def device_limiter(state: Any, bucket: str) -> SlidingWindowLimiter:
    """The app's limiter of a device bucket ("device", or "device-refused" per address),
    shared by these routes, DDI and the device hot path."""
    limiters = state.rate_limiters
    limiter = limiters.get(bucket)
    if limiter is None:
        limiter = limiters.setdefault(
            bucket, SlidingWindowLimiter(state.settings.device_rate_limit)
        )
    return limiter  # type: ignore[no-any-return]


def limit_device(request: Request, bucket: str, key: str) -> None:
    """Count one request of `key` in `bucket` (per device, or per address for refusals)."""
    retry_after = device_limiter(request.app.state, bucket).hit(key)
    if retry_after is not None:
        raise RateLimited(
            f"too many requests; try again in {retry_after} seconds",
            {"retry_after": retry_after},
        )


def _authenticate(request: Request, session: Session, body: bytes, *, sessions: bool) -> Device:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    session_id = request.headers.get("x-fleetcare-session", "")
    try:
        if session_id and not sessions:
            raise NotAuthenticated(
                "a device session signs check-ins only; sign this request with the device's key"
            )
        device = devices.authenticate(
            session,
            request.headers.get("x-fleetcare-device", ""),
            request.headers.get("x-fleetcare-seq", ""),
            request.headers.get("x-fleetcare-signature", ""),
            request.method,
            target,
            body,
            session_id=session_id,
            settings=request.app.state.settings,
        )
    except NotAuthenticated:
        limit_device(request, "device-refused", request.client.host if request.client else "")
        raise
    limit_device(request, "device", device.uid)
    return device


def device_auth(request: Request, session: DbSession, body: bytes = Depends(_body)) -> Device:
    """The device that signed this request with its key; refuses forgeries, replays and
    floods (per device, and per client address for requests that fail authentication)."""
    return _authenticate(request, session, body, sessions=False)


def device_auth_or_session(
    request: Request, session: DbSession, body: bytes = Depends(_body)
) -> Device:
    """`device_auth`, or a check-in signed under a device session."""
    return _authenticate(request, session, body, sessions=True)


device_auth.fleetcare_device = True  # type: ignore[attr-defined]
device_auth_or_session.fleetcare_device = True  # type: ignore[attr-defined]
AuthenticDevice = Annotated[Device, Depends(device_auth)]
CheckingInDevice = Annotated[Device, Depends(device_auth_or_session)]


def encode_answer(body: dict[str, Any], *, sort_keys: bool = True) -> tuple[bytes, str]:
    """The JSON bytes of an answer and its ETag (a device sends it back as If-None-Match)."""
    encoded = json.dumps(body, sort_keys=sort_keys, separators=(",", ":")).encode()
    return encoded, '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'


@router.post("/enrol", dependencies=[Depends(public("device-enrol", 30))])
def enrol(data: EnrolIn, session: DbSession) -> dict[str, str]:
    """Enrol with the factory secret and the public key the device generated."""
    device = devices.enrol(session, data.device, data.secret, data.public_key)
    session.commit()
    return {"device": device.uid, "state": device.state}


@router.post("/session")
def open_session(request: Request, device: AuthenticDevice) -> dict[str, Any]:
    """A check-in session: its id, the key that signs check-ins with HMAC-SHA256, and when it
    expires (see `fleetcare.updates.devices`)."""
    return devices.open_session(request.app.state.settings, device)


@router.get("/checkin")
def checkin(
    request: Request,
    session: DbSession,
    device: CheckingInDevice,
    installed: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    body = devices.checkin(
        session,
        request.app.state.settings,
        device,
        installed_version=installed,
        device_state=state,
    )
    encoded, etag = encode_answer(body)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(encoded, media_type="application/json", headers={"ETag": etag})


@router.post("/status")
def report_status(
    request: Request, data: StatusIn, session: DbSession, device: AuthenticDevice
) -> dict[str, Any]:
    settings = request.app.state.settings

    def wave_opened(rollout_id: int) -> None:
        push.notify_rollout(session, settings, rollout_id)

    return devices.report_status(session, device, data, wave_opened)


@router.get("/tuf/metadata/{filename}")
def tuf_metadata(filename: str, session: DbSession, device: AuthenticDevice) -> Response:
    body = repository.metadata_file(session, filename)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range, None for the whole file."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first_text, dash, last_text = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or "," in spec:
        raise RangeNotSatisfiable("only a single 'bytes=first-last' range is supported")
    try:
        if first_text == "":
            first, last = max(0, size - int(last_text)), size - 1
        else:
            first = int(first_text)
            last = int(last_text) if last_text else size - 1
    except ValueError:
        raise RangeNotSatisfiable(f"malformed range {header!r}") from None
    if first >= size or last < first:
        raise RangeNotSatisfiable(f"range {header!r} is outside the {size} bytes of the file")
    return first, min(last, size - 1)


def file_response(storage: ArtifactStorage, digest: str, range_header: str | None) -> Response:
    """The stored file, whole (200) or one byte range (206) for resuming, streamed."""
    size = storage.size(digest)
    wanted = _byte_range(range_header, size)
    first, last = wanted or (0, size - 1)
    handle = storage.open(digest)
    handle.seek(first)

    def chunks() -> Iterator[bytes]:
        remaining = last - first + 1
        with handle:
            while remaining > 0:
                chunk = handle.read(min(remaining, 256 * 1024))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    headers = {"Accept-Ranges": "bytes", "Content-Length": str(last - first + 1)}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(
        chunks(),
        status_code=206 if wanted is not None else 200,
        media_type="application/octet-stream",
        headers=headers,
    )


@router.get("/tuf/targets/{path:path}")
def tuf_target(
    request: Request, path: str, session: DbSession, device: AuthenticDevice
) -> Response:
    artifact = service.find_target(session, path)
    storage = service.config(request.app.state.settings).storage
    return file_response(storage, artifact.sha256, request.headers.get("range"))
