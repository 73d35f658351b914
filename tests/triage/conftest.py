"""The demo portfolio with feeds and SBOMs attached: real findings to triage, on both databases."""

from __future__ import annotations

import pytest

from fleetcare.intel import service as intel
from fleetcare.triage import service as triage
from tests.pipeline.conftest import FEEDS, attach_all, portfolio_db  # noqa: F401 - a fixture


@pytest.fixture
def findings_db(portfolio_db):  # noqa: F811
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        session.commit()
    return portfolio_db


def finding_id(db, product: str, release: str, component: str, vulnerability: str) -> int:
    with db.session() as session:
        for row in triage.triage_rows(session, vulnerability_id=vulnerability):
            if (row.product.slug, row.release.version, row.component.name) == (
                product, release, component
            ):
                return row.finding.id
    raise AssertionError(f"no finding {product} {release} {component} {vulnerability}")
