"""The sharing pages: indicator list, one stored object, file import."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import import_stix

pytestmark = pytest.mark.django_db

C2 = "stix21/oasis-examples/indicator-for-c2-ip-address.json"
INDICATOR_ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def _indicator(**extra: object) -> dict[str, object]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR_ID,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "Phishing host", "pattern": "[domain-name:value = 'phish.example.com']",
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", **extra,
    }  # fmt: skip


def _store(actor, *objects: dict, tlp: str = "green") -> None:  # type: ignore[no-untyped-def]
    bundle = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
              "objects": list(objects)}  # fmt: skip
    report = import_stix(actor=actor, data=json.dumps(bundle).encode(), source="test", tlp=tlp)
    assert report.stored_count == len(objects), report.outcomes


def _list(client, member, **params: str):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    return client.get(reverse("sharing:indicators"), params)


def test_list_shows_only_what_the_actor_sees(client, owner, outsider):
    _store(owner, _indicator(name="Amber of CERTuy"), tlp="amber")
    assert "Amber of CERTuy" in _list(client, owner).content.decode()
    response = _list(client, outsider)
    assert response.status_code == 200
    assert "Amber of CERTuy" not in response.content.decode()


def test_list_shows_the_latest_version_once(client, owner, outsider):
    later = "2024-02-01T00:00:00.000Z"
    _store(owner, _indicator(name="First version"))
    _store(owner, _indicator(name="Second version", modified=later))
    _store(owner, _indicator(id="indicator--0f2bb7c1-0b57-4bd1-8d9b-6a6f0b7d5e2a"))
    page = _list(client, outsider)
    assert page.context["page_obj"].paginator.count == 2
    assert "Second version" in page.content.decode()
    assert "First version" not in page.content.decode()


def test_list_filters(client, owner, outsider):
    other = "indicator--0f2bb7c1-0b57-4bd1-8d9b-6a6f0b7d5e2a"
    _store(owner, _indicator(name="Phishing host"))
    botnet = _indicator(id=other, name="Botnet C2", pattern="[ipv4-addr:value = '198.51.100.7']")
    _store(outsider, botnet, tlp="amber")
    names = lambda response: {row.body["name"] for row in response.context["page_obj"]}  # noqa: E731
    assert names(_list(client, outsider, q="phish")) == {"Phishing host"}
    assert names(_list(client, outsider, q="198.51.100.7")) == {"Botnet C2"}
    assert names(_list(client, outsider, q="Botnet")) == {"Botnet C2"}
    assert names(_list(client, outsider, tlp="amber")) == {"Botnet C2"}
    assert names(_list(client, outsider, owner="CERTuy")) == {"Phishing host"}
    assert names(_list(client, outsider, owner="CERT-MX", tlp="green")) == set()


def test_list_query_count_is_bounded(client, owner, outsider, django_assert_max_num_queries):
    for n in range(12):
        _store(owner, _indicator(id=f"indicator--0f2bb7c1-0b57-4bd1-8d9b-6a6f0b7d5e{n:02d}"))
    client.force_login(outsider.user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("sharing:indicators"))
    assert response.context["page_obj"].paginator.count == 12


def test_list_without_organization_is_refused(client, django_user_model, directory):
    client.force_login(django_user_model.objects.create_user(username="nobody"))
    assert client.get(reverse("sharing:indicators")).status_code == 403
    assert client.get(reverse("sharing:import")).status_code == 403


def test_detail_shows_the_object_and_its_versions(client, owner):
    _store(owner, _indicator(name="First version"), tlp="amber")
    _store(owner, _indicator(name="Second version", modified="2024-02-01T00:00:00.000Z"))
    first, second = StixObject.objects.order_by("modified_at")
    client.force_login(owner.user)
    page = client.get(reverse("sharing:object", args=[second.uuid])).content.decode()
    assert "Second version" in page and INDICATOR_ID in page
    assert reverse("sharing:object", args=[first.uuid]) in page
    assert reverse("sharing:search") + "?q=phish.example.com" in page


def test_detail_is_404_for_an_outsider_and_a_missing_object(client, owner, outsider):
    _store(owner, _indicator(), tlp="amber")
    url = reverse("sharing:object", args=[StixObject.objects.get().uuid])
    client.force_login(outsider.user)
    assert client.get(url).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(reverse("sharing:object", args=[missing])).status_code == 404
    client.force_login(owner.user)
    assert client.get(url).status_code == 200


def test_hostile_json_is_escaped(client, owner):
    hostile = "<script>alert(1)</script>"
    _store(owner, _indicator(name=hostile, x_note=hostile))
    client.force_login(owner.user)
    listed = client.get(reverse("sharing:indicators")).content.decode()
    shown = client.get(reverse("sharing:object", args=[StixObject.objects.get().uuid]))
    for page in (listed, shown.content.decode()):
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _upload(client, member, content: bytes, name: str = "file.json", **fields: str):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    upload = SimpleUploadedFile(name, content, content_type="application/json")
    return client.post(reverse("sharing:import"), {"file": upload, **fields})


def test_import_reports_stored_then_unchanged(client, owner, samples_dir):
    data = (samples_dir / C2).read_bytes()
    first = _upload(client, owner, data, tlp="green")
    assert first.status_code == 200
    assert (first.context["report"].stored_count, first.context["report"].unchanged_count) == (
        1,
        0,
    )
    assert "1 stored, 0 unchanged" in first.content.decode()
    second = _upload(client, owner, data)
    assert (second.context["report"].stored_count, second.context["report"].unchanged_count) == (
        0,
        1,
    )
    assert StixObject.objects.get().tlp == "green"


def test_import_of_a_misp_event(client, owner):
    event = {"Event": {"uuid": "5e2f8e1a-1d2c-4b7e-9f7a-2b1c3d4e5f60", "info": "Phishing",
                       "date": "2024-01-01", "timestamp": "1704067200", "Attribute": [
                           {"uuid": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "type": "domain",
                            "category": "Network activity", "value": "phish.example.com",
                            "timestamp": "1704067200", "to_ids": True}]}}  # fmt: skip
    response = _upload(client, owner, json.dumps(event).encode())
    assert response.status_code == 200, response.context["form"].errors
    assert response.context["report"].stored_count >= 1


def test_import_of_stix20_is_a_form_error(client, owner):
    old = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
           "spec_version": "2.0", "objects": []}  # fmt: skip
    response = _upload(client, owner, json.dumps(old).encode())
    assert response.status_code == 400
    assert "STIX 2.0" in str(response.context["form"].errors["file"])
    assert "STIX 2.0" in response.content.decode()
    assert not StixObject.objects.exists()


def test_import_of_not_json_and_too_large(client, owner, settings):
    assert _upload(client, owner, b"<xml/>").status_code == 400
    assert _upload(client, owner, b"{not json").status_code == 400
    settings.CSIRTNET_ATTACHMENT_MAX_BYTES = 10
    response = _upload(client, owner, json.dumps(_indicator()).encode())
    assert response.status_code == 400
    assert "larger" in str(response.context["form"].errors["file"])
