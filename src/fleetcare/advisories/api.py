"""REST API of advisories, and the public CSAF provider directory under /.well-known/csaf/.

Everyone with an account reads advisories (TLP:GREEN, AMBER and RED ones only this way, with a
token); the security team writes, publishes and imports. The directory serves published
TLP:WHITE advisories to anyone.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from fleetcare.advisories import provider, service
from fleetcare.advisories.schemas import (
    AdvisoryIn,
    AdvisoryOut,
    AdvisoryPatch,
    ImportedOut,
    ProblemOut,
    PublishIn,
    ValidationOut,
)
from fleetcare.core.auth import Principal, Role
from fleetcare.core.errors import NotFound
from fleetcare.core.http import API_PREFIX, READERS, DbSession, public, read_limited, require
from fleetcare.core.settings import Settings

router = APIRouter(prefix=API_PREFIX, tags=["advisories"])
well_known_router = APIRouter(prefix=provider.WELL_KNOWN, tags=["advisories"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Analyst = Annotated[Principal, Depends(require(Role.SECURITY))]
Public = [Depends(public("csaf", 600))]
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _json(value: Any, media_type: str = "application/json") -> Response:
    return Response(json.dumps(value, indent=2, ensure_ascii=False), media_type=media_type)


@router.get("/advisories", response_model=list[AdvisoryOut])
def list_advisories(request: Request, session: DbSession, who: Reader) -> list[AdvisoryOut]:
    settings = _settings(request)
    return [service.advisory_out(session, a, settings) for a in service.list_advisories(session)]


@router.post("/advisories", response_model=AdvisoryOut, status_code=201)
def create(data: AdvisoryIn, request: Request, session: DbSession, who: Analyst) -> AdvisoryOut:
    """A draft advisory for a product and vulnerabilities; its content follows the triage
    decisions of the product's findings until it is published."""
    advisory = service.create_advisory(session, data, actor=who, settings=_settings(request))
    session.commit()
    return service.advisory_out(session, advisory, _settings(request))


@router.get("/advisories/imports", response_model=list[ImportedOut])
def list_imports(session: DbSession, who: Reader) -> list[ImportedOut]:
    return [service.imported_out(i) for i in service.list_imported(session)]


@router.post("/advisories/imports", response_model=ImportedOut, status_code=201)
async def import_advisory(request: Request, session: DbSession, who: Analyst) -> ImportedOut:
    """A supplier's CSAF 2.0 advisory (the request body): validated, kept, and its product
    statuses proposed for the components they identify."""
    raw = await read_limited(request, MAX_IMPORT_BYTES)
    imported = service.import_advisory(session, raw, actor=who)
    session.commit()
    return service.imported_out(imported)


@router.get("/advisories/imports/{imported_id}/csaf")
def imported_document(imported_id: int, session: DbSession, who: Reader) -> Response:
    return _json(service.get_imported(session, imported_id).document)


@router.get("/advisories/{tracking_id}", response_model=AdvisoryOut)
def get(tracking_id: str, request: Request, session: DbSession, who: Reader) -> AdvisoryOut:
    advisory = service.get_advisory(session, tracking_id)
    return service.advisory_out(session, advisory, _settings(request))


@router.patch("/advisories/{tracking_id}", response_model=AdvisoryOut)
def patch(
    tracking_id: str, data: AdvisoryPatch, request: Request, session: DbSession, who: Analyst
) -> AdvisoryOut:
    advisory = service.get_advisory(session, tracking_id)
    service.update_advisory(session, advisory, data, actor=who)
    session.commit()
    return service.advisory_out(session, advisory, _settings(request))


@router.get("/advisories/{tracking_id}/csaf")
def document(tracking_id: str, request: Request, session: DbSession, who: Reader) -> Response:
    """The CSAF document: as published, or for a draft as it stands now. Any TLP."""
    advisory = service.get_advisory(session, tracking_id)
    if advisory.status != "draft" and advisory.published_json:
        return Response(advisory.published_json, media_type="application/json")
    return _json(service.current_document(session, advisory, _settings(request)))


@router.get("/advisories/{tracking_id}/validation", response_model=ValidationOut)
def validation(
    tracking_id: str, request: Request, session: DbSession, who: Reader
) -> ValidationOut:
    """What publishing now would find: the CSAF schema and the mandatory tests 6.1.x."""
    advisory = service.get_advisory(session, tracking_id)
    problems = service.validate_advisory(session, advisory, _settings(request))
    return ValidationOut(valid=not problems, problems=[ProblemOut(**p.as_dict()) for p in problems])


@router.post("/advisories/{tracking_id}/publish", response_model=AdvisoryOut)
def publish(
    tracking_id: str, data: PublishIn, request: Request, session: DbSession, who: Analyst
) -> AdvisoryOut:
    """Publish the next revision (signed, hashed; TLP:WHITE ones appear in the directory).
    Refused under embargo and with the validation problems when the document is invalid."""
    advisory = service.get_advisory(session, tracking_id)
    service.publish(session, advisory, data, actor=who, settings=_settings(request))
    session.commit()
    return service.advisory_out(session, advisory, _settings(request))


# --- /.well-known/csaf/ -------------------------------------------------------------------------


@well_known_router.get("/provider-metadata.json", dependencies=Public)
def provider_metadata(request: Request, session: DbSession) -> Response:
    return _json(service.provider_files(session, _settings(request)).metadata())


def _listing(title: str, names: list[str]) -> Response:
    """A plain directory listing (CSAF 2.0 requirement 14: directory listings enabled)."""
    items = "".join(
        f'<li><a href="{html.escape(n, quote=True)}">{html.escape(n)}</a></li>' for n in names
    )
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<ul>{items}</ul></body></html>"
    )
    return Response(body, media_type="text/html; charset=utf-8")


@well_known_router.get("/white/", dependencies=Public)
def white_listing(request: Request, session: DbSession) -> Response:
    files = service.provider_files(session, _settings(request))
    years = sorted({e.path.split("/", 1)[0] + "/" for e in files.entries}, reverse=True)
    return _listing(
        "Index of /.well-known/csaf/white/",
        [*years, "index.txt", "changes.csv", provider.FEED_NAME],
    )


@well_known_router.get("/white/{year}/", dependencies=Public)
def year_listing(year: str, request: Request, session: DbSession) -> Response:
    files = service.provider_files(session, _settings(request))
    names = [e.path.split("/", 1)[1] for e in files.entries if e.path.startswith(f"{year}/")]
    if not names:
        raise NotFound(f"no directory white/{year}/")
    listed = sorted(f"{n}{suffix}" for n in names for suffix in ("", ".asc", ".sha256", ".sha512"))
    return _listing(f"Index of /.well-known/csaf/white/{year}/", listed)


@well_known_router.get("/white/index.txt", dependencies=Public)
def index_txt(request: Request, session: DbSession) -> Response:
    files = service.provider_files(session, _settings(request))
    return Response(files.index_txt(), media_type="text/plain; charset=utf-8")


@well_known_router.get("/white/changes.csv", dependencies=Public)
def changes_csv(request: Request, session: DbSession) -> Response:
    files = service.provider_files(session, _settings(request))
    return Response(files.changes_csv(), media_type="text/csv; charset=utf-8")


@well_known_router.get(f"/white/{provider.FEED_NAME}", dependencies=Public)
def rolie_feed(request: Request, session: DbSession) -> Response:
    return _json(service.provider_files(session, _settings(request)).rolie_feed())


@well_known_router.get("/white/{year}/{name}", dependencies=Public)
def advisory_file(year: str, name: str, session: DbSession) -> Response:
    """white/<year>/<id>.json and its .sha256, .sha512 and .asc companions."""
    for suffix in (".sha256", ".sha512", ".asc", ""):
        if name.endswith(f".json{suffix}"):
            base = name[: len(name) - len(suffix)] if suffix else name
            break
    else:
        raise NotFound(f"no file white/{year}/{name}")
    advisory = service.advisory_at_path(session, year, base)
    if suffix == ".sha256":
        return Response(f"{advisory.sha256}  {base}\n", media_type="text/plain")
    if suffix == ".sha512":
        return Response(f"{advisory.sha512}  {base}\n", media_type="text/plain")
    if suffix == ".asc":
        return Response(advisory.signature, media_type="application/pgp-signature")
    return Response(advisory.published_json, media_type="application/json")


@well_known_router.get("/openpgp/{file}", dependencies=Public)
def openpgp_key(file: str, request: Request) -> Response:
    signer = service.signer(_settings(request))
    fingerprint = signer.fingerprint()
    if fingerprint is None or file != f"{fingerprint}.asc":
        raise NotFound(f"no OpenPGP key {file}")
    return Response(signer.public_key(), media_type="application/pgp-keys")
