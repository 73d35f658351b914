"""Pages of updates: rollouts with their progress per wave, the fleet by installed release, and
the device registry.

    GET  /updates/devices?product=gateway&state=active&not_seen_days=7&sort=-last_checkin
    GET  /updates/devices/{uid}                         one device and its assignments
    POST /updates/devices/{uid}/decommission            (confirm box ticked)
    POST /updates/devices/{uid}/update-settings         automatic / opt_out, postponed until

Everyone with an account reads them; release managers pause, resume, abort and start
rollouts, decommission devices and set a device's security-update choice from here. Charts are
SVG drawn on the server (see `fleetcare.updates.charts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from fleetcare.core.auth import Principal, Role
from fleetcare.core.db import utcnow
from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.models import Release
from fleetcare.updates import charts, devices, push, repository, rollouts, rules, service
from fleetcare.updates.models import Assignment, CustomerUpdatePolicy, Device, Rollout
from fleetcare.updates.schemas import UpdateSettingsIn
from fleetcare.web.auth import AnyUser, ReleaseManager, allowed, check_csrf, page
from fleetcare.web.query_params import page_number, query_string, read_params
from fleetcare.web.rendering import refused, render

router = APIRouter(tags=["pages"])
#: Acting on a device (decommission, its security-update choice): the API's rule, release
#: managers and admins; product managers run rollouts but do not manage devices.
DeviceManager = Annotated[Principal, Depends(page(Role.RELEASE))]


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


# --- the device registry -------------------------------------------------------------------

#: Devices per page of the registry.
DEVICE_PAGE_SIZE = 100
DEVICE_STATES = ("preauthorised", "active", "decommissioned")
#: The registry's orders, as the sort menu names them.
DEVICE_SORTS = {
    "uid": "Device id, A to Z",
    "-uid": "Device id, Z to A",
    "-last_checkin": "Last check-in, latest first",
    "last_checkin": "Last check-in, longest unseen first",
}
#: The largest "not seen for more than N days" the filter reads (a hundred years).
MAX_UNSEEN_DAYS = 36500
#: What a device page says after a form went through (`?done=...`: no text from the address).
DEVICE_DONE = {
    "decommissioned": "The device was decommissioned: its key and any unused factory secret "
    "were removed, so its requests are refused from now on.",
    "settings": "The device's security-update setting was saved.",
}
#: The settings form's fields as their labels name them.
SETTINGS_LABELS = {"security_updates": "Security updates", "postponed_until": "Postponed until"}


def _one_of(options: tuple[str, ...]) -> Callable[[str], str]:
    def read(value: str) -> str:
        if value not in options:
            raise ValueError(f"is not one of {', '.join(options)}")
        return value

    return read


def _days(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_UNSEEN_DAYS:
        raise ValueError(f"is not a number of days from 1 to {MAX_UNSEEN_DAYS}")
    return int(value)


#: Query parameter -> (the filter form's label for it, how to read it).
_DEVICE_PARAMS: dict[str, tuple[str, Callable[[str], object]]] = {
    "product": ("Product", str),
    "state": ("State", _one_of(DEVICE_STATES)),
    "version": ("Installed version", str),
    "customer": ("Customer", str),
    "group": ("Group", str),
    "tag": ("Tag", str),
    "uid": ("Device id starts with", str),
    "not_seen_days": ("Not seen for more than", _days),
    "sort": ("Sort", _one_of(tuple(DEVICE_SORTS))),
    "page": ("Page", page_number),
}


@dataclass(frozen=True)
class DeviceQuery:
    """What the registry page was asked to show; every filter optional, as on the form. A value
    that cannot be read from a hand-edited address is dropped and named in `problems`."""

    product: str | None = None  # product slug (or id or name, as the API accepts)
    state: str | None = None
    version: str | None = None  # installed version, exactly
    customer: str | None = None  # exactly
    group: str | None = None
    tag: str | None = None
    uid: str | None = None  # the start of the device id
    not_seen_days: int | None = None
    sort: str = "uid"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[DeviceQuery, list[str]]:
        values, problems = read_params(params, _DEVICE_PARAMS)
        return cls(**values), problems

    @property
    def offset(self) -> int:
        return (self.page - 1) * DEVICE_PAGE_SIZE

    @property
    def narrowed(self) -> bool:
        return any(
            getattr(self, f.name) is not None
            for f in fields(self)
            if f.name not in ("sort", "page")
        )

    def query_string(self, **changes: Any) -> str:
        """These filters (with `changes`) as a query string, leaving out what is not set."""
        return query_string(self, **changes)


@dataclass(frozen=True)
class DeviceAssignment:
    """A device's part in a rollout, with what the pages show of the rollout."""

    device_id: int
    rollout_id: int
    rollout_name: str
    rollout_status: str
    version: str
    wave: int
    status: str
    detail: str
    updated_at: dt.datetime

    @property
    def open(self) -> bool:
        """Not finished, in a rollout that still goes on."""
        return self.status not in rules.FINAL_STATUSES and self.rollout_status in (
            "running",
            "paused",
        )


def device_url(uid: str) -> str:
    return f"/updates/devices/{quote(uid, safe='')}"


def _assignments(session: Session, *conditions: Any) -> list[DeviceAssignment]:
    rows = session.execute(
        select(Assignment, Rollout.name, Rollout.status, Release.version)
        .join(Rollout, Rollout.id == Assignment.rollout_id)
        .join(Release, Release.id == Rollout.release_id)
        .where(*conditions)
        .order_by(Assignment.rollout_id.desc(), Assignment.id.desc())
    )
    return [
        DeviceAssignment(
            device_id=a.device_id,
            rollout_id=a.rollout_id,
            rollout_name=name,
            rollout_status=rollout_status,
            version=version,
            wave=a.wave,
            status=a.status,
            detail=a.detail,
            updated_at=a.updated_at,
        )
        for a, name, rollout_status, version in rows
    ]


def _open_assignments(session: Session, device_ids: list[int]) -> dict[int, DeviceAssignment]:
    """Each listed device's open assignment (of its latest rollout, if it has several)."""
    if not device_ids:
        return {}
    found: dict[int, DeviceAssignment] = {}
    for a in _assignments(
        session,
        Assignment.device_id.in_(device_ids),
        Assignment.status.notin_(rules.FINAL_STATUSES),
        Rollout.status.in_(("running", "paused")),
    ):
        found.setdefault(a.device_id, a)
    return found


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: first, last and two either side of `page`; None for a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


@router.get("/updates/devices")
def device_registry(request: Request, session: DbSession, who: AnyUser) -> Response:
    query, problems = DeviceQuery.from_params(request.query_params)
    products = sorted(portfolio.list_products(session, limit=1000)[0], key=lambda p: p.name.lower())
    product_id = None
    if query.product:
        try:
            product_id = portfolio.get_product(session, query.product).id
        except FleetcareError as exc:
            problems.append(f"Product: {exc.message}; showing every product")
            query = replace(query, product=None)

    def search(query: DeviceQuery) -> tuple[list[Device], int]:
        return devices.search_devices(
            session,
            product_id=product_id,
            state=query.state,
            installed_version=query.version,
            customer=query.customer,
            group=query.group,
            tag=query.tag,
            uid_prefix=query.uid,
            not_seen_days=query.not_seen_days,
            sort=query.sort,
            limit=DEVICE_PAGE_SIZE,
            offset=query.offset,
        )

    found, total = search(query)
    pages = max(1, -(-total // DEVICE_PAGE_SIZE))
    if query.page > pages:  # past the end (the fleet shrank, or a hand-edited address)
        query = replace(query, page=pages)
        found, total = search(query)
    names = {p.id: p.name for p in products}
    for missing in {d.product_id for d in found} - names.keys():
        names[missing] = portfolio.get_product(session, missing).name
    return render(
        request,
        "devices.html",
        devices=found,
        total=total,
        query=query,
        problems=problems,
        products=products,
        product_id=product_id,
        product_names=names,
        open_assignments=_open_assignments(session, [d.id for d in found]),
        page_size=DEVICE_PAGE_SIZE,
        pages=pages,
        page_numbers=_page_numbers(query.page, pages),
        states=DEVICE_STATES,
        sorts=DEVICE_SORTS,
        device_url=device_url,
    )


def _render_device(
    request: Request,
    session: Session,
    device: Device,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    today = utcnow().date()
    policy = None
    if device.customer:
        policy = session.execute(
            select(CustomerUpdatePolicy).where(CustomerUpdatePolicy.customer == device.customer)
        ).scalar()
    choice, until = rules.security_choice(
        device.security_updates,
        device.postponed_until,
        policy.security_updates if policy else None,
        policy.postponed_until if policy else None,
        today,
    )
    current = {
        "security_updates": device.security_updates,
        "postponed_until": device.postponed_until.isoformat() if device.postponed_until else "",
    }
    return render(
        request,
        "device.html",
        status_code=status_code,
        device=device,
        product=portfolio.get_product(session, device.product_id),
        assignments=_assignments(session, Assignment.device_id == device.id),
        policy=policy,
        choice=choice.value,
        choice_until=until,
        may_act=allowed(request.state.principal, DeviceManager),
        form=form or current,
        errors=errors or [],
        notice=notice,
        postpone_from=today + dt.timedelta(days=1),
        postpone_until=today + dt.timedelta(days=settings.security_postpone_max_days),
        postpone_max_days=settings.security_postpone_max_days,
        device_url=device_url,
    )


@router.get("/updates/devices/{uid}")
def device_page(request: Request, uid: str, session: DbSession, who: AnyUser) -> Response:
    device = devices.get_device(session, uid)
    notice = DEVICE_DONE.get(request.query_params.get("done", ""), "")
    return _render_device(request, session, device, notice=notice)


@router.post("/updates/devices/{uid}/decommission")
async def decommission_device(request: Request, uid: str, who: DeviceManager) -> Response:
    form = await check_csrf(request)
    with request.app.state.db.session() as session:
        device = devices.get_device(session, uid)
        if not form.get("confirm"):
            return _render_device(
                request,
                session,
                device,
                errors=["Tick “Yes, decommission this device” to confirm; nothing was changed."],
                status_code=422,
            )
        devices.decommission(session, device.uid, actor=who)
        session.commit()
        target = device_url(device.uid)
    return RedirectResponse(f"{target}?done=decommissioned", status_code=303)


@router.post("/updates/devices/{uid}/update-settings")
async def device_update_settings(request: Request, uid: str, who: DeviceManager) -> Response:
    form = await check_csrf(request)
    submitted = {
        "security_updates": str(form.get("security_updates", "")).strip()[:50],
        "postponed_until": str(form.get("postponed_until", "")).strip()[:50],
    }
    with request.app.state.db.session() as session:
        device = devices.get_device(session, uid)
        try:
            data = UpdateSettingsIn.model_validate(
                {
                    "security_updates": submitted["security_updates"],
                    "postponed_until": submitted["postponed_until"] or None,
                }
            )
            devices.set_device_update_settings(
                session, request.app.state.settings, device.uid, data, actor=who
            )
            session.commit()
        except (ValidationError, FleetcareError) as exc:
            errors, status_code = refused(session, exc, SETTINGS_LABELS)
            return _render_device(
                request, session, device, errors=errors, form=submitted, status_code=status_code
            )
        target = device_url(device.uid)
    return RedirectResponse(f"{target}?done=settings", status_code=303)
