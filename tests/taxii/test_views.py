"""TAXII 2.1 endpoints through Django's test client: shapes, filters, media types, access."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from csirtnet.sharing import stix
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.tlp import TLP
from csirtnet.taxii.models import AddStatus
from tests.api.client import token_for
from tests.taxii.client import ADDRESSED, NETWORK, PUBLIC, ROOT, TAXII, Taxii, collection_url
from tests.taxii.factories import StixObjectFactory, indicator_body

pytestmark = pytest.mark.django_db

V1, V2, V3 = "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"


@pytest.fixture
def taxii(owner):
    return Taxii(token_for(owner))


def _three_versions(owner):
    """One indicator in three versions, GREEN, added a second apart."""
    start = datetime(2026, 4, 1, tzinfo=UTC)
    stix_id = "indicator--11111111-1111-4111-8111-111111111111"
    return [
        StixObjectFactory(
            body=indicator_body(7, modified=version, stix_id=stix_id),
            owner=owner.organization,
            date_added=start + timedelta(seconds=number),
        )
        for number, version in enumerate([V1, V2, V3])
    ]


def test_discovery_names_the_one_api_root(taxii):
    response = taxii.get("/taxii2/")
    assert response.status_code == 200
    assert response["Content-Type"] == TAXII
    body = response.json()
    assert body["default"] == "http://testserver/taxii2/csirtnet/"
    assert body["api_roots"] == [body["default"]]
    assert body["title"]


def test_api_root_gives_versions_and_max_content_length(taxii):
    body = taxii.get(ROOT).json()
    assert body["versions"] == [TAXII]
    assert body["max_content_length"] > 0


def test_collections_list_three_scopes_with_rights_per_token(owner):
    listed = Taxii(token_for(owner)).get(ROOT + "collections/").json()["collections"]
    by_alias = {c["alias"]: c for c in listed}
    assert [by_alias[a]["id"] for a in ("network", "addressed", "public")] == [
        NETWORK,
        ADDRESSED,
        PUBLIC,
    ]
    assert by_alias["network"]["can_read"] and by_alias["network"]["can_write"]
    assert by_alias["public"]["can_write"] is False
    read_only = Taxii(token_for(owner, read_only=True)).get(ROOT + "collections/").json()
    assert not any(c["can_write"] for c in read_only["collections"])


def test_anonymous_lists_only_the_public_collection():
    listed = Taxii().get(ROOT + "collections/").json()["collections"]
    assert [c["id"] for c in listed] == [PUBLIC]


def test_one_collection_and_an_unknown_one(taxii):
    assert taxii.get(collection_url(NETWORK)).json()["id"] == NETWORK
    response = taxii.get(collection_url("5a2b9f1c-0000-4000-8000-000000000000"))
    assert response.status_code == 404
    assert response["Content-Type"] == TAXII
    assert set(response.json()) >= {"title", "http_status"}


def test_objects_of_a_collection_in_date_added_order_with_headers(taxii, owner):
    start = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [
        StixObjectFactory(owner=owner.organization, date_added=start + timedelta(seconds=s))
        for s in (2, 0, 1)
    ]
    response = taxii.get(collection_url(NETWORK, "objects/"))
    body = response.json()
    assert [o["id"] for o in body["objects"]] == [
        rows[1].stix_id,
        rows[2].stix_id,
        rows[0].stix_id,
    ]
    assert body["more"] is False and "next" not in body
    assert response["X-TAXII-Date-Added-First"] == "2026-04-01T00:00:00.000000Z"
    assert response["X-TAXII-Date-Added-Last"] == "2026-04-01T00:00:02.000000Z"


def test_limit_and_next_page_through_objects_sharing_a_date_added(taxii, owner):
    same = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [StixObjectFactory(owner=owner.organization, date_added=same) for _ in range(5)]
    url = collection_url(NETWORK, "objects/")
    first = taxii.get(url, {"limit": 2}).json()
    assert first["more"] is True
    second = taxii.get(url, {"limit": 2, "next": first["next"]}).json()
    third = taxii.get(url, {"limit": 2, "next": second["next"]}).json()
    assert third["more"] is False
    seen = [o["id"] for page in (first, second, third) for o in page["objects"]]
    assert seen == [row.stix_id for row in rows]


def test_an_unknown_next_or_a_bad_limit_is_a_bad_request(taxii):
    url = collection_url(NETWORK, "objects/")
    assert taxii.get(url, {"next": "garbage"}).status_code == 400
    assert taxii.get(url, {"limit": "0"}).status_code == 400
    assert taxii.get(url, {"added_after": "yesterday"}).status_code == 400


def test_added_after_returns_only_later_objects(taxii, owner):
    start = datetime(2026, 4, 1, tzinfo=UTC)
    early = StixObjectFactory(owner=owner.organization, date_added=start)
    late = StixObjectFactory(owner=owner.organization, date_added=start + timedelta(seconds=1))
    body = taxii.get(
        collection_url(NETWORK, "objects/"), {"added_after": "2026-04-01T00:00:00.000000Z"}
    ).json()
    assert [o["id"] for o in body["objects"]] == [late.stix_id]
    assert early.stix_id != late.stix_id


def test_match_id_type_and_spec_version_take_comma_lists(taxii, owner):
    a, b, c = (StixObjectFactory(owner=owner.organization) for _ in range(3))
    url = collection_url(NETWORK, "objects/")
    body = taxii.get(url, {"match[id]": f"{a.stix_id},{c.stix_id}"}).json()
    assert {o["id"] for o in body["objects"]} == {a.stix_id, c.stix_id}
    assert taxii.get(url, {"match[type]": "malware,tool"}).json() == {"more": False}
    assert len(taxii.get(url, {"match[type]": "tool,indicator"}).json()["objects"]) == 3
    assert taxii.get(url, {"match[spec_version]": "2.0"}).json() == {"more": False}
    assert b.stix_id in {
        o["id"] for o in taxii.get(url, {"match[spec_version]": "2.1"}).json()["objects"]
    }


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (None, [V3]),
        ("last", [V3]),
        ("first", [V1]),
        ("all", [V1, V2, V3]),
        ("first,last", [V1, V3]),
        (V2, [V2]),
        ("2026-02-01T00:00:00Z", [V2]),
    ],
)
def test_match_version(taxii, owner, wanted, expected):
    _three_versions(owner)
    params = {"match[version]": wanted} if wanted else {}
    body = taxii.get(collection_url(NETWORK, "objects/"), params).json()
    assert [o["modified"] for o in body["objects"]] == expected


def test_get_an_object_returns_its_last_version_by_default(taxii, owner):
    rows = _three_versions(owner)
    url = collection_url(NETWORK, f"objects/{rows[0].stix_id}/")
    assert [o["modified"] for o in taxii.get(url).json()["objects"]] == [V3]
    body = taxii.get(url, {"match[version]": "all", "limit": 2}).json()
    assert [o["modified"] for o in body["objects"]] == [V1, V2] and body["more"] is True


def test_object_versions_lists_every_version(taxii, owner):
    rows = _three_versions(owner)
    response = taxii.get(collection_url(NETWORK, f"objects/{rows[0].stix_id}/versions/"))
    assert response.json() == {"more": False, "versions": [V1, V2, V3]}
    assert response["X-TAXII-Date-Added-Last"] == "2026-04-01T00:00:02.000000Z"


def test_manifest_records(taxii, owner):
    rows = _three_versions(owner)
    body = taxii.get(collection_url(NETWORK, "manifest/")).json()
    assert body["objects"] == [
        {
            "id": rows[0].stix_id,
            "date_added": "2026-04-01T00:00:02.000000Z",
            "version": V3,
            "media_type": "application/stix+json;version=2.1",
        }
    ]


def test_a_missing_object_is_not_found(taxii):
    url = collection_url(NETWORK, "objects/indicator--00000000-0000-4000-8000-000000000000/")
    assert taxii.get(url).status_code == 404
    assert taxii.get(url + "versions/").status_code == 404


@pytest.mark.parametrize("accept", ["application/json", "application/taxii+json;version=2.0"])
def test_an_unacceptable_accept_header_is_406(taxii, accept):
    response = taxii.get(ROOT, Accept=accept)
    assert response.status_code == 406
    assert response.json()["http_status"] == "406"


@pytest.mark.parametrize(
    "accept", ["application/taxii+json", "*/*", "application/taxii+json; version=2.1"]
)
def test_acceptable_accept_headers(taxii, accept):
    assert taxii.get(ROOT, Accept=accept).status_code == 200


def test_adding_objects_needs_the_taxii_content_type(taxii):
    envelope = json.dumps({"objects": [indicator_body(1)]})
    url = collection_url(NETWORK, "objects/")
    assert taxii.post(url, envelope, content_type="application/json").status_code == 415
    assert not StixObject.objects.exists()


def test_anonymous_gets_401_except_on_the_public_collection(owner):
    StixObjectFactory(owner=owner.organization, tlp=TLP.CLEAR)
    StixObjectFactory(owner=owner.organization, tlp=TLP.GREEN)
    anonymous = Taxii()
    for collection in (NETWORK, ADDRESSED):
        response = anonymous.get(collection_url(collection, "objects/"))
        assert response.status_code == 401
        assert "Basic" in response["WWW-Authenticate"]
    body = anonymous.get(collection_url(PUBLIC, "objects/")).json()
    assert len(body["objects"]) == 1  # the CLEAR one


def test_an_unknown_token_is_401_even_on_the_public_collection():
    response = Taxii("cn_not-a-token").get(collection_url(PUBLIC, "objects/"))
    assert response.status_code == 401


def test_basic_auth_takes_the_token_as_password(owner):
    StixObjectFactory(owner=owner.organization)
    taxii = Taxii()
    credentials = base64.b64encode(f"anyone:{token_for(owner)}".encode()).decode()
    taxii.headers["Authorization"] = f"Basic {credentials}"
    assert len(taxii.get(collection_url(NETWORK, "objects/")).json()["objects"]) == 1


def test_a_read_only_token_may_not_add_objects(owner):
    taxii = Taxii(token_for(owner, read_only=True))
    response = taxii.post(collection_url(NETWORK, "objects/"), json.dumps({"objects": []}))
    assert response.status_code == 403
    assert response["Content-Type"] == TAXII


def test_nobody_adds_to_the_public_collection(taxii):
    response = taxii.post(collection_url(PUBLIC, "objects/"), json.dumps({"objects": []}))
    assert response.status_code == 403


def test_add_objects_answers_a_status_for_its_requester_only(owner, recipient):
    taxii = Taxii(token_for(owner))
    green = {**indicator_body(1), "object_marking_refs": [
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"  # TLP 1.0 GREEN
    ]}  # fmt: skip
    unlabelled = indicator_body(2)
    response = taxii.post(
        collection_url(NETWORK, "objects/"), json.dumps({"objects": [green, unlabelled, 3]})
    )
    assert response.status_code == 202
    status = response.json()
    assert (status["status"], status["total_count"], status["success_count"]) == ("complete", 3, 1)
    assert status["successes"] == [{"id": green["id"], "version": green["modified"]}]
    assert status["failure_count"] == 2 and status["pending_count"] == 0
    row = StixObject.objects.get()
    assert (row.tlp, row.owner, row.body) == (TLP.GREEN, owner.organization, green)
    status_url = f"{ROOT}status/{status['id']}/"
    assert taxii.get(status_url).json() == status
    assert Taxii(token_for(recipient)).get(status_url).status_code == 404
    assert Taxii().get(status_url).status_code == 401
    assert AddStatus.objects.count() == 1


def test_adding_the_same_object_twice_stores_one_row(taxii):
    envelope = json.dumps({"objects": [indicator_body(1)]})
    for _ in range(2):
        status = taxii.post(collection_url(ADDRESSED, "objects/"), envelope).json()
        assert status["success_count"] == 1
    assert StixObject.objects.get().tlp == TLP.AMBER


def test_a_body_that_is_no_envelope_is_a_bad_request(taxii):
    response = taxii.post(collection_url(NETWORK, "objects/"), "[1, 2]")
    assert response.status_code == 400


def test_amber_object_of_certuy_never_reaches_cert_mx(owner, recipient, outsider):
    amber = StixObjectFactory(
        owner=owner.organization,
        tlp=TLP.AMBER,
        recipient_organizations=[recipient.organization],
    )
    mx = Taxii(token_for(outsider))
    for collection in (NETWORK, ADDRESSED, PUBLIC):
        for rest in ("objects/", "manifest/"):
            body = mx.get(collection_url(collection, rest), {"match[version]": "all"}).json()
            assert "objects" not in body
        for rest in (f"objects/{amber.stix_id}/", f"objects/{amber.stix_id}/versions/"):
            assert mx.get(collection_url(collection, rest)).status_code == 404
    ar = Taxii(token_for(recipient))
    assert ar.get(collection_url(ADDRESSED, f"objects/{amber.stix_id}/")).status_code == 200
    assert "objects" not in ar.get(collection_url(NETWORK, "objects/")).json()


def test_red_object_reaches_the_person_named_not_their_colleagues(owner, recipient):
    red = StixObjectFactory(
        owner=owner.organization, author=owner.user, tlp=TLP.RED, recipient_people=[recipient.user]
    )
    url = collection_url(ADDRESSED, f"objects/{red.stix_id}/")
    assert Taxii(token_for(recipient)).get(url).status_code == 200
    from tests.conftest import _member

    colleague = _member("colleague", "CERT.ar")
    assert Taxii(token_for(colleague)).get(url).status_code == 404


def test_invalid_and_conflicting_objects_fail_and_the_rest_is_stored(taxii):
    url = collection_url(ADDRESSED, "objects/")
    taxii.post(url, json.dumps({"objects": [indicator_body(1)]}))
    changed = {**indicator_body(1), "name": "Changed without a new modified"}
    invalid = {key: value for key, value in indicator_body(2).items() if key != "pattern"}
    status = taxii.post(url, json.dumps({"objects": [changed, invalid, indicator_body(3)]})).json()
    assert [f["id"] for f in status["failures"]] == [changed["id"], invalid["id"]]
    assert all(f["message"] for f in status["failures"])
    assert status["successes"] == [{"id": indicator_body(3)["id"], "version": V1}]
    assert StixObject.objects.count() == 2


def test_an_envelope_of_stix_2_0_objects_is_a_bad_request(taxii):
    old = {**indicator_body(1)}
    del old["spec_version"]
    response = taxii.post(collection_url(ADDRESSED, "objects/"), json.dumps({"objects": [old]}))
    assert response.status_code == 400
    assert not StixObject.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"added_after": "0001-01-01T00:00:00+01:00"},
        {"added_after": "9999-12-31T23:59:59-01:00"},
        {"match[version]": "0001-01-01T00:00:00+05:00"},
        {"next": base64.urlsafe_b64encode(b"0001-01-01T00:00:00+01:00|5").decode()},
        {"next": base64.urlsafe_b64encode(b"2026-01-01T00:00:00|5").decode()},
        {"next": base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|" + b"9" * 23).decode()},
    ],
)  # fmt: skip
def test_out_of_range_times_and_odd_cursors_are_400_not_500(owner, params):
    response = Taxii(token_for(owner)).get(ROOT + f"collections/{NETWORK}/objects/", params)
    assert response.status_code == 400
    assert response.json()["http_status"] == "400"  # a string in TAXII 2.1 (section 3.6.1)


def test_copies_held_by_two_organizations_appear_once(owner, recipient, outsider):
    rows = _three_versions(owner)
    later = datetime(2026, 5, 1, tzinfo=UTC)
    for number, row in enumerate(rows):
        StixObjectFactory(
            body=row.body,
            owner=recipient.organization,
            date_added=later + timedelta(seconds=number),
        )
    url = collection_url(NETWORK, "objects/")
    for member in (owner, recipient, outsider):
        taxii = Taxii(token_for(member))
        every = taxii.get(url, {"match[version]": "all"}).json()["objects"]
        assert [o["modified"] for o in every] == [V1, V2, V3]
        versions = taxii.get(collection_url(NETWORK, f"objects/{rows[0].stix_id}/versions/"))
        assert versions.json()["versions"] == [V1, V2, V3]
        manifest = taxii.get(collection_url(NETWORK, "manifest/")).json()["objects"]
        assert [(m["id"], m["version"]) for m in manifest] == [(rows[0].stix_id, V3)]


def test_a_relationship_to_a_red_object_is_stored_red_and_its_success_says_why(owner, taxii):
    red = StixObjectFactory(owner=owner.organization, author=owner.user, tlp=TLP.RED)
    relationship = {
        "type": "relationship", "spec_version": "2.1",
        "id": "relationship--8f7a6b5c-4d3e-4f2a-9b1c-0d9e8f7a6b5c",
        "created": V1, "modified": V1, "relationship_type": "indicates",
        "source_ref": red.stix_id, "target_ref": "malware--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "object_marking_refs": [stix.TLP2_MARKING_IDS[TLP.GREEN]],
    }  # fmt: skip

    url = collection_url(NETWORK, "objects/")
    status = taxii.post(url, json.dumps({"objects": [relationship]}))

    assert status.json()["successes"] == [{
        "id": relationship["id"], "version": V1,
        "message": f"Labelled TLP:RED, not TLP:GREEN: the strictest of the objects it refers "
                   f"to ({red.stix_id}).",
    }]  # fmt: skip
    assert StixObject.objects.get(stix_id=relationship["id"]).tlp == TLP.RED
    listed = taxii.get(url).json().get("objects", [])
    assert relationship["id"] not in {obj["id"] for obj in listed}


@pytest.mark.parametrize("wanted", ["2026-13-01T00:00:00Z", "all,2026-13-01T00:00:00Z"])
@pytest.mark.parametrize("rest", ["objects/", "manifest/", "{id}/", "{id}/versions/"])
def test_an_impossible_match_version_is_400_on_every_endpoint(taxii, owner, wanted, rest):
    rows = _three_versions(owner)
    url = collection_url(NETWORK, rest.format(id=f"objects/{rows[0].stix_id}"))
    response = taxii.get(url, {"match[version]": wanted})
    assert response.status_code == 400
    assert response["Content-Type"] == TAXII
    assert response.json() == {
        "title": "Invalid parameter",
        "http_status": "400",
        "description": "match[version] must be an RFC 3339 timestamp, "
        "e.g. 2026-01-01T00:00:00.000000Z.",
    }
