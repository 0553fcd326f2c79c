"""`taxii_pull.pull` against medallion, the OASIS reference TAXII 2.1 server, as a peer."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.taxii_pull import PullError, pull, subscribe

medallion = pytest.importorskip("medallion")
serving = pytest.importorskip("werkzeug.serving")

pytestmark = pytest.mark.django_db

API_ROOT = "trustgroup1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"  # "High Value Indicator Collection"
USERS = {"admin": "Password0"}  # medallion's own test login; the data file holds none


def _expected(data: dict) -> tuple[set[str], set[str]]:
    """
    Ids medallion serves by default (the last STIX 2.1 version of each object), split
    into those csirtnet stores and the TLP marking definitions it only reads as labels.
    """
    (collection,) = (c for c in data[API_ROOT]["collections"] if c["id"] == COLLECTION)
    served = [o for o in collection["objects"] if o.get("spec_version") == "2.1"]
    tlp = {o["id"] for o in served if o.get("definition_type") == "tlp"}
    return {o["id"] for o in served} - tlp, tlp


@pytest.fixture(scope="module")
def medallion_data(samples_dir, tmp_path_factory):  # type: ignore[no-untyped-def]
    copy = tmp_path_factory.mktemp("medallion") / "default_data.json"
    shutil.copy(samples_dir / "taxii21" / "medallion_default_data.json", copy)
    return copy


@pytest.fixture(scope="module")
def medallion_url(medallion_data):  # type: ignore[no-untyped-def]
    """Base URL of medallion serving a copy of its default data on a free local port."""
    app = medallion.application_instance  # module-level Flask app: configure it once
    config = {
        "users": USERS,
        "taxii": {"max_page_size": 100},
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(medallion_data),
        },
    }
    for name in ("users", "taxii", "backend"):
        medallion.set_config(app, name, config)
    if "objects" not in app.blueprints:
        medallion.register_blueprints(app)
    server = serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def lab(settings):  # type: ignore[no-untyped-def]
    settings.CSIRTNET_FETCH_ALLOW_HTTP = True
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    return settings


def test_pull_imports_a_medallion_collection_once(lab, medallion_url, medallion_data, owner):
    expected, markings = _expected(json.loads(medallion_data.read_text()))
    assert (len(expected), len(markings)) == (4, 1)
    subscription = subscribe(
        actor=owner, url=f"{medallion_url}/{API_ROOT}/", collection_id=COLLECTION
    )
    login = {"username": "admin", "password": USERS["admin"]}

    first = pull(actor=owner, subscription=subscription, per_request=2, **login)
    assert first.page_count == 3  # medallion's `next` paging, 2 + 2 + 1
    assert first.stored_count == len(expected)
    assert (first.rejected_count, first.conflict_count) == (0, 0)
    assert sum(report.marking_count for report in first.imports) == len(markings)
    copies = StixObject.objects.filter(owner=owner.organization)
    assert set(copies.values_list("stix_id", flat=True)) == expected
    subscription.refresh_from_db()
    assert subscription.last_error == ""
    assert subscription.added_after.startswith("2017-12-31T13:49:53.935")  # last date_added

    again = pull(actor=owner, subscription=subscription, per_request=2, **login)
    assert again.stored_count == 0
    assert again.unchanged_count == 1  # the object added at the saved position comes again
    assert copies.count() == len(expected)


def test_pull_with_a_wrong_password_fails_with_the_status(lab, medallion_url, owner):
    subscription = subscribe(
        actor=owner, url=f"{medallion_url}/{API_ROOT}/", collection_id=COLLECTION
    )
    with pytest.raises(PullError, match="HTTP status 401"):
        pull(actor=owner, subscription=subscription, username="admin", password="wrong")
    subscription.refresh_from_db()
    assert subscription.last_error.startswith("HTTP status 401")
