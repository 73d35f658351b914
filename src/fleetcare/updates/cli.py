"""Commands of updates: `keys`, `releases upload|sign`, `devices`, `rollouts`, `device-agent`,
`simulate`.

    fleetcare keys init ./offline-keys --root-keys 3 --threshold 2
    fleetcare keys install ./offline-keys          # then move ./offline-keys off the server
    fleetcare releases upload router-x 2.1.0 firmware.bin
    fleetcare releases sign router-x 2.1.0
    fleetcare devices import router-x factory.csv  # uid,secret|public_key,customer,groups
    fleetcare rollouts create router-x 2.1.0 --wave 10 --wave 50 --wave 100
    fleetcare rollouts start 1
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from fleetcare.clitools import (
    JsonOpt,
    cli_actor,
    fail,
    out,
    parse_model,
    print_json,
    session_scope,
    settings,
    table,
)

keys_app = typer.Typer(help="TUF signing keys and root metadata.", no_args_is_help=True)
devices_app = typer.Typer(help="Devices in the field (factory lists, state).", no_args_is_help=True)
rollouts_app = typer.Typer(help="Staged rollouts of signed releases.", no_args_is_help=True)


# --- keys ----------------------------------------------------------------------------------


@keys_app.command("init")
def keys_init(
    directory: Annotated[Path, typer.Argument(help="An empty directory for the new keys.")],
    root_keys: Annotated[int, typer.Option(help="Number of root keys.")] = 3,
    threshold: Annotated[int, typer.Option(help="Root signatures required.")] = 2,
) -> None:
    """Create root (offline), targets, snapshot and timestamp keys and a signed root."""
    from fleetcare.core.errors import FleetcareError
    from fleetcare.updates import keys

    try:
        root = keys.init_keys(directory, root_keys=root_keys, threshold=threshold)
    except FleetcareError as exc:
        raise fail(exc.message) from None
    out.print(f"root metadata {root} signed by {root_keys} root keys (threshold {threshold})")
    out.print("next: 'fleetcare keys install DIR', then keep the root-*.pem files offline")


@keys_app.command("install")
def keys_install(
    directory: Annotated[Path, typer.Argument(help="The directory 'keys init' wrote.")],
) -> None:
    """Install the root metadata and the online keys, and sign the first metadata."""
    from fleetcare.updates import keys, repository, service

    cfg = service.config(settings())
    root_file = directory / "1.root.json"
    if not root_file.is_file():
        raise fail(f"{root_file} is missing: run 'fleetcare keys init {directory}' first")
    cfg.keys_dir.mkdir(parents=True, exist_ok=True)
    for role in keys.ONLINE_ROLES:
        source, target = directory / f"{role}.pem", cfg.keys_dir / f"{role}.pem"
        if not source.is_file():
            raise fail(f"{source} is missing")
        if not target.exists():
            shutil.copyfile(source, target)
            target.chmod(0o600)
    with session_scope() as session:
        if not repository.is_set_up(session):
            repository.install_root(session, root_file.read_bytes())
        repository.start(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
    out.print(f"TUF repository set up; online keys in {cfg.keys_dir}")


@keys_app.command("status")
def keys_status(as_json: JsonOpt = False) -> None:
    """Every TUF role with its latest version and expiry."""
    from fleetcare.updates import repository

    with session_scope(write=False) as session:
        rows = repository.status(session)
    if as_json:
        print_json([{"role": r, "version": v, "expires": e} for r, v, e in rows])
        return
    table("TUF metadata", ["role", "version", "expires"], [list(r) for r in rows])


# --- releases ------------------------------------------------------------------------------


def release_upload(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    version: Annotated[str, typer.Argument(help="Release version.")],
    file: Annotated[Path, typer.Argument(help="The firmware file.")],
    name: Annotated[str | None, typer.Option(help="File name devices see.")] = None,
) -> None:
    """Upload a firmware artifact for a release that is not signed yet."""
    from fleetcare.updates import service

    try:
        handle = file.open("rb")
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    with handle, session_scope() as session:
        artifact = service.upload_artifact(
            session, settings(), product, version, name or file.name, handle, actor=cli_actor()
        )
        out.print(f"{artifact.filename}: {artifact.size} bytes, sha256 {artifact.sha256}")


def release_sign(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    version: Annotated[str, typer.Argument(help="Release version.")],
) -> None:
    """Publish a release as signed TUF targets (it gets the product's next release counter)."""
    from fleetcare.updates import service

    with session_scope() as session:
        signed = service.sign_release(session, settings(), product, version, actor=cli_actor())
        out.print(f"release {version} signed with release counter {signed.counter}")


# --- devices -------------------------------------------------------------------------------


def _factory_rows(file: Path) -> list[dict[str, Any]]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    if file.suffix == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"{file} is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise fail(f"{file} must hold a JSON list of devices")
        return rows
    result = []
    for row in csv.DictReader(text.splitlines()):
        entry: dict[str, Any] = {k: v for k, v in row.items() if v}
        for key in ("groups", "tags"):
            if key in entry:
                entry[key] = [g.strip() for g in entry[key].split(";") if g.strip()]
        result.append(entry)
    return result


@devices_app.command("import")
def devices_import(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    file: Annotated[
        Path,
        typer.Argument(
            help="Factory list: CSV with columns uid, secret or public_key, hardware_revision, "
            "customer, groups, tags (';'-separated), or a JSON list of the same."
        ),
    ],
) -> None:
    """Pre-authorise devices from a factory list."""
    from fleetcare.updates import devices
    from fleetcare.updates.schemas import FactoryList

    data = parse_model(FactoryList, {"product": product, "devices": _factory_rows(file)})
    with session_scope() as session:
        count = devices.import_factory_list(session, data.product, data.devices, actor=cli_actor())
    out.print(f"{count} devices pre-authorised")


@devices_app.command("list")
def devices_list(
    product: Annotated[str | None, typer.Option(help="Only this product.")] = None,
    limit: int = 100,
    as_json: JsonOpt = False,
) -> None:
    """Devices with what they run and when they last checked in."""
    from fleetcare.portfolio import service as portfolio
    from fleetcare.updates import devices

    with session_scope(write=False) as session:
        product_id = portfolio.get_product(session, product).id if product else None
        found = [
            devices.device_out(d)
            for d in devices.list_devices(session, product_id=product_id, limit=limit)
        ]
    if as_json:
        print_json(found)
        return
    table(
        "Devices",
        ["device", "state", "installed", "customer", "security updates", "last check-in"],
        [
            [d.uid, d.state, d.installed_version, d.customer, d.security_updates, d.last_checkin_at]
            for d in found
        ],
    )


@devices_app.command("ddi-token")
def devices_ddi_token(uid: Annotated[str, typer.Argument(help="The device identifier.")]) -> None:
    """Print the hawkBit DDI TargetToken of a device (for agents such as SWUpdate)."""
    from fleetcare.updates import ddi, devices

    with session_scope(write=False) as session:
        device = devices.get_device(session, uid)
    out.print(ddi.target_token(settings(), device.uid), highlight=False)


# --- rollouts ------------------------------------------------------------------------------


@rollouts_app.command("create")
def rollouts_create(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    version: Annotated[str, typer.Argument(help="The signed release to roll out.")],
    wave: Annotated[
        list[str] | None,
        typer.Option(help="A wave: a cumulative percent (10) or groups (group:canary). Repeat."),
    ] = None,
    success: Annotated[int, typer.Option(help="Percent of successes to advance a wave.")] = 95,
    failure: Annotated[int, typer.Option(help="Percent of failures that pauses.")] = 5,
    group: Annotated[list[str] | None, typer.Option(help="Only devices in these groups.")] = None,
    customer: Annotated[list[str] | None, typer.Option(help="Only these customers.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the rollout.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a rollout (a draft until 'rollouts start')."""
    from fleetcare.updates import rollouts
    from fleetcare.updates.schemas import RolloutIn

    waves = []
    for spec in wave or ["100"]:
        entry: dict[str, Any] = {"success_threshold": success, "failure_threshold": failure}
        if spec.startswith("group:"):
            entry["groups"] = [g for g in spec.removeprefix("group:").split(",") if g]
        elif spec.isdigit():
            entry["percent"] = int(spec)
        else:
            raise fail(f"--wave {spec!r}: give a percent (10) or groups (group:canary,lab)")
        waves.append(entry)
    data = parse_model(
        RolloutIn,
        {
            "name": name or f"{product} {version}",
            "product": product,
            "version": version,
            "waves": waves,
            "selection": {"groups": group or [], "customers": customer or []},
        },
    )
    with session_scope() as session:
        rollout = rollouts.create(session, data, actor=cli_actor())
        shown = rollouts.rollout_out(session, rollout)
    if as_json:
        print_json(shown)
    else:
        out.print(f"rollout {shown.id} created ({shown.mode}); start it with 'rollouts start'")


def _change(action: str, rollout_id: int) -> None:
    from fleetcare.updates import rollouts

    operation = {
        "start": rollouts.start,
        "pause": rollouts.pause,
        "resume": rollouts.resume,
        "abort": rollouts.abort,
    }[action]
    with session_scope() as session:
        rollout = operation(session, rollout_id, actor=cli_actor())
        session.commit()
        if action in ("start", "resume"):
            from fleetcare.updates import push

            push.notify_rollout(session, settings(), rollout.id)
        out.print(f"rollout {rollout.id} is {rollout.status}")


@rollouts_app.command("start")
def rollouts_start(rollout_id: int) -> None:
    """Assign the target devices to waves and open the first wave."""
    _change("start", rollout_id)


@rollouts_app.command("pause")
def rollouts_pause(rollout_id: int) -> None:
    """Stop offering the release until 'rollouts resume'."""
    _change("pause", rollout_id)


@rollouts_app.command("resume")
def rollouts_resume(rollout_id: int) -> None:
    _change("resume", rollout_id)


@rollouts_app.command("abort")
def rollouts_abort(rollout_id: int) -> None:
    """End the rollout; devices not yet started are cancelled."""
    _change("abort", rollout_id)


@rollouts_app.command("status")
def rollouts_status(
    rollout_id: Annotated[
        int | None, typer.Argument(help="One rollout; all when left out.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Progress per wave."""
    from fleetcare.updates import rollouts

    with session_scope(write=False) as session:
        found = (
            [rollouts.get(session, rollout_id)] if rollout_id else rollouts.list_rollouts(session)
        )
        shown = [rollouts.rollout_out(session, r) for r in found]
    if as_json:
        print_json(shown)
        return
    for item in shown:
        out.print(
            f"[bold]rollout {item.id}[/bold] {item.name}: release {item.version}, {item.mode}, "
            f"{item.status}" + (f" ({item.pause_reason})" if item.pause_reason else "")
        )
        table(
            "",
            ["wave", "share", "devices", "success", "failure", "in progress", "pending"],
            [
                [
                    w.position + 1,
                    f"{w.percent}%" if w.percent is not None else ",".join(w.groups),
                    w.size,
                    w.counts.get("success", 0),
                    w.counts.get("failure", 0),
                    w.counts.get("downloading", 0) + w.counts.get("installing", 0),
                    w.counts.get("pending", 0),
                ]
                for w in item.waves
            ],
        )


# --- the reference agent -------------------------------------------------------------------


def device_agent(
    server: Annotated[str, typer.Option(help="Base URL of the fleetcare server.")],
    device: Annotated[str, typer.Option(help="This device's identifier.")],
    state_dir: Annotated[Path, typer.Option(help="Where the agent keeps keys and metadata.")],
    root: Annotated[Path, typer.Option(help="The trusted TUF root (1.root.json).")],
    secret: Annotated[str | None, typer.Option(help="Factory secret, to enrol once.")] = None,
    installed: Annotated[str | None, typer.Option(help="Factory release version.")] = None,
    installed_counter: Annotated[int, typer.Option(help="Its release counter.")] = 0,
    once: Annotated[bool, typer.Option(help="Check in once and exit.")] = False,
) -> None:
    """Run the reference device agent: enrol, check in, verify with TUF, install, report."""
    import time

    import httpx

    from fleetcare.updates.agent import Agent, DeviceClient, DeviceIdentity

    identity = DeviceIdentity.load_or_create(state_dir, device)
    with httpx.Client(base_url=server, timeout=60) as http:
        client = DeviceClient(http, identity)
        if secret:
            response = client.enrol(secret)
            if response.status_code != 200:
                raise fail(f"enrolment refused: {response.json().get('error')}")
        agent = Agent(client, state_dir, trusted_root=root.read_bytes())
        if installed and not agent.installed["version"]:
            agent.set_factory_release(installed, installed_counter)
        while True:
            out.print(agent.run_once())
            if once:
                return
            answer = client.checkin(installed=agent.installed["version"] or None)
            time.sleep(answer.json().get("poll_seconds", 3600) if answer.status_code == 200 else 60)


def simulate(
    server: Annotated[str, typer.Option(help="Base URL of the fleetcare server.")],
    token: Annotated[str, typer.Option(help="API token of a release manager.")],
    product: Annotated[str, typer.Option(help="Product id, slug or name.")],
    installed: Annotated[str, typer.Option(help="The release the devices start on.")],
    devices: Annotated[int, typer.Option("--devices", help="How many devices.")] = 100,
    rounds: Annotated[int, typer.Option(help="Check-ins per device.")] = 3,
    failure_rate: Annotated[float, typer.Option(help="Share of installs that fail.")] = 0.0,
) -> None:
    """Register N simulated devices and let them check in and report (demos, load tests)."""
    import httpx

    from fleetcare.updates.simulation import simulate_fleet

    token = token.strip()
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise fail("--token must be an API token (create one with 'fleetcare tokens create')")
    if not server.startswith(("http://", "https://")):
        raise fail(f"--server must be an http:// or https:// URL, not {server!r}")
    with httpx.Client(base_url=server, timeout=60) as http:
        try:
            outcome = simulate_fleet(
                http,
                token,
                product,
                devices,
                installed=installed,
                rounds=rounds,
                failure_rate=failure_rate,
            )
        except RuntimeError as exc:
            raise fail(str(exc)) from None
        except httpx.HTTPError as exc:
            raise fail(f"cannot talk to {server}: {type(exc).__name__}: {exc}") from None
    for name, count in sorted(outcome.items()):
        out.print(f"{name}: {count}")


@keys_app.command("rotate")
def keys_rotate(
    role: Annotated[
        str, typer.Argument(help="root, targets, snapshot, timestamp or product-<id>.")
    ],
    offline: Annotated[
        Path | None, typer.Option(help="The offline key directory (root keys sign the new root).")
    ] = None,
) -> None:
    """Replace a role's key; clients follow through the new root or targets metadata."""
    from fleetcare.updates import repository, service

    if offline is None and not role.startswith("product-"):
        raise fail("rotating a top-level role needs the root keys: pass --offline DIR")
    cfg = service.config(settings())
    with session_scope() as session:
        version = repository.rotate_key(
            session, cfg.keys_dir, offline or cfg.keys_dir, role, lifetimes=cfg.lifetimes
        )
    out.print(f"{role} key rotated; root is at version {version}")
