from fleetcare.core.auth import Role


def test_products_need_a_token(client):
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert "missing API token" in response.json()["error"]


def test_viewer_lists_products(client, tokens):
    response = client.get("/api/v1/products", headers=tokens.headers(Role.VIEWER))
    assert response.status_code == 200
    assert response.json()["total"] == 0
