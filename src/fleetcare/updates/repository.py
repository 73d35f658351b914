"""The TUF repository: metadata built with python-tuf's Metadata API and kept in the database.

Roles and who signs them:

- `root` comes from `fleetcare keys init` (offline keys, threshold) and is only stored here.
- `targets` (top level) holds no files; it delegates `<product id>/*/*` to a role
  `product-<id>` per product, and is signed by the targets key in the server's key directory.
- `product-<id>` lists the artifacts of every signed release of that product, each with its
  release counter in `custom`; its key is created by the server for that product.
- `snapshot` and `timestamp` are signed by online keys and re-signed by a background job
  (`refresh()`) before they expire.

Every version of every role is kept, and the root says `consistent_snapshot`, so clients fetch
`<version>.<role>.json` and `<sha256>.<file>` targets that never change under them: metadata and
targets can sit on a CDN. All writers take one lock (an advisory lock on PostgreSQL; SQLite
serialises writers anyway) so that versions never clash.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner  # type: ignore[attr-defined]
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from tuf.api.metadata import (  # type: ignore[attr-defined]
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from fleetcare.core.errors import Conflict, InvalidInput, NotFound
from fleetcare.updates import keys as keyfiles
from fleetcare.updates.models import TufMetadata

_LOCK_ID = 0x0F1EE7CA
_FILENAME = re.compile(r"^(?:(?P<version>[1-9][0-9]{0,9})\.)?(?P<role>[A-Za-z0-9_-]{1,100})\.json$")


@dataclass(frozen=True)
class Lifetimes:
    """How long each role's signature is valid; `refresh()` re-signs at half-life."""

    targets: dt.timedelta = dt.timedelta(days=90)
    snapshot: dt.timedelta = dt.timedelta(days=7)
    timestamp: dt.timedelta = dt.timedelta(days=1)


@dataclass(frozen=True)
class TargetSpec:
    """One file of a signed release, as it goes into the product's targets metadata."""

    path: str
    length: int
    sha256: str
    custom: dict[str, Any] = field(default_factory=dict)


def product_role(product_id: int) -> str:
    return f"product-{product_id}"


def target_path(product_id: int, version: str, filename: str) -> str:
    return f"{product_id}/{version}/{filename}"


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})


def _latest(session: Session, role: str) -> TufMetadata | None:
    return session.execute(
        select(TufMetadata)
        .where(TufMetadata.role == role)
        .order_by(TufMetadata.version.desc())
        .limit(1)
    ).scalar()


def _load(session: Session, role: str) -> Metadata[Any]:
    row = _latest(session, role)
    if row is None:
        raise Conflict(
            "the TUF repository is not set up: run 'fleetcare keys init DIR' and "
            "'fleetcare keys install DIR' first"
        )
    return Metadata.from_bytes(row.body)


def _store(session: Session, role: str, metadata: Metadata[Any]) -> None:
    session.add(
        TufMetadata(
            role=role,
            version=metadata.signed.version,
            body=metadata.to_bytes(),
            expires=metadata.signed.expires,
        )
    )
    session.flush()


def _signer(keys_dir: Path, role: str) -> CryptoSigner:
    return keyfiles.load_signer(keys_dir / f"{role}.pem")


def _sign(keys_dir: Path, role: str, metadata: Metadata[Any]) -> None:
    metadata.signatures.clear()
    metadata.sign(_signer(keys_dir, role))


def is_set_up(session: Session) -> bool:
    return _latest(session, "root") is not None


def install_root(session: Session, body: bytes) -> int:
    """Store a root signed by enough keys (a rotation must also satisfy the current root)."""
    _lock(session)
    current = _latest(session, "root")
    previous = Metadata[Root].from_bytes(current.body) if current else None
    metadata = keyfiles.check_root(body, previous)
    if previous is None and metadata.signed.version != 1:
        raise InvalidInput("the first root installed must be version 1")
    if not metadata.signed.consistent_snapshot:
        raise InvalidInput("the root must enable consistent snapshots")
    session.add(
        TufMetadata(
            role="root",
            version=metadata.signed.version,
            body=body,
            expires=metadata.signed.expires,
        )
    )
    session.flush()
    return metadata.signed.version


def start(
    session: Session, keys_dir: Path, *, lifetimes: Lifetimes, now: dt.datetime | None = None
) -> None:
    """Sign the first targets, snapshot and timestamp once a root is installed."""
    _lock(session)
    root = _load(session, "root").signed
    for role in keyfiles.ONLINE_ROLES:
        signer = _signer(keys_dir, role)
        if signer.public_key.keyid not in root.roles[role].keyids:
            raise InvalidInput(f"the {role} key in {keys_dir} is not the one the root names")
    if _latest(session, "targets") is not None:
        return
    moment = _now(now)
    targets = Metadata(Targets(expires=moment + lifetimes.targets, delegations=Delegations({}, {})))
    _sign(keys_dir, "targets", targets)
    _store(session, "targets", targets)
    _new_snapshot_and_timestamp(session, keys_dir, lifetimes, moment)


def _targets_roles(session: Session) -> dict[str, int]:
    """The latest version of `targets` and of every delegated role."""
    rows = session.execute(
        select(TufMetadata.role, func.max(TufMetadata.version))
        .where(TufMetadata.role.notin_(("root", "snapshot", "timestamp")))
        .group_by(TufMetadata.role)
    ).all()
    return dict(rows)


def _new_snapshot_and_timestamp(
    session: Session, keys_dir: Path, lifetimes: Lifetimes, moment: dt.datetime
) -> None:
    previous = _latest(session, "snapshot")
    snapshot = Metadata(
        Snapshot(
            version=(previous.version + 1) if previous else 1,
            expires=moment + lifetimes.snapshot,
            meta={
                f"{role}.json": MetaFile(version=v) for role, v in _targets_roles(session).items()
            },
        )
    )
    _sign(keys_dir, "snapshot", snapshot)
    _store(session, "snapshot", snapshot)
    _new_timestamp(session, keys_dir, lifetimes, moment, snapshot.signed.version)


def _new_timestamp(
    session: Session, keys_dir: Path, lifetimes: Lifetimes, moment: dt.datetime, snapshot: int
) -> None:
    previous = _latest(session, "timestamp")
    timestamp = Metadata(
        Timestamp(
            version=(previous.version + 1) if previous else 1,
            expires=moment + lifetimes.timestamp,
            snapshot_meta=MetaFile(version=snapshot),
        )
    )
    _sign(keys_dir, "timestamp", timestamp)
    _store(session, "timestamp", timestamp)


def publish_product(
    session: Session,
    keys_dir: Path,
    product_id: int,
    files: list[TargetSpec],
    *,
    lifetimes: Lifetimes,
    now: dt.datetime | None = None,
) -> int:
    """Sign the product's targets anew with `files` (all its signed releases); returns the new
    version of its role. Adds the product's delegation, and its key, on first use."""
    _lock(session)
    moment = _now(now)
    role = product_role(product_id)
    top: Metadata[Targets] = _load(session, "targets")
    delegations = top.signed.delegations
    assert delegations is not None
    assert delegations.roles is not None
    if role not in delegations.roles:
        key_path = keys_dir / f"{role}.pem"
        if not key_path.exists():
            keyfiles.write_private_key(key_path, CryptoSigner.generate_ed25519())
        public = keyfiles.load_signer(key_path).public_key
        delegations.keys[public.keyid] = public
        delegations.roles[role] = DelegatedRole(
            name=role,
            keyids=[public.keyid],
            threshold=1,
            terminating=True,
            paths=[f"{product_id}/*/*"],
        )
        top.signed.version += 1
        top.signed.expires = moment + lifetimes.targets
        _sign(keys_dir, "targets", top)
        _store(session, "targets", top)
    previous = _latest(session, role)
    product = Metadata(
        Targets(
            version=(previous.version + 1) if previous else 1,
            expires=moment + lifetimes.targets,
            targets={
                spec.path: TargetFile(
                    length=spec.length,
                    hashes={"sha256": spec.sha256},
                    path=spec.path,
                    unrecognized_fields={"custom": spec.custom} if spec.custom else None,
                )
                for spec in files
            },
        )
    )
    _sign(keys_dir, role, product)
    _store(session, role, product)
    _new_snapshot_and_timestamp(session, keys_dir, lifetimes, moment)
    return product.signed.version


def refresh(
    session: Session, keys_dir: Path, *, lifetimes: Lifetimes, now: dt.datetime | None = None
) -> list[str]:
    """Re-sign every online role that has passed half its lifetime; returns the roles signed."""
    _lock(session)
    if _latest(session, "timestamp") is None:
        return []
    moment = _now(now)
    signed: list[str] = []
    for role in sorted(_targets_roles(session)):
        metadata = _load(session, role)
        if metadata.signed.expires - moment < lifetimes.targets / 2:
            metadata.signed.version += 1
            metadata.signed.expires = moment + lifetimes.targets
            _sign(keys_dir, role, metadata)
            _store(session, role, metadata)
            signed.append(role)
    snapshot = _latest(session, "snapshot")
    assert snapshot is not None
    if signed or snapshot.expires - moment < lifetimes.snapshot / 2:
        _new_snapshot_and_timestamp(session, keys_dir, lifetimes, moment)
        return [*signed, "snapshot", "timestamp"]
    timestamp = _latest(session, "timestamp")
    assert timestamp is not None
    if timestamp.expires - moment < lifetimes.timestamp / 2:
        _new_timestamp(session, keys_dir, lifetimes, moment, snapshot.version)
        signed.append("timestamp")
    return signed


def metadata_file(session: Session, filename: str) -> bytes:
    """The bytes of `<version>.<role>.json`, or of the latest `timestamp.json`/`root.json`."""
    match = _FILENAME.match(filename)
    if not match:
        raise NotFound(f"no metadata file {filename!r}")
    role, version = match["role"], match["version"]
    if version is None:
        if role not in ("timestamp", "root"):
            raise NotFound(f"{filename} is only served by version: ask for <version>.{filename}")
        row = _latest(session, role)
    else:
        row = session.execute(
            select(TufMetadata).where(TufMetadata.role == role, TufMetadata.version == int(version))
        ).scalar()
    if row is None:
        raise NotFound(f"no metadata file {filename!r}")
    return row.body


def status(session: Session) -> list[tuple[str, int, dt.datetime]]:
    """(role, latest version, expiry) for every role, for the CLI and the dashboard."""
    out = []
    for role in ["root", "timestamp", "snapshot", *sorted(_targets_roles(session))]:
        row = _latest(session, role)
        if row is not None:
            out.append((role, row.version, row.expires))
    return out


def rotate_key(
    session: Session,
    keys_dir: Path,
    offline_dir: Path,
    role: str,
    *,
    lifetimes: Lifetimes,
    now: dt.datetime | None = None,
) -> int:
    """Replace the key of `role` and re-sign what it signs; returns the root version after.

    - `targets`, `snapshot`, `timestamp`: a new key in `keys_dir` (the old one is revoked by a
      new root signed with the root keys from `offline_dir`);
    - `root`: the oldest root key in `offline_dir` is replaced by a new one (moved to
      `offline_dir/retired/`); the new root is signed by the old and the new keys, so that
      clients accept it under both;
    - `product-<id>`: a new delegated key, named in a new top-level targets.
    """
    _lock(session)
    moment = _now(now)
    if role.startswith("product-"):
        return _rotate_delegation(session, keys_dir, role, lifetimes, moment)
    if role not in ("root", *keyfiles.ONLINE_ROLES):
        raise InvalidInput(
            f"unknown role {role!r}: root, targets, snapshot, timestamp or product-<id>"
        )
    current: Metadata[Root] = _load(session, "root")
    root = current.signed
    signers = keyfiles.root_signers(offline_dir)
    if len([s for s in signers if s.public_key.keyid in root.roles["root"].keyids]) < (
        root.roles["root"].threshold
    ):
        raise InvalidInput(f"{offline_dir} does not hold enough of the current root keys")
    new_signer = CryptoSigner.generate_ed25519()
    if role == "root":
        retired = sorted(offline_dir.glob("root-*.pem"))[0]
        old = keyfiles.load_signer(retired)
        root.revoke_key(old.public_key.keyid, "root")
        number = 1 + max(int(p.stem.split("-")[1]) for p in offline_dir.glob("root-*.pem"))
        keyfiles.write_private_key(offline_dir / f"root-{number}.pem", new_signer)
        (offline_dir / "retired").mkdir(exist_ok=True)
        retired.rename(offline_dir / "retired" / retired.name)
    else:
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
    root.add_key(new_signer.public_key, role)
    root.version += 1
    root.expires = moment + dt.timedelta(days=keyfiles.ROOT_EXPIRY_DAYS)
    metadata = Metadata(root)
    metadata.signatures.clear()
    for signer in signers:
        metadata.sign(signer, append=True)
    if role == "root":
        metadata.sign(new_signer, append=True)
    (offline_dir / f"{root.version}.root.json").write_bytes(metadata.to_bytes())
    install_root(session, metadata.to_bytes())
    if role != "root":
        key_path = keys_dir / f"{role}.pem"
        key_path.unlink(missing_ok=True)
        keyfiles.write_private_key(key_path, new_signer)
        if role == "targets":
            top = _load(session, "targets")
            top.signed.version += 1
            top.signed.expires = moment + lifetimes.targets
            _sign(keys_dir, "targets", top)
            _store(session, "targets", top)
        if role in ("targets", "snapshot"):
            _new_snapshot_and_timestamp(session, keys_dir, lifetimes, moment)
        else:
            snapshot = _latest(session, "snapshot")
            assert snapshot is not None
            _new_timestamp(session, keys_dir, lifetimes, moment, snapshot.version)
    return root.version


def _rotate_delegation(
    session: Session, keys_dir: Path, role: str, lifetimes: Lifetimes, moment: dt.datetime
) -> int:
    top: Metadata[Targets] = _load(session, "targets")
    delegations = top.signed.delegations
    if delegations is None or delegations.roles is None or role not in delegations.roles:
        raise NotFound(f"no delegated role {role!r}")
    signer = CryptoSigner.generate_ed25519()
    for keyid in list(delegations.roles[role].keyids):
        top.signed.revoke_key(keyid, role)
    top.signed.add_key(signer.public_key, role)
    top.signed.version += 1
    top.signed.expires = moment + lifetimes.targets
    _sign(keys_dir, "targets", top)
    _store(session, "targets", top)
    key_path = keys_dir / f"{role}.pem"
    key_path.unlink(missing_ok=True)
    keyfiles.write_private_key(key_path, signer)
    product = _load(session, role)
    product.signed.version += 1
    product.signed.expires = moment + lifetimes.targets
    _sign(keys_dir, role, product)
    _store(session, role, product)
    _new_snapshot_and_timestamp(session, keys_dir, lifetimes, moment)
    return int(_load(session, "root").signed.version)
