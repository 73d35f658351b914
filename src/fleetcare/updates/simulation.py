"""Simulated devices, for tests, benchmarks, demos and load tests.

`run_rollout()` drives a rollout through the service layer: every device of the open wave
reports success, or failure with the probability given for that wave, until the rollout
finishes or pauses. `simulate_fleet()` does the same over HTTP against a running server:
it registers devices through the API, enrols them, and lets each check in and report.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.updates import devices, rollouts
from fleetcare.updates.models import Assignment, Device
from fleetcare.updates.schemas import StatusIn


@dataclass
class RolloutRun:
    status: str
    reports: int = 0
    per_wave: dict[int, Counter[str]] = field(default_factory=dict)


def run_rollout(
    session: Session,
    rollout_id: int,
    failure_rates: Sequence[float],
    *,
    seed: int = 1,
    max_rounds: int = 50,
) -> RolloutRun:
    """Let every device of the open wave report until the rollout finishes or pauses."""
    rng = random.Random(seed)  # noqa: S311 - simulated outcomes, not secrets
    run = RolloutRun(status=rollouts.get(session, rollout_id).status)
    for _ in range(max_rounds):
        rollout = rollouts.get(session, rollout_id)
        if rollout.status != "running":
            break
        wave = rollout.current_wave
        open_rows = session.execute(
            select(Assignment.id, Device)
            .join(Device, Device.id == Assignment.device_id)
            .where(
                Assignment.rollout_id == rollout_id,
                Assignment.wave == wave,
                Assignment.status == "pending",
            )
            .order_by(Assignment.id)
        ).all()
        if not open_rows:
            rollouts.evaluate(session, rollout_id)
            session.commit()
            if rollouts.get(session, rollout_id).status == "running" and (
                rollouts.get(session, rollout_id).current_wave == wave
            ):
                break  # waiting on devices that are not pending: nothing more to simulate
            continue
        rate = failure_rates[min(wave, len(failure_rates) - 1)]
        for assignment_id, device in open_rows:
            if rollouts.get(session, rollout_id).status != "running":
                break
            status = "failure" if rng.random() < rate else "success"
            devices.report_status(
                session, device, StatusIn(assignment=assignment_id, status=status)
            )
            run.reports += 1
            run.per_wave.setdefault(wave, Counter())[status] += 1
    run.status = rollouts.get(session, rollout_id).status
    return run


def simulate_fleet(
    http: httpx.Client,
    token: str,
    product: str,
    count: int,
    *,
    installed: str,
    rounds: int = 3,
    failure_rate: float = 0.0,
    prefix: str = "sim",
    after_registration: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Register `count` devices through the API (with their own keys), then run `rounds`
    check-ins each; a device with an automatic assignment reports downloading, then success or
    (with `failure_rate`) failure, and reports the new version from then on."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fleetcare.updates.agent import DeviceClient, DeviceIdentity

    rng = random.Random()  # noqa: S311 - simulated outcomes, not secrets
    tag = secrets.token_hex(3)
    identities = [
        DeviceIdentity(f"{prefix}-{tag}-{i:06d}", Ed25519PrivateKey.generate())
        for i in range(count)
    ]
    outcome: Counter[str] = Counter()
    for start in range(0, count, 5000):
        batch = identities[start : start + 5000]
        response = http.post(
            "/api/v1/devices",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "product": product,
                "devices": [{"uid": d.uid, "public_key": d.public_key_hex} for d in batch],
            },
        )
        if response.status_code != 201:
            raise RuntimeError(f"registering devices failed: {response.text}")
    if after_registration is not None:
        after_registration()
    clients = [DeviceClient(http, identity) for identity in identities]
    running = {identity.uid: installed for identity in identities}
    for _ in range(rounds):
        for client in clients:
            answer = client.checkin(installed=running[client.identity.uid])
            outcome[f"check-in {answer.status_code}"] += 1
            if answer.status_code != 200:
                continue
            assignment = answer.json().get("assignment")
            if assignment and assignment["install"] == "automatic":
                client.report(assignment["id"], "downloading")
                status = "failure" if rng.random() < failure_rate else "success"
                client.report(assignment["id"], status, "simulated")
                outcome[status] += 1
                if status == "success":
                    running[client.identity.uid] = assignment["version"]
    return dict(outcome)
