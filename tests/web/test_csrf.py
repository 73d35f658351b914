"""Every dashboard form is refused without the CSRF token of the session that submits it.

The table below names one valid submission per form. Each is sent with the right token (it must
work, so the refusals are about the token and nothing else), without a token, with an empty one
and with the token of another user's session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from fleetcare.intel import tasks
from fleetcare.web.routes import PAGE_ROUTERS
from tests.web.conftest import (
    attach,
    audit_count,
    make_product,
    product_count,
    product_fields,
    sbom_bytes,
    sbom_counts,
)


@dataclass(frozen=True)
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    #: (file name, content) for the form's file field.
    file: tuple[str, bytes] | None = None
    #: Whether sending it writes one audit event (queueing a feed sync does not).
    audited: bool = True


FORMS: dict[str, Form] = {
    "/logout": Form(),
    "/portfolio/new": Form(product_fields("Sensor S2")),
    "/portfolio/{slug}/edit": Form(product_fields("Gateway X1", support_end="2032-06-30")),
    "/portfolio/{slug}/releases": Form({"version": "2.0.0", "kind": "security", "released": "1"}),
    "/portfolio/{slug}/releases/{version}/status": Form({"status": "released"}),
    "/portfolio/{slug}/releases/{version}/sboms": Form(
        file=("gx5.cdx.json", sbom_bytes("gx-500-24.10.2-gx5.cdx.json"))
    ),
    "/sboms/{document_id}/delete": Form({"confirm": "1"}),
    "/feeds/{source}/sync": Form(audited=False),
}


def test_the_table_covers_every_form_of_the_dashboard():
    posted = {
        route.path
        for router in PAGE_ROUTERS
        for route in router.routes
        if "POST" in getattr(route, "methods", ()) and route.path != "/login"
    }
    assert posted == set(FORMS)


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """Feed syncs queued by the form (the job itself would download a whole feed)."""
    sources: list[str] = []
    monkeypatch.setattr(tasks, "sync_feed_online", sources.append)
    return sources


@dataclass(frozen=True)
class World:
    slug: str
    document: int
    csrf: str

    def url(self, path: str) -> str:
        return path.format(
            slug=self.slug, version="1.0.0", document_id=self.document, source="kev"
        )


@pytest.fixture
def world(client, database, log_in):
    slug = make_product(database, "Gateway X1", releases=("1.0.0",))
    document = attach(database, "th-t3-3.1.0.cdx.json", product="Gateway X1", version="1.0.0")
    return World(slug, document, log_in(client, "admin"))


def _send(client: TestClient, url: str, form: Form, fields: dict[str, str]):
    files = {"file": form.file} if form.file else None
    return client.post(url, data=fields, files=files, follow_redirects=False)


def _state(client: TestClient, world: World, database) -> tuple[object, ...]:
    """What a user would see: the product page (releases, support end, SBOM sizes), the SBOM's
    page, how many products, SBOMs and audit events there are."""
    page = client.get(f"/portfolio/{world.slug}")
    assert page.status_code == 200, "the session stopped working"
    sbom = client.get(f"/sboms/{world.document}")
    return (
        page.text.split("<main", 1)[1],
        sbom.status_code,
        product_count(database),
        sbom_counts(database),
        audit_count(database),
    )


@pytest.mark.parametrize("path", list(FORMS))
def test_the_form_works_with_the_sessions_token(client, database, world, queued, path):
    form = FORMS[path]
    before = audit_count(database)

    response = _send(client, world.url(path), form, {**form.fields, "csrf_token": world.csrf})

    assert response.status_code == 303, response.text
    assert audit_count(database) == before + (1 if form.audited else 0)
    assert queued == (["kev"] if path == "/feeds/{source}/sync" else [])


@pytest.mark.parametrize("token", ["missing", "empty", "other session"])
@pytest.mark.parametrize("path", list(FORMS))
def test_the_form_is_refused_without_the_sessions_token(
    app, client, database, world, log_in, queued, path, token
):
    form = FORMS[path]
    fields = dict(form.fields)
    if token == "empty":
        fields["csrf_token"] = ""
    elif token == "other session":
        with TestClient(app) as other:
            fields["csrf_token"] = log_in(other, "product")
        assert fields["csrf_token"] != world.csrf
    before = _state(client, world, database)

    response = _send(client, world.url(path), form, fields)

    assert response.status_code == 403
    assert "reload" in response.text
    # Nothing changed, and the user is still logged in (a refused logout did not log out).
    assert _state(client, world, database) == before
    assert queued == []
