"""Artifacts and signed releases.

    upload_artifact(session, settings, "router-x", "2.1.0", "fw.bin", stream, actor=who)
    sign_release(session, settings, "router-x", "2.1.0", actor=who)   # publishes it as TUF targets

Signing a release gives it the next release counter of its product, marks it released, and
re-signs the product's targets, the snapshot and the timestamp. Artifacts of a security release
cannot be deleted while CRA Art. 13(9) wants them available.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.auth import Principal
from fleetcare.core.errors import Conflict, NotFound, RuleViolation
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ReleaseStatus
from fleetcare.updates import repository
from fleetcare.updates.models import Artifact, SignedRelease
from fleetcare.updates.storage import ArtifactStorage, storage_for


@dataclass(frozen=True)
class UpdateConfig:
    storage: ArtifactStorage
    keys_dir: Path
    lifetimes: repository.Lifetimes
    max_bytes: int


def config(settings: Settings) -> UpdateConfig:
    return UpdateConfig(
        storage=storage_for(settings.artifact_storage_url, settings.data_dir),
        keys_dir=settings.tuf_keys_dir or settings.data_dir / "tuf-keys",
        lifetimes=repository.Lifetimes(
            targets=dt.timedelta(days=settings.tuf_targets_days),
            snapshot=dt.timedelta(days=settings.tuf_snapshot_days),
            timestamp=dt.timedelta(hours=settings.tuf_timestamp_hours),
        ),
        max_bytes=settings.artifact_max_bytes,
    )


def check_filename(filename: str) -> str:
    name = filename.strip()
    if (
        not name
        or len(name) > 200
        or name in (".", "..")
        or any(c in name for c in "/\\")
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in name)
    ):
        raise RuleViolation(
            f"{filename!r} is not a usable artifact file name: no slashes, spaces or control "
            "characters, at most 200 characters"
        )
    return name


def upload_artifact(
    session: Session,
    settings: Settings,
    product_ref: int | str,
    version: str,
    filename: str,
    stream: IO[bytes],
    *,
    actor: Principal,
) -> Artifact:
    """Store a firmware file for a release that is not yet signed."""
    cfg = config(settings)
    name = check_filename(filename)
    release = portfolio.get_release(session, product_ref, version)
    if _signed(session, release.id) is not None:
        raise Conflict(
            f"release {version} is already signed; its artifacts cannot change (make a new release)"
        )
    if release.status == ReleaseStatus.WITHDRAWN.value:
        raise Conflict(f"release {version} is withdrawn")
    clash = session.execute(
        select(Artifact.id).where(Artifact.release_id == release.id, Artifact.filename == name)
    ).first()
    if clash:
        raise Conflict(f"release {version} already has an artifact named {name!r}")
    digest, size = cfg.storage.put(stream, cfg.max_bytes)
    if size == 0:
        raise RuleViolation("the artifact is empty")
    artifact = Artifact(
        release_id=release.id, filename=name, sha256=digest, size=size, uploaded_by=actor.actor
    )
    session.add(artifact)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="artifact.upload",
        object_type="release",
        object_id=release.id,
        after={"filename": name, "sha256": digest, "size": size},
    )
    return artifact


def list_artifacts(session: Session, release_id: int) -> list[Artifact]:
    return list(
        session.execute(
            select(Artifact).where(Artifact.release_id == release_id).order_by(Artifact.filename)
        ).scalars()
    )


def delete_artifact(
    session: Session,
    settings: Settings,
    product_ref: int | str,
    version: str,
    filename: str,
    *,
    actor: Principal,
) -> None:
    """Remove an artifact of an unsigned release; signed ones stay (they are in TUF targets, and
    a security release must stay available under CRA Art. 13(9))."""
    release = portfolio.get_release(session, product_ref, version)
    artifact = session.execute(
        select(Artifact).where(Artifact.release_id == release.id, Artifact.filename == filename)
    ).scalar()
    if artifact is None:
        raise NotFound(f"release {version} has no artifact {filename!r}")
    if _signed(session, release.id) is not None:
        until = portfolio.release_available_until(release, release.product)
        why = f"; CRA Art. 13(9) keeps it available until {until}" if until else ""
        raise RuleViolation(f"release {version} is signed and its artifacts are published{why}")
    session.delete(artifact)
    session.flush()
    shared = session.execute(
        select(func.count(Artifact.id)).where(Artifact.sha256 == artifact.sha256)
    ).scalar_one()
    if not shared:
        config(settings).storage.delete(artifact.sha256)
    audit.record(
        session,
        actor=actor.actor,
        action="artifact.delete",
        object_type="release",
        object_id=release.id,
        before={"filename": filename, "sha256": artifact.sha256},
    )


def _signed(session: Session, release_id: int) -> SignedRelease | None:
    return session.execute(
        select(SignedRelease).where(SignedRelease.release_id == release_id)
    ).scalar()


def signed_release(session: Session, release_id: int) -> SignedRelease | None:
    return _signed(session, release_id)


def product_targets(session: Session, product_id: int) -> list[repository.TargetSpec]:
    """Every artifact of every signed release of the product, as TUF targets."""
    rows = session.execute(
        select(Artifact, SignedRelease.counter)
        .join(SignedRelease, SignedRelease.release_id == Artifact.release_id)
        .where(SignedRelease.product_id == product_id)
        .order_by(SignedRelease.counter, Artifact.filename)
    ).all()
    specs = []
    for artifact, counter in rows:
        release = portfolio.get_release_by_id(session, artifact.release_id)
        specs.append(
            repository.TargetSpec(
                path=repository.target_path(product_id, release.version, artifact.filename),
                length=artifact.size,
                sha256=artifact.sha256,
                custom={
                    "release_counter": counter,
                    "version": release.version,
                    "kind": release.kind,
                },
            )
        )
    return specs


def sign_release(
    session: Session,
    settings: Settings,
    product_ref: int | str,
    version: str,
    *,
    actor: Principal,
    now: dt.datetime | None = None,
) -> SignedRelease:
    """Publish a release as signed TUF targets with the product's next release counter."""
    cfg = config(settings)
    release = portfolio.get_release(session, product_ref, version)
    if _signed(session, release.id) is not None:
        raise Conflict(f"release {version} is already signed")
    if release.status == ReleaseStatus.WITHDRAWN.value:
        raise Conflict(f"release {version} is withdrawn and cannot be signed")
    if not list_artifacts(session, release.id):
        raise RuleViolation(f"release {version} has no artifacts: upload the firmware first")
    if not repository.is_set_up(session):
        raise Conflict(
            "the TUF repository is not set up: run 'fleetcare keys init DIR' and "
            "'fleetcare keys install DIR' first"
        )
    if release.status == ReleaseStatus.DRAFT.value:
        portfolio.set_release_status(session, release, ReleaseStatus.RELEASED, actor=actor)
    highest = session.execute(
        select(func.max(SignedRelease.counter)).where(
            SignedRelease.product_id == release.product_id
        )
    ).scalar()
    signed = SignedRelease(
        release_id=release.id,
        product_id=release.product_id,
        counter=(highest or 0) + 1,
        signed_by=actor.actor,
    )
    session.add(signed)
    session.flush()
    role_version = repository.publish_product(
        session,
        cfg.keys_dir,
        release.product_id,
        product_targets(session, release.product_id),
        lifetimes=cfg.lifetimes,
        now=now,
    )
    audit.record(
        session,
        actor=actor.actor,
        action="release.sign",
        object_type="release",
        object_id=release.id,
        after={
            "version": version,
            "release_counter": signed.counter,
            "role": repository.product_role(release.product_id),
            "role_version": role_version,
        },
    )
    return signed


def find_target(session: Session, path: str) -> Artifact:
    """The artifact a device asks for as `<product>/<version>/<sha256>.<filename>` (the
    consistent-snapshot name); only artifacts of signed releases are served."""
    head, _, last = path.rpartition("/")
    digest, dot, filename = last.partition(".")
    product_id, _, version = head.partition("/")
    if not dot or not product_id.isdigit() or not version:
        raise NotFound(f"no target {path!r}")
    row = (
        session.execute(
            select(Artifact)
            .join(SignedRelease, SignedRelease.release_id == Artifact.release_id)
            .where(
                Artifact.sha256 == digest,
                Artifact.filename == filename,
                SignedRelease.product_id == int(product_id),
            )
        )
        .scalars()
        .first()
    )
    if row is None:
        raise NotFound(f"no target {path!r}")
    return row
