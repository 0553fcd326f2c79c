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


@pytest.mark.django_db
def test_the_403_page_keeps_the_incident_rules_on_incident_pages(client, owner, recipient):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory(
        owner=owner.organization, author=owner.user,
        recipient_organizations=[recipient.organization],
    )  # fmt: skip
    client.force_login(recipient.user)
    response = client.get(
        reverse("incidents:edit", args=[incident.uuid]), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 403
    assert "only the reporting organization edits an incident" in response.content.decode()


@pytest.mark.django_db
def test_the_403_page_elsewhere_names_no_kind_of_object(rf, directory):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.utils import translation

    request = rf.get("/")
    request.user = AnonymousUser()
    with translation.override("en"):
        text = render_to_string("403.html", request=request)
    main = text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "You can see this, but your organization may not do what you asked.</p>" in main
    assert "incident" not in main and "request" not in main
