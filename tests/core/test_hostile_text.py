"""
Hostile text from every ingest path renders inert: markup in abuse reports (Shadowserver,
abuse.ch), STIX objects, MISP events and incidents shows escaped on every page that
shows it, never as a `javascript:` link; and every CSV export escapes cells a
spreadsheet would run as formulas (`core.csvsafe`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from csirtnet.core.csvsafe import escape_spreadsheet_cell
from csirtnet.incidents import services as incidents
from csirtnet.reports.delivery import build_digest_message
from csirtnet.reports.models import Digest, Event
from csirtnet.reports.services import ingest_file
from csirtnet.sharing import services as sharing
from csirtnet.sharing.models import StixObject
from tests.api.client import report

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
SVG = '"><svg onload=alert(3)>'
LINK = "javascript:alert(4)"
MARKUP = (SCRIPT, IMAGE, SVG)
HOSTILE = f"{SCRIPT} {IMAGE} {SVG} {LINK}"
JAVASCRIPT_LINK = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
FORMULAS = ("=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1")
URUGUAY_IP = "200.40.0.1"  # routed to CERTuy, the organization of `owner`


def assert_inert(response: Any) -> str:
    """Assert a page shows no raw hostile markup and no javascript: link; return its text."""
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    for markup in MARKUP:
        assert markup not in page, markup
    assert not JAVASCRIPT_LINK.search(page)
    return page


def assert_shown_escaped(pages: list[str]) -> None:
    """Assert the hostile text did reach the pages, escaped (else the test proves nothing)."""
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in page for page in pages)


def assert_cells_escaped(rows: list[list[str]]) -> None:
    """Assert no cell of an exported CSV starts as a spreadsheet formula."""
    for row in rows:
        for cell in row:
            assert escape_spreadsheet_cell(cell) == cell, repr(cell)


def _pages(client: Any, member: Any, urls: list[str]) -> list[str]:
    client.force_login(member.user)
    return [assert_inert(client.get(url)) for url in urls]


# --- abuse reports ---------------------------------------------------------------------


def _ingest(tmp_path: Path, name: str, text: str, routing_table: Any) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    ingest_file(path=path, table=routing_table)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _shadowserver_report(samples_dir: Path) -> str:
    """The real sinkhole HTTP sample, its free-text columns replaced with hostile text."""
    sample = samples_dir / "shadowserver" / "event4_sinkhole_http.csv"
    rows = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8"))))
    header, first = rows[0], rows[1]
    values = dict(zip(header, first, strict=True))
    values["ip"] = URUGUAY_IP
    for column in ("infection", "tag", "http_agent", "http_referer", "http_host", "family"):
        if column in values:
            values[column] = HOSTILE
    if "http_url" in values:
        values["http_url"] = "/x?q=" + SCRIPT
    return _csv_text(header, [[values[name] for name in header]])


def _abusech_report() -> str:
    """A URLhaus feed row with markup in its URL path, threat and tags."""
    return (
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
        f'"1","2026-01-01 00:00:00","http://{URUGUAY_IP}/a?{SCRIPT}","online",'
        f'"2026-01-01 00:00:00","{IMAGE}","{SCRIPT},{LINK}","{LINK}","{SVG}"\n'
    )


def _generic_report() -> str:
    """A generic CSV: hostile text in the family, formulas in every free-text cell."""
    header = ["ip", "url", "malware_family", "note"]
    rows = [[URUGUAY_IP, f"https://evil.example/{SCRIPT}", HOSTILE, LINK]]
    rows += [
        [f"200.40.0.{index + 2}", "", formula, formula] for index, formula in enumerate(FORMULAS)
    ]
    rows += [[SCRIPT, LINK, IMAGE, SVG]]  # rejected: its reason quotes the address
    return _csv_text(header, rows)


def test_abuse_report_text_shows_escaped_on_every_report_page(
    client, owner, secretariat_member, samples_dir, routing_table, tmp_path
):
    _ingest(
        tmp_path,
        "2026-01-01-event4_sinkhole_http.csv",
        _shadowserver_report(samples_dir),
        routing_table,
    )  # noqa: E501
    _ingest(tmp_path, "urlhaus.csv", _abusech_report(), routing_table)
    _ingest(tmp_path, "generic.csv", _generic_report(), routing_table)
    events = list(Event.objects.filter(organization=owner.organization))
    assert len(events) >= 3
    reports = [
        reverse("reports:report_detail", args=[report_uuid])
        for report_uuid in {event.report.uuid for event in events}
    ]
    urls = [reverse("reports:inbox"), *reports]
    urls += [reverse("reports:event_detail", args=[event.uuid]) for event in events]
    assert_shown_escaped(_pages(client, owner, urls))
    # the secretariat sees the whole reports, rejected rows with their reasons too
    assert_shown_escaped(
        _pages(client, secretariat_member, [reverse("reports:overview"), *reports])
    )


def test_every_digest_csv_escapes_formulas(owner, routing_table, tmp_path):
    _ingest(tmp_path, "generic.csv", _generic_report(), routing_table)
    digests = list(Digest.objects.all())
    assert digests
    families = set()
    for digest in digests:
        _name, content, _mimetype = build_digest_message(digest).attachments[0]
        rows = list(csv.reader(io.StringIO(content)))
        assert_cells_escaped(rows)
        families |= {row[rows[0].index("malware_family")] for row in rows[1:]}
    # ingest strips the tab and carriage return around a value; what stays is escaped
    assert {"'=1+1", "'+1+1", "'-1+1", "'@SUM(1)", "'=1"} <= families


# --- STIX and MISP -----------------------------------------------------------------------


def _stix_bundle() -> bytes:
    indicator = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": HOSTILE, "description": HOSTILE, "pattern_type": "stix",
        "pattern": f"[url:value = 'http://evil.example/{SCRIPT}'] OR [domain-name:value = '{LINK}']",  # noqa: E501
        "valid_from": "2026-01-01T00:00:00Z", "labels": [SCRIPT],
        "external_references": [{"source_name": SVG, "url": LINK, "description": IMAGE}],
    }  # fmt: skip
    return json.dumps(
        {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [indicator]}
    ).encode()  # noqa: E501


def _misp_event() -> bytes:
    attribute = {
        "uuid": str(uuid.uuid4()), "type": "url", "category": "Network activity",
        "value": f"http://evil.example/{SCRIPT}", "to_ids": True, "comment": HOSTILE,
    }  # fmt: skip
    other = {
        "uuid": str(uuid.uuid4()), "type": "text", "category": "Other",
        "value": HOSTILE, "to_ids": False, "comment": LINK,
    }  # fmt: skip
    event = {
        "uuid": str(uuid.uuid4()), "info": HOSTILE, "date": "2026-01-01",
        "Tag": [{"name": "tlp:green"}, {"name": SCRIPT}], "Attribute": [attribute, other],
    }  # fmt: skip
    return json.dumps({"Event": event}).encode()


def test_stix_and_misp_text_shows_escaped_on_every_sharing_page(client, owner):
    sharing.import_stix(actor=owner, data=_stix_bundle(), source=SCRIPT, tlp="green")
    sharing.import_misp(actor=owner, data=_misp_event(), source=IMAGE, tlp="green")
    rows = list(StixObject.objects.all())
    assert len(rows) >= 4
    urls = [reverse("sharing:indicators"), reverse("sharing:search") + "?q=evil.example"]
    urls += [reverse("sharing:object", args=[row.uuid]) for row in rows]
    assert_shown_escaped(_pages(client, owner, urls))


# --- incidents ---------------------------------------------------------------------------


def test_incident_text_shows_escaped_on_every_incident_page(client, owner, recipient):
    incident = report(owner, title=HOSTILE, description=HOSTILE)
    incidents.add_comment(actor=owner, incident=incident, text=HOSTILE)
    urls = [reverse("incidents:list"), reverse("incidents:detail", args=[incident.uuid])]
    assert_shown_escaped(_pages(client, owner, urls))
    assert_shown_escaped(_pages(client, recipient, urls))


def test_incident_csv_export_escapes_formulas(client, owner):
    for formula in FORMULAS:
        report(owner, title=formula.strip() or formula, description=formula)
    client.force_login(owner.user)
    response = client.get(reverse("incidents:export"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert_cells_escaped(rows)
    titles = {row[rows[0].index("title")] for row in rows[1:]}
    assert {"'=1+1", "'+1+1", "'-1+1", "'@SUM(1)"} <= titles
