from __future__ import annotations

from fleetcare.core.auth import Role
from fleetcare.core.ratelimit import SlidingWindowLimiter


def test_health_and_readiness(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_metrics_need_a_token_and_count_requests_by_route(client, tokens):
    assert client.get("/metrics").status_code == 401
    client.get("/api/v1/products/some-product", headers=tokens.headers(Role.VIEWER))
    text = client.get("/metrics", headers=tokens.headers(Role.VIEWER)).text
    assert 'route="/api/v1/products/{product_ref}"' in text
    assert 'status="404"' in text
    assert "some-product" not in text


def test_openapi_document_lists_the_api(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/products" in spec["paths"]
    assert "/api/v1/public/support" in spec["paths"]


def test_unknown_endpoint_and_method_give_json_errors(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no such endpoint: GET /api/v1/nothing-here"
    wrong = client.put("/api/v1/public/support")
    assert wrong.status_code == 405
    assert "not allowed" in wrong.json()["error"]


def test_responses_carry_a_request_id(client):
    assert len(client.get("/healthz").headers["x-request-id"]) == 16


def test_sliding_window_limiter():
    now = [0.0]
    limiter = SlidingWindowLimiter(limit=2, window_seconds=60, clock=lambda: now[0])
    assert limiter.hit("a") is None
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 60
    assert limiter.hit("b") is None  # other clients are unaffected
    now[0] = 90.0  # halfway into the next window, half of the previous still counts
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None
    now[0] = 200.0
    assert limiter.hit("a") is None
