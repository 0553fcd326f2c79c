"""
Query parameters that fuzzing (`fuzz/fuzz_taxii_query.py`) tries on PostgreSQL as well:
a NUL character (which PostgreSQL text cannot hold) must answer as a bad or empty
match, never as a server error.
"""

from __future__ import annotations

import pytest

from tests.api.client import token_for
from tests.taxii.client import NETWORK, Taxii, collection_url

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.mark.parametrize(
    "params",
    [
        {"match[id]": f"indicator--{NUL}"},
        {"match[type]": f"indicator{NUL}"},
        {"match[spec_version]": NUL},
        {"match[version]": f"2026-01-01T00:00:00Z{NUL}"},
        {"added_after": f"2026-01-01T00:00:00Z{NUL}"},
        {"next": NUL},
        {"limit": f"1{NUL}"},
    ],
    ids=lambda params: next(iter(params)),
)
@pytest.mark.parametrize("endpoint", ["objects/", "manifest/"])
def test_a_nul_in_a_query_parameter_is_no_server_error(owner, params, endpoint):
    taxii = Taxii(token_for(owner))
    response = taxii.client.get(collection_url(NETWORK, endpoint), params, headers=taxii.headers)
    assert response.status_code in (200, 400)
