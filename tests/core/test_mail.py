"""Subjects that open with their TLP label, however long and in whatever language."""

from __future__ import annotations

import email
import email.policy

import pytest

from csirtnet.core.mail import Email


@pytest.mark.parametrize(
    "subject",
    [
        "TLP:AMBER INC-2026-000001: notificación cifrada de incidente",
        "TLP:AMBER+STRICT INC-2026-000002: " + "Servidor de mando y control en ministerio " * 4,
        "TLP:GREEN INC-2026-000003: plain ASCII subject that is long enough to be folded",
    ],
)
def test_subject_reads_back_exactly_with_its_label_first(subject):
    raw = Email(subject=subject, body="x", to=["a@example.org"]).message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert all(len(line) <= 998 for line in raw.splitlines())
