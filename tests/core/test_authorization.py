"""Every endpoint declares who may call it, and a wrong role or no credentials is refused.

The route walk below covers endpoints added by any capability later, so a new endpoint without
a rule fails this test rather than shipping open.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from fleetcare.core.auth import Role

# Paths FastAPI itself serves (the OpenAPI document and its viewer) are public by design.
FRAMEWORK_PATHS = {"/api/v1/openapi.json", "/api/v1/docs"}


def _rules(dependant: Any) -> tuple[frozenset[Role] | None, str | None]:
    roles, public = None, None
    for dep in dependant.dependencies:
        call = dep.call
        if hasattr(call, "fleetcare_roles"):
            roles = call.fleetcare_roles
        if hasattr(call, "fleetcare_public"):
            public = call.fleetcare_public
        if hasattr(call, "fleetcare_device"):  # signed device requests: the device only
            roles = frozenset({"device"})
        sub_roles, sub_public = _rules(dep)
        roles = roles or sub_roles
        public = public or sub_public
    return roles, public


def _routes(app) -> list[tuple[str, str, frozenset[Role] | None, str | None]]:
    """(method, full path, roles admitted, public bucket) for every endpoint of the app."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path in FRAMEWORK_PATHS:
            continue
        roles, public = _rules(route.dependant)
        for method in sorted(route.methods):
            found.append((method, context.path, roles, public))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_has_an_authorization_rule(app):
    routes = _routes(app)
    assert len(routes) > 15
    missing = [f"{m} {p}" for m, p, roles, public in routes if roles is None and public is None]
    assert missing == [], f"endpoints without an authorization rule: {missing}"


def test_no_credentials_is_refused_everywhere_but_public_endpoints(app, client):
    for method, path, _roles, public in _routes(app):
        if public is not None:
            continue
        response = client.request(method, _concrete(path), follow_redirects=False)
        device = path.startswith("/device/") or "/controller/v1/" in path  # native, hawkBit DDI
        if path.startswith("/api/") or device or path == "/metrics":
            assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
            assert response.json()["error"]
        else:  # dashboard pages send people to the login page
            assert response.status_code == 303, f"{method} {path}"
            assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SECURITY, Role.RELEASE, Role.PRODUCT])
def test_wrong_role_is_refused_on_every_api_endpoint(app, client, tokens, role):
    checked = 0
    for method, path, roles, _public in _routes(app):
        if roles is None or role in roles or not path.startswith(("/api/", "/metrics")):
            continue
        response = client.request(method, _concrete(path), headers=tokens.headers(role), json={})
        assert response.status_code == 403, f"{role} on {method} {path}: {response.status_code}"
        assert "may not" in response.json()["error"]
        checked += 1
    assert checked > 0


def test_admin_only_endpoints_refuse_every_other_role(client, tokens):
    for role in (Role.VIEWER, Role.SECURITY, Role.RELEASE, Role.PRODUCT):
        assert client.get("/api/v1/audit", headers=tokens.headers(role)).status_code == 403
        assert client.get("/api/v1/users", headers=tokens.headers(role)).status_code == 403
    assert client.get("/api/v1/audit", headers=tokens.headers(Role.ADMIN)).status_code == 200
