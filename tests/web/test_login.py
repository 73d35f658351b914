"""Logging in and out of the dashboard, and where the login sends people afterwards."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fleetcare.app import create_app
from fleetcare.core.models import User, WebSession
from fleetcare.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import TEST_PASSWORD
from tests.web.conftest import create_user, hidden, submit_login


def web_sessions(database) -> int:
    with database.session() as session:
        return session.execute(select(func.count(WebSession.id))).scalar_one()


def last_login(database, email: str):
    with database.session() as session:
        return session.execute(select(User.last_login_at).where(User.email == email)).scalar_one()


def test_login_opens_the_page_that_asked_for_it(client, database):
    create_user(database, "viewer")
    asked = client.get("/portfolio/some-product", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/portfolio/some-product"

    response = submit_login(client, "viewer@example.test", TEST_PASSWORD, "/portfolio/some-product")

    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio/some-product"
    page = client.get("/portfolio")
    assert page.status_code == 200
    assert "viewer@example.test" in page.text
    assert last_login(database, "viewer@example.test") is not None


def test_email_is_matched_without_regard_to_case(client, database):
    create_user(database, "viewer")
    response = submit_login(client, "  Viewer@Example.TEST ", TEST_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("viewer@example.test", "wrong password for sure"),
        ("nobody@example.test", TEST_PASSWORD),
    ],
    ids=["wrong-password", "unknown-email"],
)
def test_failed_login_says_only_that_email_or_password_is_wrong(client, database, email, password):
    create_user(database, "viewer")

    response = submit_login(client, email, password)

    assert response.status_code == 401
    assert "wrong email or password" in response.text
    # The same words either way, so the page does not reveal which accounts exist.
    assert "no user" not in response.text.lower()
    assert password not in response.text
    assert SESSION_COOKIE not in response.cookies
    assert web_sessions(database) == 0
    assert client.get("/portfolio", follow_redirects=False).status_code == 303


def test_failed_login_offers_a_fresh_form_that_works(client, database):
    create_user(database, "viewer")
    failed = submit_login(client, "viewer@example.test", "not the password")
    assert failed.status_code == 401
    assert 'value="viewer@example.test"' in failed.text

    retry = client.post(
        "/login",
        data={
            "login_csrf": hidden(failed.text, "login_csrf"),
            "next": hidden(failed.text, "next"),
            "email": "viewer@example.test",
            "password": TEST_PASSWORD,
        },
        follow_redirects=False,
    )
    assert retry.status_code == 303


def _login_form(client: TestClient) -> dict[str, str]:
    page = client.get("/login")
    return {
        "login_csrf": hidden(page.text, "login_csrf"),
        "next": "/portfolio",
        "email": "viewer@example.test",
        "password": TEST_PASSWORD,
    }


def _assert_nobody_logged_in(client, database) -> None:
    assert web_sessions(database) == 0
    assert last_login(database, "viewer@example.test") is None
    assert client.get("/portfolio", follow_redirects=False).status_code == 303


def test_login_without_the_csrf_cookie_is_refused(client, database):
    create_user(database, "viewer")
    form = _login_form(client)
    client.cookies.clear()

    response = client.post("/login", data=form, follow_redirects=False)

    assert response.status_code == 403
    assert "login form expired" in response.text
    assert SESSION_COOKIE not in response.cookies
    _assert_nobody_logged_in(client, database)


def test_login_with_a_form_token_that_does_not_match_the_cookie_is_refused(client, database):
    create_user(database, "viewer")
    form = _login_form(client)
    form["login_csrf"] = "forged-" + form["login_csrf"]

    response = client.post("/login", data=form, follow_redirects=False)

    assert response.status_code == 403
    _assert_nobody_logged_in(client, database)


def test_login_with_an_unsigned_csrf_cookie_is_refused(client, database):
    """An attacker who can plant a cookie still cannot make one the server signed."""
    create_user(database, "viewer")
    form = _login_form(client)
    client.cookies.clear()
    client.cookies.set(LOGIN_CSRF_COOKIE, form["login_csrf"])

    response = client.post("/login", data=form, follow_redirects=False)

    assert response.status_code == 403
    _assert_nobody_logged_in(client, database)


def test_logout_ends_the_session_on_the_server(app, client, log_in):
    csrf = log_in(client, "viewer")
    old_cookie = client.cookies[SESSION_COOKIE]

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    # Someone who kept a copy of the cookie cannot use it any more.
    with TestClient(app) as replay:
        replay.cookies.set(SESSION_COOKIE, old_cookie)
        assert replay.get("/portfolio", follow_redirects=False).status_code == 303
        assert replay.get("/portfolio/new", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "path",
    ["/portfolio", "/portfolio/new", "/portfolio/gateway-x1", "/portfolio/gateway-x1/edit"],
)
def test_pages_send_visitors_without_a_session_to_the_login(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(path)}"


def test_a_made_up_session_cookie_is_not_a_login(client):
    client.cookies.set(SESSION_COOKIE, "x" * 43)
    response = client.get("/portfolio", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_search_survives_the_detour_through_the_login(client, database):
    create_user(database, "viewer")
    asked = client.get("/portfolio?q=gate", follow_redirects=False)
    next_page = asked.headers["location"].split("next=", 1)[1]
    response = submit_login(client, "viewer@example.test", TEST_PASSWORD, _unquote(next_page))
    assert response.headers["location"] == "/portfolio?q=gate"


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/portfolio",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "portfolio",
    ],
)
def test_login_never_redirects_to_another_site(client, database, target):
    create_user(database, "viewer")

    response = submit_login(client, "viewer@example.test", TEST_PASSWORD, target)

    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio"


def test_the_login_form_does_not_carry_a_foreign_next_page(client):
    page = client.get("/login", params={"next": "//evil.example"})
    assert hidden(page.text, "next") == "/portfolio"


@pytest.mark.parametrize("secure", [False, True], ids=["plain-http", "secure-cookies"])
def test_cookies_are_http_only_same_site_lax_and_secure_when_configured(settings, database, secure):
    settings = settings.model_copy(update={"secure_cookies": secure})
    create_user(database, "viewer")
    with TestClient(create_app(settings, database), base_url="https://testserver") as client:
        form_page = client.get("/login")
        response = submit_login(client, "viewer@example.test", TEST_PASSWORD)
    assert response.status_code == 303

    cookies = {
        header.split("=", 1)[0]: header
        for header in [
            *form_page.headers.get_list("set-cookie"),
            *response.headers.get_list("set-cookie"),
        ]
        if "max-age=0" not in header.lower()
    }
    for name in (SESSION_COOKIE, LOGIN_CSRF_COOKIE):
        attributes = [a.strip().lower() for a in cookies[name].split(";")[1:]]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert ("secure" in attributes) is secure
