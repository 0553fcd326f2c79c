"""Fixtures of the evidence tests: storage in a temporary folder, an incident, real files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.incidents.factories import IncidentFactory

# Real public files used as evidence bytes (shared/data/samples).
CSV_SAMPLE = "shadowserver/scan_ssh.csv"
JSON_SAMPLE = "stix21/oasis-examples/apt1.json"
XML_SAMPLE = "iodef/iodeflib_examples_iodef.xml"


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Keep evidence files in a temporary folder; queue no e-mail."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.VAR_DIR = tmp_path
    settings.CSIRTNET_EVIDENCE_MAX_BYTES = 1024 * 1024


@pytest.fixture
def incident(owner, recipient):  # type: ignore[no-untyped-def]
    """A TLP:AMBER incident of `owner`'s organization with `recipient`'s as participant."""
    return IncidentFactory(
        owner=owner.organization,
        author=owner.user,
        recipient_organizations=[recipient.organization],
    )


@pytest.fixture
def sample(samples_dir):  # type: ignore[no-untyped-def]
    """Return the bytes of a sample file by its path under shared/data/samples."""

    def read(relative: str = CSV_SAMPLE) -> bytes:
        return Path(samples_dir, relative).read_bytes()

    return read


@pytest.fixture
def add(sample):  # type: ignore[no-untyped-def]
    """Add a sample file as evidence of `parent` for `actor` through the service."""
    from csirtnet.evidence import services

    def add_evidence(actor, parent, relative=CSV_SAMPLE, content_type="text/csv", **fields):  # type: ignore[no-untyped-def]
        return services.add_evidence(
            actor=actor,
            parent=parent,
            name=Path(relative).name,
            content=io.BytesIO(sample(relative)),
            content_type=content_type,
            **fields,
        )

    return add_evidence
