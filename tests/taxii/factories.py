"""Factories of STIX objects (sharing.StixObject rows) for the TAXII tests."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import factory

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.tlp import TLP

CREATED = "2026-01-01T00:00:00.000Z"


def indicator_body(
    number: int, *, modified: str = CREATED, stix_id: str | None = None
) -> dict[str, Any]:
    """Return a STIX 2.1 indicator of the address 198.51.100.<number % 256>."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.UUID(int=number + 1, version=4)}",
        "created": CREATED,
        "modified": modified,
        "name": f"Indicator {number}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{number % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


def row_for(body: dict[str, Any], **fields: Any) -> StixObject:
    """Return an unsaved row holding `body` (for `bulk_create`), GREEN unless told."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    version = body.get("modified") or body.get("created") or ""
    values: dict[str, Any] = {
        "stix_id": body["id"],
        "type": body["type"],
        "spec_version": body.get("spec_version", "2.1"),
        "version": version,
        "modified_at": datetime.fromisoformat(version) if version else None,
        "body": body,
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "tlp": TLP.GREEN,
        **fields,
    }
    return StixObject(**values)


class StixObjectFactory(factory.django.DjangoModelFactory):
    """One version of an indicator, labelled GREEN, owned by `owner` (an Organization)."""

    class Meta:
        model = StixObject
        skip_postgeneration_save = True

    body = factory.Sequence(indicator_body)
    stix_id = factory.LazyAttribute(lambda o: o.body["id"])
    type = factory.LazyAttribute(lambda o: o.body["type"])
    version = factory.LazyAttribute(lambda o: o.body["modified"])
    modified_at = factory.LazyAttribute(lambda o: datetime.fromisoformat(o.body["modified"]))
    content_sha256 = factory.LazyAttribute(
        lambda o: hashlib.sha256(json.dumps(o.body, sort_keys=True).encode()).hexdigest()
    )
    tlp = TLP.GREEN
    date_added = factory.LazyFunction(lambda: datetime.now(UTC))

    @factory.post_generation
    def recipient_organizations(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.recipient_organizations.set(extracted)

    @factory.post_generation
    def recipient_people(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.recipient_people.set(extracted)
