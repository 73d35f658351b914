"""The update pages: the fleet chart, rollouts with their waves, and pausing from the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from fleetcare.core.auth import Role
from fleetcare.updates import rollouts
from fleetcare.updates.models import Device
from fleetcare.updates.schemas import RolloutIn, WaveIn
from tests.updates.conftest import ACTOR, Fleet, make_fleet, register


@pytest.fixture
def fleet(database, settings, tmp_path) -> Fleet:  # type: ignore[no-untyped-def]
    return make_fleet(database, settings, tmp_path)


def _running_rollout(database) -> int:  # type: ignore[no-untyped-def]
    register(database, [f"dev-{i}" for i in range(20)])
    with database.session() as session:
        rollout = rollouts.create(
            session,
            RolloutIn(
                name="Security fix 2.0.0",
                product="gateway",
                version="2.0.0",
                waves=[WaveIn(percent=20), WaveIn(percent=100)],
            ),
            actor=ACTOR,
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.execute(update(Device).values(state="active", installed_version="1.0.0"))
        session.commit()
        return rollout.id


def test_overview_and_rollout_pages(client, database, fleet: Fleet, log_in):
    rollout_id = _running_rollout(database)
    log_in(client, Role.VIEWER)
    overview = client.get("/updates")
    assert overview.status_code == 200
    assert "Security fix 2.0.0" in overview.text
    assert "<svg" in overview.text
    assert "<script" not in overview.text
    assert "20 (100%)" in overview.text  # the bar of release 1.0.0
    assert "Upload firmware" not in overview.text  # not for a viewer
    assert not re.search(r"\sstyle=", overview.text)
    page = client.get(f"/updates/rollouts/{rollout_id}")
    assert page.status_code == 200
    assert "Wave 1 (current)" in page.text
    assert "pending: " in page.text
    assert "/pause" not in page.text  # a viewer gets no buttons


def test_a_release_manager_pauses_from_the_page(client, database, fleet: Fleet, log_in):
    rollout_id = _running_rollout(database)
    viewer_csrf = log_in(client, Role.VIEWER)
    refused = client.post(
        f"/updates/rollouts/{rollout_id}/pause",
        data={"csrf_token": viewer_csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    csrf = log_in(client, Role.RELEASE)
    no_token = client.post(f"/updates/rollouts/{rollout_id}/pause", follow_redirects=False)
    assert no_token.status_code in (400, 403)
    done = client.post(
        f"/updates/rollouts/{rollout_id}/pause", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "paused by" in client.get(f"/updates/rollouts/{rollout_id}").text


def test_a_release_manager_uploads_and_signs_firmware_from_the_page(
    client, database, settings, fleet: Fleet, log_in
):
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ReleaseIn
    from fleetcare.updates import service

    with database.session() as session:
        portfolio.create_release(
            session,
            "gateway",
            ReleaseIn(version="3.0.0", release_date="2026-05-01", kind="security"),
            actor=ACTOR,
        )
        session.commit()
    csrf = log_in(client, Role.RELEASE)
    assert 'enctype="multipart/form-data"' in client.get("/updates").text
    sent = client.post(
        "/updates/artifacts",
        data={"csrf_token": csrf, "product": "gateway", "version": "3.0.0", "sign": "yes"},
        files={"file": ("fw-3.bin", b"\x7fELF firmware 3" * 100, "application/octet-stream")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"])
    assert "release signed with release counter 3" in page.text
    with database.session() as session:
        release = portfolio.get_release(session, "gateway", "3.0.0")
        assert [a.filename for a in service.list_artifacts(session, release.id)] == ["fw-3.bin"]
    missing = client.post(
        "/updates/artifacts",
        data={"csrf_token": csrf, "product": "gateway", "version": "3.0.0"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert missing.status_code == 422
    forged = client.post(
        "/updates/artifacts",
        data={"product": "gateway", "version": "3.0.0"},
        files={"file": ("x.bin", b"x", "application/octet-stream")},
    )
    assert forged.status_code in (400, 403)
