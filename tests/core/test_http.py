"""The hardened outbound client refuses non-https, non-public and oversized fetches."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from csirtnet.core import http
from csirtnet.core.http import FetchRefused, ResponseTooLarge, hardened_session


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = b"x" * (5000 if self.path == "/big" else 10)
        self.send_response(200)
        if self.path != "/big-chunked":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if self.path != "/big-chunked" else b"y" * 5000)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def local_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def lab(settings):  # type: ignore[no-untyped-def]
    settings.CSIRTNET_FETCH_ALLOW_HTTP = True
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CSIRTNET_FETCH_MAX_BYTES = 1000
    return settings


def test_http_is_refused_without_the_setting(settings):
    settings.CSIRTNET_FETCH_ALLOW_HTTP = False
    with pytest.raises(FetchRefused, match="https"):
        hardened_session().get("http://example.org/")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
    ],
)
def test_non_public_addresses_are_refused(settings, url):
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = []
    with pytest.raises(FetchRefused, match="not a public address"):
        hardened_session().get(url)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"])
def test_a_name_resolving_to_a_refused_address_is_refused(settings, monkeypatch, address):
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = []
    monkeypatch.setattr(http, "_resolve", lambda host, port: ["8.8.8.8", address])
    with pytest.raises(FetchRefused, match=address.replace(".", r"\.")):
        hardened_session().get("https://feed.example.org/")


def test_public_addresses_pass_the_check(settings, monkeypatch):
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = []
    monkeypatch.setattr(http, "_resolve", lambda host, port: ["8.8.8.8", "2001:4860::8888"])
    assert http.checked_addresses("feed.example.org", 443) == ["8.8.8.8", "2001:4860::8888"]


def test_a_listed_host_is_allowed(lab, local_server):
    response = hardened_session().get(f"{local_server}/small")
    assert (response.status_code, response.content) == (200, b"x" * 10)


def test_a_redirect_to_a_refused_address_is_refused(lab, local_server):
    with pytest.raises(FetchRefused, match="169.254.169.254"):
        hardened_session().get(f"{local_server}/redirect")


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_an_oversized_answer_is_refused(lab, local_server, path):
    with pytest.raises(ResponseTooLarge):
        hardened_session().get(f"{local_server}{path}")
