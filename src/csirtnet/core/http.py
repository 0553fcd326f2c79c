"""
The one hardened outbound HTTP client: every fetch from this server to another goes
through `hardened_session()` (https only, public addresses only, timeouts, size limit).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS = 5


class FetchRefused(Exception):  # noqa: N818 (a refusal, not a failure of the code)
    """
    The destination or the answer is not allowed: a scheme other than https, a host that
    resolves to a non-public address, or an answer larger than CSIRTNET_FETCH_MAX_BYTES.
    Not an `OSError`, so that urllib3 and requests pass it through unchanged.
    """


class ResponseTooLarge(FetchRefused):
    """The answer is larger than CSIRTNET_FETCH_MAX_BYTES."""


def _resolve(host: str, port: int) -> list[str]:
    """Return every address `host` resolves to (IPv4 and IPv6), in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: Address) -> bool:
    """
    Return True for a globally routable unicast address. Private, loopback, link-local,
    multicast, reserved, unspecified and shared (100.64.0.0/10) addresses are not;
    an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as its IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    flags = (
        address.is_private, address.is_loopback, address.is_link_local,
        address.is_multicast, address.is_reserved, address.is_unspecified,
    )  # fmt: skip
    return address.is_global and not any(flags)


def _allowed_hosts() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in settings.CSIRTNET_FETCH_ALLOWED_HOSTS:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return names, networks


def checked_addresses(host: str, port: int) -> list[str]:
    """
    Resolve `host` and return its addresses when every one of them may be reached: it
    is public, or within a CIDR of CSIRTNET_FETCH_ALLOWED_HOSTS, or `host` itself is
    listed there by name.

    Raises:
        FetchRefused: an address is refused, or the name does not resolve.
    """
    names, networks = _allowed_hosts()
    bare = host.strip("[]").lower().rstrip(".")
    try:
        addresses = _resolve(bare, port)
    except OSError as exc:
        raise FetchRefused(_("%(host)s does not resolve.") % {"host": host}) from exc
    if bare in names:
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        if is_public(address) or any(
            candidate in network
            for candidate in (address, mapped)
            if candidate is not None
            for network in networks
            if candidate.version == network.version
        ):
            continue
        raise FetchRefused(
            _("%(host)s resolves to %(address)s, which is not a public address.")
            % {"host": host, "address": text}
        )
    if not addresses:
        raise FetchRefused(_("%(host)s does not resolve.") % {"host": host})
    return addresses


def _connect_checked(connection: HTTPConnection) -> socket.socket:
    """Resolve once, check every address, connect to a checked one (no rebinding)."""
    addresses = checked_addresses(connection.host, connection.port)
    error: OSError | None = None
    for address in addresses:
        try:
            return urllib3_connection.create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except OSError as exc:
            error = exc
    raise error or FetchRefused(_("%(host)s does not resolve.") % {"host": connection.host})


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_checked(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_checked(self)


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class HardenedAdapter(HTTPAdapter):
    """
    A transport adapter for `requests` that checks every request, redirects included:
    the scheme (https; http only with CSIRTNET_FETCH_ALLOW_HTTP), the addresses (see
    `checked_addresses`, checked when a connection is opened, on the address connected
    to), TLS verification (always on), timeouts and the size of the answer.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Create the pool manager with connections that check their addresses."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPConnectionPool,
            "https": _CheckedHTTPSConnectionPool,
        }

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        """
        Send `request`; read at most CSIRTNET_FETCH_MAX_BYTES of the answer. The
        timeouts are the setting's, proxies are never used, verification stays on
        (`verify` may only name a CA bundle).

        Raises:
            FetchRefused: the scheme or an address is refused.
            ResponseTooLarge: the answer is larger than the limit.
        """
        url = str(request.url)
        scheme = urlsplit(url).scheme.lower()
        if scheme != "https" and not (scheme == "http" and settings.CSIRTNET_FETCH_ALLOW_HTTP):
            raise FetchRefused(_("Only https URLs may be fetched: %(url)s") % {"url": url})
        seconds = settings.CSIRTNET_FETCH_TIMEOUT_SECONDS
        response = super().send(
            request,
            stream=True,
            timeout=(seconds, seconds),
            verify=verify if isinstance(verify, str) else True,
            cert=cert,
            proxies={},
        )
        limit = settings.CSIRTNET_FETCH_MAX_BYTES
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise ResponseTooLarge(_too_large(url, limit))
        if not stream:
            response._content = _read_limited(response, url, limit)
        return response


def _too_large(url: str, limit: int) -> str:
    return _("The answer of %(url)s is larger than %(limit)d bytes.") % {
        "url": url,
        "limit": limit,
    }


def _read_limited(response: Response, url: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(_too_large(url, limit))
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def hardened_session() -> requests.Session:
    """
    Return a `requests.Session` whose every request goes through `HardenedAdapter`:
    no proxies or netrc from the environment, at most MAX_REDIRECTS redirects (each
    checked again), TLS verification on.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = True
    session.max_redirects = MAX_REDIRECTS
    adapter = HardenedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
