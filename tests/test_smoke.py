from tests.conftest import AUTH


def test_creates_a_challenge(client):
    response = client.post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.status_code == 201
    assert response.json["status"] == "pending"
