"""Exposure and coverage: how many devices run an affected release, how many have the fix, and
how long patching took.

    exposure(session, "CVE-2026-1234")   # per product: exposed, fixed, other, time to patch
    coverage(session, product_id)        # per signed release: devices running it, updated by
                                         # rollouts, median time from signing to installation

A device "has the fix" when it runs a signed release above every affected release of its
product that is not itself affected. Time to patch is measured from the fixing release's
signature to each successful installation reported through a rollout.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetcare.updates.models import Assignment, Device, Rollout, SignedRelease


@dataclass(frozen=True)
class Exposure:
    product_id: int
    exposed_devices: int
    fixed_devices: int
    other_devices: int
    fixed_by: list[str]
    median_days_to_patch: float | None


@dataclass(frozen=True)
class ReleaseCoverage:
    version: str
    release_counter: int
    devices: int
    share: float
    updated_by_rollouts: int
    median_days_to_patch: float | None


def _signed(session: Session, product_id: int) -> dict[int, tuple[int, dt.datetime]]:
    """release id -> (counter, signed at) for the product's signed releases."""
    rows = session.execute(
        select(SignedRelease.release_id, SignedRelease.counter, SignedRelease.signed_at).where(
            SignedRelease.product_id == product_id
        )
    )
    return {release_id: (counter, signed_at) for release_id, counter, signed_at in rows}


def _devices_by_release(session: Session, product_id: int) -> dict[int | None, int]:
    rows = session.execute(
        select(Device.installed_release_id, func.count())
        .where(Device.product_id == product_id, Device.state == "active")
        .group_by(Device.installed_release_id)
    )
    return dict(rows.all())


def _patch_days(
    session: Session, release_ids: set[int], signed_at: dict[int, dt.datetime]
) -> list[float]:
    if not release_ids:
        return []
    rows = session.execute(
        select(Rollout.release_id, Assignment.updated_at)
        .join(Rollout, Rollout.id == Assignment.rollout_id)
        .where(Rollout.release_id.in_(release_ids), Assignment.status == "success")
    )
    return [
        max(0.0, (updated - signed_at[release_id]).total_seconds() / 86400)
        for release_id, updated in rows
    ]


def exposure_of_releases(
    session: Session, product_id: int, affected: set[int], versions: dict[int, str]
) -> Exposure:
    """Exposure of one product's fleet to a vulnerability affecting the `affected` releases."""
    signed = _signed(session, product_id)
    counts = _devices_by_release(session, product_id)
    highest = max((signed[r][0] for r in affected if r in signed), default=0)
    fixing = {r for r, (counter, _) in signed.items() if counter > highest and r not in affected}
    exposed = sum(n for r, n in counts.items() if r in affected)
    fixed = sum(n for r, n in counts.items() if r in fixing)
    days = _patch_days(session, fixing, {r: signed[r][1] for r in fixing})
    return Exposure(
        product_id=product_id,
        exposed_devices=exposed,
        fixed_devices=fixed,
        other_devices=sum(counts.values()) - exposed - fixed,
        fixed_by=sorted((versions.get(r, str(r)) for r in fixing), key=lambda v: v),
        median_days_to_patch=round(statistics.median(days), 2) if days else None,
    )


def exposure(session: Session, vulnerability_id: str) -> list[Exposure]:
    """Per product with findings of this vulnerability (open ones), its fleet's exposure."""
    from fleetcare.matching import service as matching

    affected: dict[int, set[int]] = defaultdict(set)
    versions: dict[int, str] = {}
    for view in matching.findings_for_vulnerability(session, vulnerability_id):
        if not view.withdrawn:
            affected[view.product_id].add(view.release_id)
            versions[view.release_id] = view.release_version
    return [
        exposure_of_releases(session, product_id, releases, _versions(session, product_id))
        for product_id, releases in sorted(affected.items())
    ]


def _versions(session: Session, product_id: int) -> dict[int, str]:
    from fleetcare.portfolio import service as portfolio

    return {r.id: r.version for r in portfolio.list_releases(session, product_id)}


def coverage(session: Session, product_id: int) -> list[ReleaseCoverage]:
    """Every signed release of the product, newest first, with the devices that run it."""
    signed = _signed(session, product_id)
    counts = _devices_by_release(session, product_id)
    total = sum(counts.values()) or 1
    versions = _versions(session, product_id)
    result = []
    for release_id, (counter, signed_at) in sorted(signed.items(), key=lambda i: -i[1][0]):
        days = _patch_days(session, {release_id}, {release_id: signed_at})
        result.append(
            ReleaseCoverage(
                version=versions[release_id],
                release_counter=counter,
                devices=counts.get(release_id, 0),
                share=round(counts.get(release_id, 0) / total, 4),
                updated_by_rollouts=len(days),
                median_days_to_patch=round(statistics.median(days), 2) if days else None,
            )
        )
    return result
