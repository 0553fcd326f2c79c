"""Every answer carries the security headers: pages, the sign-in page, the API and TAXII."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.client import token_for

pytestmark = pytest.mark.django_db


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    hsts = response["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")
    assert "includeSubDomains" in hsts


def test_a_page_of_a_signed_in_member_has_every_header(owner):
    client = Client()
    client.force_login(owner.user)
    response = client.get(reverse("reports:inbox"), secure=True)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_the_sign_in_page_has_every_header(directory):
    response = Client().get(reverse("login"), secure=True)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_an_api_answer_has_every_header(owner):
    headers = {"Authorization": f"Bearer {token_for(owner)}"}
    response = Client().get("/api/v1/incidents", headers=headers, secure=True)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_a_taxii_answer_has_every_header(owner):
    headers = {"Authorization": f"Bearer {token_for(owner)}"}
    response = Client().get(
        reverse("taxii:discovery"),
        headers={**headers, "Accept": "application/taxii+json;version=2.1"},
        secure=True,
    )
    assert response.status_code == 200
    _assert_security_headers(response)


def test_no_hsts_over_plain_http_nor_with_insecure_cookies(directory, settings):
    assert "Strict-Transport-Security" not in Client().get(reverse("login"))
    settings.SECURE_HSTS_SECONDS = 0  # what CSIRTNET_SECURE_COOKIES=false gives
    assert "Strict-Transport-Security" not in Client().get(reverse("login"), secure=True)


def test_no_template_has_inline_script_style_or_event_handler():
    import re
    from pathlib import Path

    import csirtnet

    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)
    offenders = [
        str(path.relative_to(Path(csirtnet.__file__).parent))
        for path in Path(csirtnet.__file__).parent.rglob("templates/**/*.html")
        if inline.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _parse_settings(behind_tls_proxy: str | None):  # type: ignore[no-untyped-def]
    """Import the settings in a fresh interpreter; print `repr(SECURE_PROXY_SSL_HEADER)`."""
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if k != "CSIRTNET_BEHIND_TLS_PROXY"}
    if behind_tls_proxy is not None:
        environment["CSIRTNET_BEHIND_TLS_PROXY"] = behind_tls_proxy
    program = "import csirtnet.settings as s; print(repr(s.SECURE_PROXY_SSL_HEADER))"
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_proxy_https_header_is_not_trusted_by_default():
    for value in (None, "false"):
        parsed = _parse_settings(value)
        assert parsed.returncode == 0, parsed.stderr
        assert parsed.stdout == "None\n"


def test_the_proxy_https_header_is_trusted_when_behind_a_tls_proxy():
    parsed = _parse_settings("true")
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout == "('HTTP_X_FORWARDED_PROTO', 'https')\n"
    refused = _parse_settings("maybe")
    assert refused.returncode == 1
    assert (
        "ImproperlyConfigured: CSIRTNET_BEHIND_TLS_PROXY='maybe' is not a boolean "
        "(use true or false)." in refused.stderr
    )


def test_hsts_behind_a_tls_proxy_only_when_its_header_is_trusted(directory, settings):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in Client().get(reverse("login"), headers=forwarded)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = Client().get(reverse("login"), headers=forwarded)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in Client().get(reverse("login"))
