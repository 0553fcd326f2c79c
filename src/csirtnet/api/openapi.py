"""The committed OpenAPI 3.1 document of the JSON API: rendering and comparison."""

from __future__ import annotations

import json
from typing import Any

from csirtnet.api.main import api

DEFAULT_PATH = "docs/api/openapi.json"  # relative to the repository root


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of /api/v1/ as plain JSON data."""
    data: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    return data


def render_openapi() -> str:
    """Return the document as committed: 2-space indent, sorted keys, trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
