"""Helpers to call the TAXII 2.1 server with Django's test client."""

from __future__ import annotations

from typing import Any

from django.test import Client

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/csirtnet/"
NETWORK = "5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a01"
ADDRESSED = "5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a02"
PUBLIC = "5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a03"


def collection_url(collection: str, rest: str = "") -> str:
    """Return the URL of `collection` (an id) followed by `rest` ("objects/", …)."""
    return f"{ROOT}collections/{collection}/{rest}"


class Taxii:
    """Calls /taxii2/ with an API token as bearer (or none) and the TAXII media type."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.headers = {"Accept": TAXII}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        """GET `path` with query `params`; `headers` override the defaults."""
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body: Any, content_type: str = TAXII) -> Any:
        """POST `body` (JSON text) as `content_type`."""
        return self.client.post(path, body, content_type=content_type, headers=self.headers)
