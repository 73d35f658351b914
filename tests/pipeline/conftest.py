"""Fixtures for the SBOM → feeds → findings pipeline, on both database backends.

The demo portfolio, the bundled feed sample and the demo SBOMs (src/fleetcare/demo_data, see
its SOURCES.md) are the data: real NVD, OSV and KEV records; SBOMs written for fleetcare.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetcare import wiring
from fleetcare.core.auth import system_principal
from fleetcare.demo import DEMO_DATA, DEMO_SBOMS, PRODUCTS
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn

ACTOR = system_principal("tests", via="cli")
FEEDS = DEMO_DATA / "feeds"
SBOMS = DEMO_DATA / "sboms"


@pytest.fixture
def portfolio_db(database):
    """The demo products and releases, without users, feeds or SBOMs."""
    wiring.connect()
    with database.session() as session:
        for template in PRODUCTS:
            spec = dict(template)
            releases = spec.pop("releases")
            product = portfolio.create_product(session, ProductIn.model_validate(spec), actor=ACTOR)
            for version, day, kind in releases:
                portfolio.create_release(
                    session, product.id,
                    ReleaseIn(version=version, release_date=day, kind=kind, status="released"),
                    actor=ACTOR,
                )
        session.commit()
    return database


def sbom_bytes(name: str) -> bytes:
    return (SBOMS / name).read_bytes()


def attach_all(session) -> None:
    from fleetcare.sbom import service as sbom

    for file_name, (product, version) in DEMO_SBOMS.items():
        sbom.import_sbom(session, product, version, sbom_bytes(file_name), file_name=file_name,
                         actor=ACTOR)


def feed_path(*parts: str) -> Path:
    return FEEDS.joinpath(*parts)
