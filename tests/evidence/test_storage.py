"""Evidence uploads: size limits, empty files, declared types against the bytes, names."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from csirtnet.evidence import services
from csirtnet.evidence.models import Evidence
from csirtnet.evidence.storage import check_media_type, clean_file_name, evidence_dir, sniff

pytestmark = pytest.mark.django_db

PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"  # a Windows program's start
ELF = b"\x7fELF\x02\x01\x01\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
HTML = b"  <!DOCTYPE html><html><script>alert(1)</script>"


def _add(actor, incident, content: bytes, content_type: str, name: str = "x.bin"):  # type: ignore[no-untyped-def]
    return services.add_evidence(
        actor=actor, parent=incident, name=name, content=io.BytesIO(content),
        content_type=content_type,
    )  # fmt: skip


def _kept_nothing() -> bool:
    files = [path for path in evidence_dir().rglob("*") if path.is_file()]
    return not Evidence.objects.exists() and not files


def test_an_oversized_file_is_refused_on_the_file_field_and_nothing_is_kept(
    owner, incident, settings, sample
):
    data = sample()
    settings.CSIRTNET_EVIDENCE_MAX_BYTES = len(data) - 1
    with pytest.raises(ValidationError) as error:
        _add(owner, incident, data, "text/csv")
    assert error.value.message_dict == {
        "file": [f"Evidence files are limited to {len(data) - 1} bytes."]
    }
    assert _kept_nothing()


def test_a_file_of_exactly_the_limit_is_kept(owner, incident, settings, sample):
    data = sample()
    settings.CSIRTNET_EVIDENCE_MAX_BYTES = len(data)
    assert _add(owner, incident, data, "text/csv").size == len(data)


def test_an_empty_file_is_refused_on_the_file_field(owner, incident):
    with pytest.raises(ValidationError) as error:
        _add(owner, incident, b"", "text/plain")
    assert error.value.message_dict == {"file": ["The file is empty."]}
    assert _kept_nothing()


@pytest.mark.parametrize(
    ("content", "declared", "message"),
    [
        (PE, "application/pdf", "is a program, not application/pdf"),
        (PE, "application/octet-stream", "is a program"),
        (ELF, "text/plain", "is a program"),
        (b"#!/bin/sh\nrm -rf /", "text/plain", "is a program"),
        (HTML, "text/plain", "HTML or SVG document"),
        (b"<svg onload=alert(1)>", "image/png", "HTML or SVG document"),
        (b"just text", "application/pdf", "not those of application/pdf"),
        (PDF, "image/png", "not those of image/png"),
        (b"\x00\x01binary", "text/csv", "binary data, not text/csv"),
    ],
)
def test_a_declared_type_the_bytes_contradict_is_refused_on_the_content_type_field(
    owner, incident, content, declared, message
):
    with pytest.raises(ValidationError) as error:
        _add(owner, incident, content, declared)
    (text,) = error.value.message_dict["content_type"]
    assert message in text
    assert _kept_nothing()


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (PE, "application/x-dosexec"),
        (ELF, "application/x-executable"),
        (HTML, "text/html"),
        (PDF, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"PK\x03\x04....", "application/zip"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "application/vnd.tcpdump.pcap"),
        (b"anything", "application/octet-stream"),
    ],
)
def test_honestly_declared_files_are_kept_even_programs(owner, incident, content, declared):
    evidence = _add(owner, incident, content, declared)
    assert evidence.content_type == declared


def test_real_sample_files_pass_with_their_types(owner, incident, sample):
    from tests.evidence.conftest import CSV_SAMPLE, JSON_SAMPLE, XML_SAMPLE

    for relative, declared in [
        (CSV_SAMPLE, "text/csv"), (JSON_SAMPLE, "application/json"),
        (XML_SAMPLE, "application/xml"),
    ]:  # fmt: skip
        assert _add(owner, incident, sample(relative), declared).size == len(sample(relative))


@pytest.mark.parametrize("declared", ["pdf", "", "application/", "a b/c"])
def test_a_malformed_media_type_is_refused_on_its_field(owner, incident, declared):
    with pytest.raises(ValidationError) as error:
        _add(owner, incident, PDF, declared)
    assert "content_type" in error.value.message_dict
    assert _kept_nothing()


def test_media_type_parameters_and_case_are_dropped(owner, incident):
    assert _add(owner, incident, b"a,b\n", "Text/CSV; charset=utf-8").content_type == "text/csv"


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\x\\Desktop\\dump.pcap", "dump.pcap"),
        ("../../etc/passwd", "passwd"),
        (".hidden", "hidden"),
        ("a\x00b\x1b[31m.txt", "ab[31m.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ('what?<>:"|*.txt', "what_______.txt"),
        ("x" * 300 + ".pcap", "x" * 250 + ".pcap"),
    ],
)
def test_file_names_are_cleaned(name, clean):
    assert clean_file_name(name) == clean


@pytest.mark.parametrize("name", ["", "..", "\u200b", "/", "a/../"])
def test_a_name_with_nothing_left_is_refused_on_the_file_field(name):
    with pytest.raises(ValidationError) as error:
        clean_file_name(name)
    assert "file" in error.value.message_dict


def test_sniff_finds_programs_and_pages():
    assert sniff(PE) == sniff(ELF) == "executable"
    assert sniff(b"\xcf\xfa\xed\xfe") == "executable"  # Mach-O 64-bit
    assert sniff(HTML) == "html"
    assert sniff(b'<?xml version="1.0"?><svg/>') == "html"
    assert sniff(PDF) is None
    check_media_type("application/pdf", PDF)
