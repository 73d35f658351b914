"""hawkBit DDI with a real client: rauc-hawkbit's `rauc_hawkbit.ddi` (PyPI, LGPL-2.1), the DDI
client of the RAUC project's Python updater, against fleetcare served by uvicorn over HTTP.

The steps are those the updater (`rauc_hawkbit.rauc_dbus_ddi_client`) takes, with the D-Bus
call to RAUC replaced by a check of the downloaded bundle: poll, send its attributes when the
server asks for `configData`, take the action id and `c` parameter from the deploymentBase link
with the updater's own pattern, fetch the deployment, download the first artifact and check
its MD5 as the updater does, report progress and success; poll again; sleep as long as
`config.polling.sleep` says; answer a cancellation with the updater's "rejected". The updater
treats any status but 200 as an error, so these steps also pin fleetcare's status codes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from fleetcare.updates import ddi, devices, rollouts
from fleetcare.updates.models import Assignment
from fleetcare.updates.schemas import RolloutIn
from tests.conftest import IN_CI
from tests.e2e.conftest import LiveServer
from tests.updates.conftest import ACTOR, firmware, register

try:
    import aiohttp
    from rauc_hawkbit.ddi.cancel_action import CancelStatusExecution, CancelStatusResult
    from rauc_hawkbit.ddi.client import (
        APIError,
        ConfigStatusExecution,
        ConfigStatusResult,
        DDIClient,
    )
    from rauc_hawkbit.ddi.deployment_base import (
        DeploymentStatusExecution,
        DeploymentStatusResult,
    )
except ImportError:
    if IN_CI:
        raise
    pytest.skip("rauc-hawkbit is not installed ('make test' installs it)", allow_module_level=True)

T = TypeVar("T")


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own (a browser test may have left a loop in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


@pytest.fixture
def server(app: Any) -> Iterator[LiveServer]:
    live = LiveServer(app)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _client(session: aiohttp.ClientSession, server: LiveServer, token: str, uid: str) -> Any:
    host = server.url.removeprefix("http://")
    return DDIClient(session, host, False, token, "DEFAULT", uid)


def _start_rollout(database: Any, name: str) -> int:
    with database.session() as session:
        rollout = rollouts.create(
            session, RolloutIn(name=name, product="gateway", version="2.0.0"), actor=ACTOR
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        return rollout.id


def test_the_rauc_hawkbit_client_installs_an_update(
    server, database, settings, fleet, tmp_path
):
    register(database, ["rauc-1"])
    _start_rollout(database, "rauc")
    token = ddi.target_token(settings, "rauc-1")
    bundle = tmp_path / "update.raucb"
    image = firmware("2.0.0")

    async def updater() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            client = _client(session, server, token, "rauc-1")
            base = await client()
            sleep = dt.datetime.strptime(base["config"]["polling"]["sleep"], "%H:%M:%S")
            assert sleep.time() > dt.time(0, 0)
            assert "configData" in base["_links"]  # the server does not know its hardware yet
            await client.configData(
                ConfigStatusExecution.closed,
                ConfigStatusResult.success,
                hwRevision="rev-b",
                serial="SN-0001",
            )
            href = base["_links"]["deploymentBase"]["href"]
            action_id, resource = re.search(r"/deploymentBase/(.+)\?c=(.+)$", href).groups()
            deployment = await client.deploymentBase[action_id](resource)
            assert deployment["deployment"]["update"] == "forced"  # a security release
            chunk = deployment["deployment"]["chunks"][0]
            assert chunk["version"] == "2.0.0"
            artifact = chunk["artifacts"][0]
            url = artifact["_links"]["download-http"]["href"]
            assert await client.get_binary(url, str(bundle)) == artifact["hashes"]["md5"]
            # (The client's own `MD5SUM()` asks for the artifact's path, not the .MD5SUM one:
            # the link the server gives is followed instead, as SWUpdate's suricatta does.)
            md5sum = tmp_path / "bundle.md5"
            await client.get_binary(artifact["_links"]["md5sum-http"]["href"], str(md5sum))
            await client.deploymentBase[action_id].feedback(
                DeploymentStatusExecution.proceeding,
                DeploymentStatusResult.none,
                ["Installing"],
                cnt=2,
                of=3,
            )
            await client.deploymentBase[action_id].feedback(
                DeploymentStatusExecution.closed,
                DeploymentStatusResult.success,
                ["Software bundle installed successfully."],
            )
            after = await client()
            return {"action": action_id, "md5sum": md5sum.read_text(), "after": after}

    seen = _run(updater)
    assert bundle.read_bytes() == image
    assert hashlib.md5(image, usedforsecurity=False).hexdigest() in seen["md5sum"]
    assert "deploymentBase" not in seen["after"]["_links"]
    assert "configData" not in seen["after"]["_links"]
    assert seen["after"]["_links"]["installedBase"]["href"].endswith(f"/{seen['action']}")
    with database.session() as session:
        device = devices.get_device(session, "rauc-1")
        assert (device.installed_version, device.hardware_revision) == ("2.0.0", "rev-b")
        assert session.get(Assignment, int(seen["action"])).status == "success"


def test_the_rauc_hawkbit_client_rejects_a_cancellation(server, database, settings, fleet):
    register(database, ["rauc-2"])
    rollout_id = _start_rollout(database, "aborted")
    token = ddi.target_token(settings, "rauc-2")

    async def first_poll() -> None:
        async with aiohttp.ClientSession() as session:
            assert "deploymentBase" in (await _client(session, server, token, "rauc-2")())["_links"]

    _run(first_poll)
    with database.session() as session:
        rollouts.abort(session, rollout_id, actor=ACTOR)
        session.commit()

    async def updater() -> str:
        async with aiohttp.ClientSession() as session:
            client = _client(session, server, token, "rauc-2")
            base = await client()
            assert "deploymentBase" not in base["_links"]
            href = base["_links"]["cancelAction"]["href"]
            (action_id,) = re.search("/cancelAction/(.+)$", href).groups()
            stop_id = (await client.cancelAction[action_id]())["cancelAction"]["stopId"]
            await client.cancelAction[stop_id].feedback(
                CancelStatusExecution.rejected,
                CancelStatusResult.success,
                status_details=("Cancelling not supported",),
            )
            return str(stop_id)

    stop_id = _run(updater)
    with database.session() as session:
        assert session.get(Assignment, int(stop_id)).status == "cancelled"


def test_the_rauc_hawkbit_client_is_refused_with_a_wrong_token(server, database, settings, fleet):
    register(database, ["rauc-3", "rauc-4"])

    async def poll(token: str) -> None:
        async with aiohttp.ClientSession() as session:
            await _client(session, server, token, "rauc-3")()

    with pytest.raises(APIError, match="401"):
        _run(lambda: poll(ddi.target_token(settings, "rauc-4")))
    with pytest.raises(APIError, match="401"):
        _run(lambda: poll("not-a-token"))
    _run(lambda: poll(ddi.target_token(settings, "rauc-3")))

