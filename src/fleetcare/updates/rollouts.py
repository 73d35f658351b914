"""Rollouts: a signed release offered to chosen devices in waves.

    rollout = create(session, RolloutIn(...), actor=who)     # draft
    start(session, rollout.id, actor=who)                    # assigns devices, opens wave 1
    tick(session)                                            # job: adds devices that joined,
                                                             # advances or pauses waves

A wave advances once its successes reach its success threshold and pauses the rollout once its
failures pass its failure threshold. Devices learn of their assignment at check-in
(`offer_for`), never for a release at or below what they run. A rollout with maintenance
windows offers outside them too, marked `"window": "closed"`: the device may download and
verify ahead, and installs only once the answer says `"open"` (hawkBit's `maintenanceWindow`).
Security releases (kind security or mixed) are automatic unless the device or its customer
opted out or postponed; feature releases are only offered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, NotFound, RuleViolation
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import rules
from fleetcare.updates.models import Assignment, Device, Rollout, RolloutWave, SignedRelease
from fleetcare.updates.schemas import RolloutIn, RolloutOut, WaveOut

SECURITY_KINDS = portfolio.SECURITY_KINDS


def _audit(session: Session, actor: Principal, rollout: Rollout, action: str, **after: Any) -> None:
    audit.record(
        session,
        actor=actor.actor,
        action=f"rollout.{action}",
        object_type="rollout",
        object_id=rollout.id,
        after={"status": rollout.status, **after},
    )


def get(session: Session, rollout_id: int) -> Rollout:
    rollout = session.get(Rollout, rollout_id)
    if rollout is None:
        raise NotFound(f"no rollout {rollout_id}")
    return rollout


def waves_of(session: Session, rollout_id: int) -> list[RolloutWave]:
    return list(
        session.execute(
            select(RolloutWave)
            .where(RolloutWave.rollout_id == rollout_id)
            .order_by(RolloutWave.position)
        ).scalars()
    )


def release_of(session: Session, rollout_id: int) -> tuple[int, int]:
    """(release id, release counter) of the rollout's release."""
    row = session.execute(
        select(Rollout.release_id, SignedRelease.counter)
        .join(SignedRelease, SignedRelease.release_id == Rollout.release_id)
        .where(Rollout.id == rollout_id)
    ).one()
    return int(row[0]), int(row[1])


def create(session: Session, data: RolloutIn, *, actor: Principal) -> Rollout:
    release = portfolio.get_release(session, data.product, data.version)
    signed = session.execute(
        select(SignedRelease).where(SignedRelease.release_id == release.id)
    ).scalar()
    if signed is None:
        raise RuleViolation(f"release {data.version} is not signed yet: sign it before a rollout")
    _check_support(session, release.product_id, release.kind)
    percents = [w.percent for w in data.waves if w.percent is not None]
    if percents != sorted(set(percents)):
        raise RuleViolation("wave percentages are cumulative and must rise from wave to wave")
    windows = [w.model_dump() for w in data.windows]
    problem = rules.check_windows(windows)
    if problem:
        raise RuleViolation(problem)
    rollout = Rollout(
        name=data.name,
        release_id=release.id,
        product_id=release.product_id,
        selection=data.selection.model_dump(),
        mode="automatic" if release.kind in SECURITY_KINDS else "offered",
        windows=windows,
        created_by=actor.actor,
    )
    session.add(rollout)
    session.flush()
    for position, wave in enumerate(data.waves):
        session.add(
            RolloutWave(
                rollout_id=rollout.id,
                position=position,
                percent=wave.percent,
                groups=wave.groups,
                success_threshold=wave.success_threshold,
                failure_threshold=wave.failure_threshold,
            )
        )
    session.flush()
    _audit(session, actor, rollout, "create", version=data.version, mode=rollout.mode)
    return rollout


def _check_support(session: Session, product_id: int, kind: str) -> None:
    """After support end, feature rollouts stop; security releases still go out."""
    from fleetcare.updates.devices import _lifecycle

    lifecycle = _lifecycle()
    if lifecycle is not None:
        lifecycle.check_rollout_allowed(session, product_id, kind)
        return
    product = portfolio.get_product(session, product_id)
    if kind not in SECURITY_KINDS and utcnow().date() > product.support_end:
        raise RuleViolation(
            f"security support for {product.name} ended on {product.support_end}: feature "
            "rollouts stop at support end, only security releases may still be rolled out"
        )


def _matches(device: Device, selection: dict[str, Any]) -> bool:
    if (
        selection.get("installed_versions")
        and device.installed_version not in selection["installed_versions"]
    ):
        return False
    if selection.get("groups") and not set(selection["groups"]) & set(device.groups or []):
        return False
    if selection.get("tags") and not set(selection["tags"]) & set(device.tags or []):
        return False
    return not (selection.get("customers") and device.customer not in selection["customers"])


def assign_new_devices(session: Session, rollout: Rollout) -> int:
    """Give every device in the target set that has no assignment yet its wave (devices that
    joined after the start are included this way). Devices at or above the release are left out."""
    _, counter = release_of(session, rollout.id)
    waves = [(w.percent, w.groups) for w in waves_of(session, rollout.id)]
    assigned = select(Assignment.device_id).where(Assignment.rollout_id == rollout.id)
    candidates = session.execute(
        select(Device).where(
            Device.product_id == rollout.product_id,
            Device.state != "decommissioned",
            Device.installed_counter < counter,
            Device.id.notin_(assigned),
        )
    ).scalars()
    now = utcnow()
    rows = [
        {
            "rollout_id": rollout.id,
            "device_id": device.id,
            "wave": rules.wave_for(
                rules.rollout_position(rollout.id, device.uid), device.groups or [], waves
            ),
            "status": "pending",
            "detail": "",
            "created_at": now,
            "updated_at": now,
        }
        for device in candidates
        if _matches(device, rollout.selection or {})
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(Assignment), rows[start : start + 1000])
    return len(rows)


def start(session: Session, rollout_id: int, *, actor: Principal) -> Rollout:
    rollout = get(session, rollout_id)
    if rollout.status != "draft":
        raise Conflict(f"rollout {rollout_id} is {rollout.status}; only a draft can start")
    _check_support(
        session, rollout.product_id, portfolio.get_release_by_id(session, rollout.release_id).kind
    )
    rollout.status = "running"
    rollout.current_wave = 0
    count = assign_new_devices(session, rollout)
    waves_of(session, rollout.id)[0].started_at = utcnow()
    session.flush()
    _audit(session, actor, rollout, "start", devices=count)
    evaluate(session, rollout.id)
    return rollout


def pause(session: Session, rollout_id: int, *, actor: Principal, reason: str = "") -> Rollout:
    rollout = get(session, rollout_id)
    if rollout.status != "running":
        raise Conflict(f"rollout {rollout_id} is {rollout.status}; only a running one can pause")
    rollout.status = "paused"
    rollout.pause_reason = reason or f"paused by {actor.actor}"
    session.flush()
    _audit(session, actor, rollout, "pause", reason=rollout.pause_reason)
    return rollout


def resume(session: Session, rollout_id: int, *, actor: Principal) -> Rollout:
    rollout = get(session, rollout_id)
    if rollout.status != "paused":
        raise Conflict(f"rollout {rollout_id} is {rollout.status}; only a paused one can resume")
    rollout.status = "running"
    rollout.pause_reason = ""
    session.flush()
    _audit(session, actor, rollout, "resume")
    return rollout


def abort(session: Session, rollout_id: int, *, actor: Principal) -> Rollout:
    rollout = get(session, rollout_id)
    if rollout.status in ("finished", "aborted"):
        raise Conflict(f"rollout {rollout_id} is already {rollout.status}")
    rollout.status = "aborted"
    session.execute(
        update(Assignment)
        .where(Assignment.rollout_id == rollout.id, Assignment.status == "pending")
        .values(status="cancelled", detail="rollout aborted")
    )
    session.flush()
    _audit(session, actor, rollout, "abort")
    return rollout


def wave_counts(
    session: Session, rollout_id: int, wave: int | None = None
) -> dict[int, dict[str, int]]:
    """Assignments per wave and status, of every wave or of one."""
    query = select(Assignment.wave, Assignment.status, func.count()).where(
        Assignment.rollout_id == rollout_id
    )
    if wave is not None:
        query = query.where(Assignment.wave == wave)
    counts: dict[int, dict[str, int]] = {}
    for number_wave, status, number in session.execute(
        query.group_by(Assignment.wave, Assignment.status)
    ):
        counts.setdefault(number_wave, {})[status] = number
    return counts


def evaluate(session: Session, rollout_id: int) -> str:
    """Advance or pause a running rollout by its current wave's results; returns its status."""
    rollout = get(session, rollout_id)
    waves = waves_of(session, rollout.id)
    while rollout.status == "running":
        wave = waves[rollout.current_wave]
        # Only the open wave's counts: every final report of a device runs this, and counting
        # the whole rollout each time made a rollout quadratic in its fleet.
        counts = wave_counts(session, rollout.id, rollout.current_wave)
        mine = counts.get(rollout.current_wave, {})
        verdict = rules.wave_verdict(
            rules.WaveCounts(
                size=sum(v for k, v in mine.items() if k != "cancelled"),
                success=mine.get("success", 0),
                failure=mine.get("failure", 0),
            ),
            wave.success_threshold,
            wave.failure_threshold,
        )
        if verdict is rules.WaveVerdict.PAUSE:
            rollout.status = "paused"
            rollout.pause_reason = (
                f"wave {wave.position + 1}: {mine.get('failure', 0)} failures passed the "
                f"threshold of {wave.failure_threshold}%"
            )
            audit.record(
                session,
                actor="system:rollouts",
                action="rollout.pause",
                object_type="rollout",
                object_id=rollout.id,
                after={"status": "paused", "reason": rollout.pause_reason},
            )
        elif verdict is rules.WaveVerdict.ADVANCE:
            last = rollout.current_wave + 1 >= len(waves)
            if last and any(mine.get(s, 0) for s in ("pending", "downloading", "installing")):
                break  # the last wave finishes once every device in it has answered
            wave.finished_at = utcnow()
            if last:
                rollout.status = "finished"
            else:
                rollout.current_wave += 1
                waves[rollout.current_wave].started_at = utcnow()
        else:
            break
    session.flush()
    return rollout.status


def tick(session: Session) -> list[int]:
    """Job body: include devices that joined, then re-evaluate every running rollout. Returns
    the rollouts that have devices to tell (new assignments, or a wave that opened)."""
    running = list(session.execute(select(Rollout).where(Rollout.status == "running")).scalars())
    changed = []
    for rollout in running:
        wave = rollout.current_wave
        added = assign_new_devices(session, rollout)
        if evaluate(session, rollout.id) == "running" and (added or rollout.current_wave != wave):
            changed.append(rollout.id)
    return changed


@dataclass(frozen=True)
class OfferDetails:
    """What a check-in says about a rollout's release; fixed once the release is signed, so
    the device hot path (`fleetcare.updates.fastpath`) keeps it for a minute."""

    release_id: int
    counter: int
    version: str
    kind: str
    targets: tuple[str, ...]


def offer_details(session: Session, rollout_id: int) -> OfferDetails:
    from fleetcare.updates import service  # the artifacts of the release

    release_id, counter = release_of(session, rollout_id)
    release = portfolio.get_release_by_id(session, release_id)
    return OfferDetails(
        release_id=release_id,
        counter=counter,
        version=release.version,
        kind=release.kind,
        targets=tuple(
            f"{release.product_id}/{release.version}/{a.filename}"
            for a in service.list_artifacts(session, release_id)
        ),
    )


def cancelled_detail(installed_counter: int) -> str:
    return f"device already runs release counter {installed_counter}"


def build_offer(
    *,
    assignment_id: int,
    assignment_status: str,
    rollout_id: int,
    rollout_mode: str,
    windows: list[dict[str, Any]],
    details: OfferDetails,
    installed_counter: int,
    choice: rules.SecurityChoice,
    now: dt.datetime,
) -> tuple[dict[str, Any] | None, bool]:
    """(the offer as the check-in shows it or None, whether the assignment must be cancelled
    because the device already runs that release or a later one). A rollout with maintenance
    windows says whether one is open now (`window`): outside them, download only."""
    if not rules.may_offer(details.counter, installed_counter):
        return None, True
    automatic = rollout_mode == "automatic" and choice is rules.SecurityChoice.AUTOMATIC
    offer = {
        "id": assignment_id,
        "rollout": rollout_id,
        "version": details.version,
        "kind": details.kind,
        "release_counter": details.counter,
        "install": "automatic" if automatic else "offered",
        "status": assignment_status,
        "targets": list(details.targets),
    }
    if windows:
        offer["window"] = "open" if rules.in_window(windows, now) else "closed"
    return offer, False


def offer_for(
    session: Session, device: Device, choice: rules.SecurityChoice, now: dt.datetime
) -> dict[str, Any] | None:
    """The device's open assignment as the check-in shows it, or None."""
    row = session.execute(
        select(Assignment, Rollout)
        .join(Rollout, Rollout.id == Assignment.rollout_id)
        .where(
            Assignment.device_id == device.id,
            Assignment.status.notin_(rules.FINAL_STATUSES),
            Rollout.status == "running",
            Assignment.wave <= Rollout.current_wave,
        )
        .order_by(Rollout.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    assignment, rollout = row
    offer, cancel = build_offer(
        assignment_id=assignment.id,
        assignment_status=assignment.status,
        rollout_id=rollout.id,
        rollout_mode=rollout.mode,
        windows=rollout.windows or [],
        details=offer_details(session, rollout.id),
        installed_counter=device.installed_counter,
        choice=choice,
        now=now,
    )
    if cancel:
        assignment.status = "cancelled"
        assignment.detail = cancelled_detail(device.installed_counter)
    return offer


def rollout_out(session: Session, rollout: Rollout) -> RolloutOut:
    counts = wave_counts(session, rollout.id)
    release = portfolio.get_release_by_id(session, rollout.release_id)
    return RolloutOut(
        id=rollout.id,
        name=rollout.name,
        product_id=rollout.product_id,
        version=release.version,
        mode=rollout.mode,
        status=rollout.status,
        current_wave=rollout.current_wave,
        pause_reason=rollout.pause_reason,
        selection=rollout.selection or {},
        windows=rollout.windows or [],
        waves=[
            WaveOut(
                position=w.position,
                percent=w.percent,
                groups=list(w.groups or []),
                success_threshold=w.success_threshold,
                failure_threshold=w.failure_threshold,
                size=sum(counts.get(w.position, {}).values()),
                counts=counts.get(w.position, {}),
                started_at=w.started_at,
                finished_at=w.finished_at,
            )
            for w in waves_of(session, rollout.id)
        ],
    )


def list_rollouts(session: Session) -> list[Rollout]:
    return list(session.execute(select(Rollout).order_by(Rollout.id.desc())).scalars())


def fleet_by_release(session: Session, product_id: int | None = None) -> list[tuple[str, int]]:
    """(installed version, devices) for active devices, most common first."""
    query = (
        select(Device.installed_version, func.count())
        .where(Device.state == "active")
        .group_by(Device.installed_version)
        .order_by(func.count().desc(), Device.installed_version)
    )
    if product_id is not None:
        query = query.where(Device.product_id == product_id)
    return [(version or "unknown", count) for version, count in session.execute(query)]
