"""
Fuzz the query parameters of the TAXII 2.1 server (`match[id]`, `match[type]`,
`match[version]`, `match[spec_version]`, `added_after`, `limit`, `next`) and the
`Accept` header, through the views, with a member's token, on a throw-away SQLite
database holding the OASIS examples. An input is a byte choosing the endpoint, the raw
query string, optionally a line break and an `Accept` header. Documented answers: 200,
or a TAXII error message with 400, 404 or 406; another status or an exception is a crash.
"""

from __future__ import annotations

import base64
import logging
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django(database=True)

from django.test import Client  # noqa: E402

from csirtnet.accounts.services import create_api_token  # noqa: E402
from csirtnet.sharing import services  # noqa: E402

ROOT = "/taxii2/csirtnet/collections/"
OBJECT_ID = "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"  # an OASIS example, GREEN
DOCUMENTED = {200, 400, 404, 406}
SEEDS = [
    b"", b"limit=1", b"limit=0", b"limit=-1", b"limit=99999999999999999999", b"limit=1e3",
    b"added_after=2016-01-01T00:00:00Z", b"added_after=2016-01-01T00:00:00",
    b"added_after=0001-01-01T00:00:00%2B14:00", b"added_after=9999-12-31T23:59:59-14:00",
    b"match[type]=indicator,malware&match[spec_version]=2.1",
    b"match[id]=" + OBJECT_ID.encode() + b"&match[version]=all",
    b"match[version]=first,last,2016-04-06T20:03:48.000Z",
    b"next=" + base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|1").rstrip(b"="),
    b"next=%FF%FE&limit=2", b"limit=2\napplication/taxii+json;version=2.1",
    b"\napplication/json;q=0, */*;q=0.5", b"\napplication/taxii+json;version=2.0",
]  # fmt: skip


def paths() -> list[str]:
    """Return the endpoints that read query parameters, in both readable collections."""
    found = []
    for collection in ("network", "public"):
        base = f"{ROOT}{collection}/"
        found += [
            f"{base}objects/",
            f"{base}manifest/",
            f"{base}objects/{OBJECT_ID}/",
            f"{base}objects/{OBJECT_ID}/versions/",
        ]
    return found


def one_input(data: bytes) -> None:
    """GET the chosen endpoint with the fuzzed query string (and Accept header)."""
    if not data:
        return
    path = PATHS[data[0] % len(PATHS)]
    query, _newline, accept = data[1:].partition(b"\n")
    extra = {"QUERY_STRING": query.decode("latin-1")}  # WSGI: the raw bytes, as Latin-1
    if accept:
        extra["HTTP_ACCEPT"] = accept.decode("latin-1")
    response = CLIENT.get(path, headers={"Authorization": f"Bearer {TOKEN}"}, **extra)
    assert response.status_code in DOCUMENTED, (path, response.status_code)


if __name__ == "__main__":
    ACTOR = common.member("fuzz")
    _token, TOKEN = create_api_token(user=ACTOR.user, name="fuzz", read_only=True)
    for index, sample in enumerate(common.samples("stix21/oasis-examples/*.json")):
        label = ("clear", "green", "amber")[index % 3]
        services.import_stix(actor=ACTOR, data=sample.read_bytes(), source="fuzz", tlp=label)
    CLIENT = Client(raise_request_exception=True, HTTP_HOST="localhost")
    PATHS = paths()
    common.instrument()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 4xx are expected here
    seeds = [bytes([index % len(PATHS)]) + seed for index, seed in enumerate(SEEDS * 2)]
    common.run(one_input, name="taxii_query", seeds=seeds)
