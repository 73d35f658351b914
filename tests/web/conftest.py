"""Helpers for page tests: users made on demand, logging in through the real form, products,
and the demo portfolio with the bundled feed sample for the SBOM and findings pages.

Pages are driven the way a browser drives them: GET the form, read the hidden tokens out of the
HTML, POST it back. Users are created only for the roles a test logs in as, because each one
costs an argon2 hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fleetcare.core import auth
from fleetcare.core.auth import Role, system_principal
from fleetcare.core.db import Database
from fleetcare.core.models import AuditEvent
from fleetcare.intel import service as intel
from fleetcare.portfolio import service
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
from fleetcare.sbom import service as sbom_service
from fleetcare.sbom.models import Component, SbomDocument
from tests.conftest import TEST_PASSWORD
from tests.pipeline.conftest import FEEDS, portfolio_db, sbom_bytes

__all__ = ["portfolio_db"]  # a fixture, shared with the pipeline tests

SETUP = system_principal("tests", via="cli")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with production costs takes a quarter of a second per login; page tests log in
    all the time and are about pages, not hashing (tests/core covers the real parameters)."""
    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


class _FormReader(HTMLParser):
    """Collects what a browser would submit for each form of a page, keyed by its action."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif self._form is None or "name" not in a:
            if tag == "option" and self._form is not None and self._select and "selected" in a:
                self._form[self._select] = a.get("value", "")
        elif tag == "input":
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self._form[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self._form.setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> dict[str, dict[str, str]]:
    """Every form of a page as {action: {field: value the browser would send}}."""
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def hidden(html: str, name: str) -> str:
    """The value of the input `name` in the first form of the page that has one."""
    for fields in forms_of(html).values():
        if name in fields:
            return fields[name]
    raise AssertionError(f"no input {name!r} in the page")


def email_for(role: Role | str) -> str:
    return f"{Role(role).value}@example.test"


def create_user(database: Database, role: Role | str) -> None:
    with database.session() as session:
        auth.create_user(
            session, email=email_for(role), role=Role(role), password=TEST_PASSWORD, actor=SETUP
        )
        session.commit()


def submit_login(
    client: TestClient, email: str, password: str, next_page: str | None = None
) -> httpx.Response:
    """Fill in and send the login form; returns the answer to the POST (redirects not followed)."""
    form_page = client.get("/login", params={"next": next_page} if next_page else None)
    assert form_page.status_code == 200
    form = {
        "login_csrf": hidden(form_page.text, "login_csrf"),
        "next": hidden(form_page.text, "next"),
        "email": email,
        "password": password,
    }
    return client.post("/login", data=form, follow_redirects=False)


def session_csrf(client: TestClient) -> str:
    """The CSRF token of the client's current session, as a page shows it to the browser."""
    page = client.get("/portfolio")
    assert page.status_code == 200, "not logged in"
    return hidden(page.text, "csrf_token")


@pytest.fixture
def log_in(database: Database) -> Callable[..., str]:
    """`log_in(client, role)` creates the role's user if needed, logs in, returns the CSRF token."""
    made: set[Role] = set()

    def do(client: TestClient, role: Role | str) -> str:
        role = Role(role)
        if role not in made:
            create_user(database, role)
            made.add(role)
        response = submit_login(client, email_for(role), TEST_PASSWORD)
        assert response.status_code == 303, response.text
        return session_csrf(client)

    return do


def product_fields(name: str = "Gateway X1", **changes: Any) -> dict[str, str]:
    """A valid add-product form: on the market 2024-03-01, supported until 2031-03-31."""
    fields = {
        "name": name,
        "model_id": "GX1",
        "cra_category": "important_class_i",
        "placed_on_market": "2024-03-01",
        "support_end": "2031-03-31",
        "end_of_sale": "",
        "expected_use_months": "",
        "successor": "",
        "description": "Home gateway",
        "intended_purpose": "Connects sensors to the cloud",
    }
    fields.update({k: str(v) for k, v in changes.items()})
    return fields


def make_product(
    database: Database,
    name: str = "Gateway X1",
    *,
    placed: dt.date = dt.date(2024, 3, 1),
    support_end: dt.date = dt.date(2031, 3, 31),
    releases: tuple[str, ...] = (),
    **extra: Any,
) -> str:
    """Store a product (and draft feature releases) through the service; returns its slug."""
    with database.session() as session:
        product = service.create_product(
            session,
            ProductIn(name=name, placed_on_market=placed, support_end=support_end, **extra),
            actor=SETUP,
        )
        for version in releases:
            service.create_release(
                session,
                product.id,
                ReleaseIn(version=version, release_date=placed, kind="feature"),
                actor=SETUP,
            )
        session.commit()
        return product.slug


def audit_count(database: Database) -> int:
    with database.session() as session:
        return session.execute(select(func.count(AuditEvent.id))).scalar_one()


def product_count(database: Database) -> int:
    with database.session() as session:
        return service.list_products(session)[1]


class _TableReader(HTMLParser):
    """Reads the body rows of the first table whose class or id is `wanted`, as cell texts."""

    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.rows: list[list[str]] = []
        self._depth = 0  # nesting of tables inside the wanted one, 0 when outside it
        self._done = False
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._cell is not None:
            self._cell.append(" ")  # elements inside a cell read as separate words
        if tag == "table":
            if self._depth:
                self._depth += 1
            elif not self._done and (self.wanted in a.get("class", "").split() or a.get("id") == self.wanted):
                self._depth = 1
        elif self._depth == 1 and tag == "tbody":
            self._in_body = True
        elif self._depth == 1 and self._in_body and tag == "tr":
            self.rows.append([])
        elif self._depth == 1 and self._in_body and tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._depth:
            self._depth -= 1
            self._done = self._depth == 0
        elif tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None


def table_rows(html: str, wanted: str) -> list[list[str]]:
    """The body rows of the page's first table with class or id `wanted`: a list of cell texts."""
    reader = _TableReader(wanted)
    reader.feed(html)
    return reader.rows


# --- SBOMs, feeds and findings -------------------------------------------------------------

GX3 = "/portfolio/gateway-gx-500/releases/23.05.5-gx3"


@pytest.fixture
def feeds_loaded(portfolio_db: Database) -> Database:
    """The demo products and releases with the bundled feed sample (no SBOMs yet)."""
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        session.commit()
    return portfolio_db


def attach(
    database: Database,
    file_name: str = "gx-500-23.05.5-gx3.cdx.json",
    product: str = "Gateway GX-500",
    version: str = "23.05.5-gx3",
) -> int:
    """Attach a demo SBOM through the service; returns the document id."""
    with database.session() as session:
        document = sbom_service.import_sbom(
            session, product, version, sbom_bytes(file_name), file_name=file_name, actor=SETUP
        )
        session.commit()
        return document.id


def upload(
    client: TestClient, csrf: str, data: bytes, name: str = "fw.cdx.json", url: str = GX3
) -> httpx.Response:
    """Send the release page's upload form with `data` as the chosen file."""
    return client.post(
        f"{url}/sboms",
        data={"csrf_token": csrf},
        files={"file": (name, data, "application/json")},
        follow_redirects=False,
    )


def sbom_counts(database: Database) -> tuple[int, int]:
    """(SBOM documents, components) stored."""
    with database.session() as session:
        return (
            session.execute(select(func.count()).select_from(SbomDocument)).scalar_one(),
            session.execute(select(func.count()).select_from(Component)).scalar_one(),
        )
