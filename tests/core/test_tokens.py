from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from fleetcare.core import auth
from fleetcare.core.auth import Role
from fleetcare.core.models import ApiToken


def test_token_is_shown_once_and_stored_hashed(client, tokens, database):
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=tokens.headers(Role.RELEASE))
    assert created.status_code == 201
    clear = created.json()["token"]
    assert clear.startswith("fct_")
    listed = client.get("/api/v1/tokens", headers=tokens.headers(Role.RELEASE)).json()
    assert all("token" not in t for t in listed)
    assert any(t["name"] == "ci" for t in listed)
    with database.session() as session:
        stored = session.execute(select(ApiToken.token_hash)).scalars().all()
    assert clear not in stored
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).json()["role"] == "release"


def test_revoked_token_is_refused(client, tokens):
    created = client.post("/api/v1/tokens", json={}, headers=tokens.headers(Role.SECURITY)).json()
    header = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=header).status_code == 200
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=header).status_code == 204
    refused = client.get("/api/v1/me", headers=header)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]


def test_expired_token_is_refused(client, tokens, database):
    created = client.post("/api/v1/tokens", json={}, headers=tokens.headers(Role.VIEWER)).json()
    with database.session() as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == created["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        session.commit()
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]


def test_cannot_mint_a_more_powerful_token(client, tokens):
    response = client.post("/api/v1/tokens", json={"role": "admin"}, headers=tokens.headers(Role.PRODUCT))
    assert response.status_code == 403
    viewer = client.post("/api/v1/tokens", json={"role": "viewer"}, headers=tokens.headers(Role.PRODUCT))
    assert viewer.json()["role"] == "viewer"


def test_cannot_revoke_someone_elses_token(client, tokens):
    other = client.post("/api/v1/tokens", json={}, headers=tokens.headers(Role.SECURITY)).json()
    response = client.delete(f"/api/v1/tokens/{other['id']}", headers=tokens.headers(Role.RELEASE))
    assert response.status_code == 404
    header = {"Authorization": f"Bearer {other['token']}"}
    assert client.get("/api/v1/me", headers=header).status_code == 200


def test_malformed_authorization_headers(client, tokens):
    for value in ("Basic abc", "Bearer", "Bearer nottoken", "fct_abc", "Bearer fct_" + "x" * 300):
        response = client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"] == "Bearer"


def test_admin_manages_users(client, tokens, database):
    admin = tokens.headers(Role.ADMIN)
    made = client.post("/api/v1/users", headers=admin,
                       json={"email": "New.Person@Example.test", "role": "security",
                             "password": "a long enough password"})
    assert made.status_code == 201
    assert made.json()["email"] == "new.person@example.test"
    again = client.post("/api/v1/users", headers=admin,
                        json={"email": "new.person@example.test", "role": "viewer",
                              "password": "a long enough password"})
    assert again.status_code == 409
    weak = client.post("/api/v1/users", headers=admin,
                       json={"email": "weak@example.test", "role": "viewer", "password": "short"})
    assert weak.status_code == 422
    with database.session() as session:
        user = auth.get_user_by_email(session, "new.person@example.test")
        assert user.password_hash.startswith("$argon2id$")
        assert auth.authenticate(session, "new.person@example.test", "a long enough password")
