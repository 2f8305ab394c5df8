"""Helpers shared by the protocol tests (no tests here): API callers with their own bearer tokens, and
a recomputation of the content hash from what the API answers."""

from __future__ import annotations

import hashlib
import json
import uuid

from tests.conftest import PASSWORD


class Caller:
    """One user's API calls with a bearer token of their own (several users in one test)."""

    def __init__(self, client, user, password: str = PASSWORD):
        response = client.post("/api/v1/tokens", json={"email": user.email, "password": password})
        assert response.status_code == 201, response.get_json()
        self.client = client
        self.user = user
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def _h(self, headers):
        return {**self.headers, **(headers or {})}

    def get(self, path, headers=None, **kw):
        return self.client.get(path, headers=self._h(headers), **kw)

    def post(self, path, headers=None, **kw):
        return self.client.post(path, headers=self._h(headers), **kw)

    def patch(self, path, headers=None, **kw):
        return self.client.patch(path, headers=self._h(headers), **kw)

    # conveniences
    def inspection(self, inspection_id):
        response = self.get(f"/api/v1/inspections/{inspection_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json(), response.headers["ETag"]

    def save(self, inspection_id, etag, body):
        return self.patch(f"/api/v1/inspections/{inspection_id}", json=body, headers={"If-Match": etag})

    def observe(self, inspection_id, when, description="man ca 30 år, sluddrar", client_id=None, **extra):
        body = {
            "client_id": client_id or str(uuid.uuid4()),
            "observed_at": when.isoformat(),
            "category": "berusning",
            "intoxication_level": "markbart_paverkad",
            "description": description,
            **extra,
        }
        return self.post(f"/api/v1/inspections/{inspection_id}/observations", json=body)

    def sign(self, inspection_id, password=PASSWORD):
        return self.post(f"/api/v1/inspections/{inspection_id}/signatures", json={"password": password})


def recomputed_hash(inspection: dict) -> str:
    """SHA-256 of the canonical content as API.md defines it, from the inspection the API answers."""
    content = {
        "protocol": inspection["protocol"],
        "observations": sorted(inspection["observations"], key=lambda o: (o["observed_at"], o["id"])),
        "participants": sorted([p["user"]["id"], p["organisation"]["id"]] for p in inspection["participants"]),
    }
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()
