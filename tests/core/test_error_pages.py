"""Error pages in the site's own style, saying what went wrong."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_form_over_the_size_limit_gets_a_page_that_says_so(client, owner):
    client.force_login(owner.user)
    response = client.post(reverse("incidents:create"), {"description": "x" * (6 * 1024 * 1024)})
    assert response.status_code == 400
    assert b"too large" in response.content
