"""Attach SBOMs to releases and read the components back.

    document = import_sbom(session, "GX-500", "24.10.2", raw, file_name="sbom.json", actor=who)
    components = release_components(session, release_id)

An import parses the whole file first (`parse.parse_sbom`, which refuses hostile or broken
input), grades it (`quality.assess`), then stores the document and all its components in the
caller's transaction: a refused file stores nothing. The same file attached twice to the same
release is refused as a duplicate. Hooks registered with `on_imported` run after the components
are stored, in the same transaction (matching uses this to match a new SBOM at once).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.auth import Principal
from fleetcare.core.errors import Conflict, NotFound
from fleetcare.portfolio import service as portfolio
from fleetcare.sbom import model
from fleetcare.sbom.models import Component, SbomDocument
from fleetcare.sbom.parse import parse_sbom
from fleetcare.sbom.quality import assess

ImportHook = Callable[[Session, int], None]
_hooks: list[ImportHook] = []


def on_imported(hook: ImportHook) -> None:
    """Run `hook(session, release_id)` after each SBOM import (registered once at start-up)."""
    if hook not in _hooks:
        _hooks.append(hook)


def _party(party: model.Party | None) -> str:
    return party.label()[:500] if party else ""


def import_sbom(
    session: Session,
    product_ref: int | str,
    version: str,
    data: bytes,
    *,
    file_name: str = "",
    actor: Principal,
) -> SbomDocument:
    release = portfolio.get_release(session, product_ref, version)
    sbom = parse_sbom(data)
    report = assess(sbom)
    digest = hashlib.sha256(data).hexdigest()
    duplicate = session.execute(
        select(SbomDocument.id).where(
            SbomDocument.release_id == release.id, SbomDocument.sha256 == digest
        )
    ).first()
    if duplicate:
        raise Conflict(
            f"this SBOM is already attached to {release.product.name} {release.version} "
            f"(document {duplicate[0]})"
        )
    document = SbomDocument(
        release_id=release.id,
        file_name=file_name[:255],
        sha256=digest,
        format=sbom.format.value,
        spec_version=sbom.spec_version,
        encoding=sbom.encoding.value,
        serial=(sbom.serial or "")[:500],
        sbom_created_at=sbom.timestamp,
        creators=[p.label() for p in (*sbom.creators, *sbom.tools)],
        primary_name=(sbom.primary.name if sbom.primary else "")[:500],
        primary_version=((sbom.primary.version or "") if sbom.primary else "")[:200],
        component_count=len(sbom.components),
        quality=report.to_dict(),
        imported_by=actor.actor,
    )
    session.add(document)
    session.flush()
    session.add_all(
        Component(
            sbom_id=document.id,
            release_id=release.id,
            ref=c.ref[:500],
            name=c.name[:500],
            version=(c.version or "")[:200],
            group=(c.group or "")[:500],
            type=(c.type or "")[:50],
            supplier=_party(c.supplier or c.creator),
            purl=c.purl or "",
            cpe=c.cpe or "",
            hashes=dict(c.hashes),
            licenses=list(c.licenses),
            file_name=(c.file_name or "")[:500],
            scope=(c.scope or "")[:20],
            dependency_kind=c.dependency_kind.value,
            depends_on=list(c.depends_on),
        )
        for c in sbom.components
    )
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="sbom.import",
        object_type="sbom",
        object_id=document.id,
        after={
            "product": release.product.name,
            "release": release.version,
            "format": sbom.label,
            "components": len(sbom.components),
            "quality_score": report.score,
            "sha256": digest,
        },
    )
    for hook in _hooks:
        hook(session, release.id)
    return document


def get_document(session: Session, document_id: int) -> SbomDocument:
    document = session.get(SbomDocument, document_id)
    if document is None:
        raise NotFound(f"no SBOM document with id {document_id}")
    return document


def release_documents(session: Session, release_id: int) -> list[SbomDocument]:
    return list(
        session.execute(
            select(SbomDocument)
            .where(SbomDocument.release_id == release_id)
            .order_by(SbomDocument.id)
        ).scalars()
    )


def delete_document(session: Session, document: SbomDocument, *, actor: Principal) -> None:
    summary = {
        "release_id": document.release_id,
        "file_name": document.file_name,
        "sha256": document.sha256,
    }
    document_id = document.id
    session.delete(document)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="sbom.delete",
        object_type="sbom",
        object_id=document_id,
        before=summary,
    )


@dataclass(frozen=True)
class ComponentRow:
    id: int
    release_id: int
    name: str
    version: str
    purl: str
    cpe: str


def release_components(session: Session, release_id: int) -> list[Component]:
    return list(
        session.execute(
            select(Component)
            .where(Component.release_id == release_id)
            .order_by(func.lower(Component.name), Component.version, Component.id)
        ).scalars()
    )


def component_rows(
    session: Session,
    *,
    release_ids: Iterable[int] | None = None,
    component_ids: Iterable[int] | None = None,
) -> list[ComponentRow]:
    """The identifying columns of components, cheaply, for matching."""
    query = select(
        Component.id,
        Component.release_id,
        Component.name,
        Component.version,
        Component.purl,
        Component.cpe,
    )
    if release_ids is not None:
        query = query.where(Component.release_id.in_(list(release_ids)))
    if component_ids is not None:
        query = query.where(Component.id.in_(list(component_ids)))
    return [ComponentRow(*row) for row in session.execute(query.order_by(Component.id))]


def releases_with_components(session: Session) -> list[int]:
    return list(session.execute(select(Component.release_id).distinct()).scalars())


def get_component(session: Session, component_id: int) -> Component:
    component = session.get(Component, component_id)
    if component is None:
        raise NotFound(f"no component with id {component_id}")
    return component


def export_release(session: Session, release_id: int) -> bytes:
    """The release's components (all its SBOMs together) as one CycloneDX 1.6 JSON document."""
    from fleetcare.core.settings import get_settings
    from fleetcare.sbom.export import ProductRelease, sbom_for_release, to_cyclonedx_json

    release = portfolio.get_release_by_id(session, release_id)
    seen: set[str] = set()
    components = []
    for row in release_components(session, release_id):
        ref = row.ref
        while ref in seen:  # two SBOMs of one release may reuse a ref
            ref += "'"
        seen.add(ref)
        components.append(
            model.Component(
                ref=ref,
                name=row.name,
                version=row.version or None,
                group=row.group or None,
                type=row.type or None,
                supplier=model.Party(name=row.supplier) if row.supplier else None,
                purl=row.purl or None,
                cpe=row.cpe or None,
                hashes=row.hashes,
                licenses=tuple(row.licenses),
                file_name=row.file_name or None,
                scope=row.scope or None,
                depends_on=tuple(d for d in row.depends_on),
                dependencies_declared=bool(row.depends_on),
                dependency_kind=model.DependencyKind(row.dependency_kind),
            )
        )
    refs = {c.ref for c in components}
    components = [
        dataclasses.replace(c, depends_on=tuple(d for d in c.depends_on if d in refs))
        for c in components
    ]
    sbom = sbom_for_release(
        ProductRelease(
            product=release.product.name,
            version=release.version,
            manufacturer=get_settings().manufacturer_name,
        ),
        components,
    )
    return to_cyclonedx_json(sbom)
