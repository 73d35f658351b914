"""Every dashboard form is refused without the CSRF token of the session that submits it.

The table below names one valid submission per form. Each is sent with the right token (it must
work, so the refusals are about the token and nothing else), without a token, with an empty one
and with the token of another user's session.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fleetcare.web.routes import router
from tests.web.conftest import audit_count, make_product, product_count, product_fields

FORMS: dict[str, dict[str, str]] = {
    "/logout": {},
    "/portfolio/new": product_fields("Sensor S2"),
    "/portfolio/{slug}/edit": product_fields("Gateway X1", support_end="2032-06-30"),
    "/portfolio/{slug}/releases": {"version": "2.0.0", "kind": "security", "released": "1"},
    "/portfolio/{slug}/releases/{version}/status": {"status": "released"},
}


def test_the_table_covers_every_form_of_the_dashboard():
    posted = {
        route.path
        for route in router.routes
        if "POST" in getattr(route, "methods", ()) and route.path != "/login"
    }
    assert posted == set(FORMS)


@pytest.fixture
def world(client, database, log_in):
    slug = make_product(database, "Gateway X1", releases=("1.0.0",))
    csrf = log_in(client, "admin")
    return slug, csrf


def _url(path: str, slug: str) -> str:
    return path.format(slug=slug, version="1.0.0")


def _state(client: TestClient, slug: str) -> str:
    """What a user would see of the product: its page, with releases and support end."""
    page = client.get(f"/portfolio/{slug}")
    assert page.status_code == 200, "the session stopped working"
    return page.text.split("<main", 1)[1]


@pytest.mark.parametrize("path", list(FORMS))
def test_the_form_works_with_the_sessions_token(client, database, world, path):
    slug, csrf = world
    before = audit_count(database)

    response = client.post(
        _url(path, slug), data={**FORMS[path], "csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 303, response.text
    if path != "/logout":
        assert audit_count(database) == before + 1


@pytest.mark.parametrize("token", ["missing", "empty", "other session"])
@pytest.mark.parametrize("path", list(FORMS))
def test_the_form_is_refused_without_the_sessions_token(
    app, client, database, world, log_in, path, token
):
    slug, csrf = world
    form = dict(FORMS[path])
    if token == "empty":
        form["csrf_token"] = ""
    elif token == "other session":
        with TestClient(app) as other:
            form["csrf_token"] = log_in(other, "product")
        assert form["csrf_token"] != csrf
    before = (audit_count(database), product_count(database), _state(client, slug))

    response = client.post(_url(path, slug), data=form, follow_redirects=False)

    assert response.status_code == 403
    assert "reload" in response.text
    # Nothing changed, and the user is still logged in (a refused logout did not log out).
    assert (audit_count(database), product_count(database), _state(client, slug)) == before
