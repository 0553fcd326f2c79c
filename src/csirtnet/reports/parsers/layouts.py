"""Known report layouts: which columns hold what, and how each report type is classified.

Classifications follow the RSIT names used by IntelMQ 3 (the Reference Security
Incident Taxonomy of ENISA / TF-CSIRT) and, for Shadowserver, the constant
`classification.taxonomy` / `classification.type` of each report in Shadowserver's
IntelMQ schema (github.com/The-Shadowserver-Foundation/report_schema, intelmq.json).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# RSIT classification type -> taxonomy (IntelMQ 3 harmonization).
RSIT_TAXONOMY_OF_TYPE: Mapping[str, str] = {
    **dict.fromkeys(["spam", "harmful-speech", "violence"], "abusive-content"),
    **dict.fromkeys(
        ["infected-system", "c2-server", "malware-distribution", "malware-configuration"],
        "malicious-code",
    ),
    **dict.fromkeys(["scanner", "sniffing", "social-engineering"], "information-gathering"),
    **dict.fromkeys(["ids-alert", "brute-force", "exploit"], "intrusion-attempts"),
    **dict.fromkeys(
        [
            "privileged-account-compromise",
            "unprivileged-account-compromise",
            "application-compromise",
            "system-compromise",
            "burglary",
        ],
        "intrusions",
    ),
    **dict.fromkeys(["ddos", "dos", "outage", "sabotage"], "availability"),
    **dict.fromkeys(
        [
            "unauthorised-information-access",
            "unauthorised-information-modification",
            "data-loss",
            "data-leak",
        ],
        "information-content-security",
    ),
    **dict.fromkeys(
        ["unauthorized-use-of-resources", "copyright", "masquerade", "phishing"], "fraud"
    ),
    **dict.fromkeys(
        [
            "weak-crypto",
            "ddos-amplifier",
            "potentially-unwanted-accessible",
            "information-disclosure",
            "vulnerable-system",
        ],
        "vulnerable",
    ),
    **dict.fromkeys(
        ["blacklist", "dga-domain", "malware", "other", "proxy", "tor", "undetermined", "unknown"],
        "other",
    ),
    "test": "test",
}

URL_CONTEXT = "context"  # Shadowserver: a path or request line joined to http_host; unchecked
URL_SUBJECT = "subject"  # the URL is reported: it must have a host, which fills hostname/IP/port


def family_as_given(value: str) -> str | None:
    """Return the malware family as written, None if blank."""
    return value.strip() or None


def family_unless_na(value: str) -> str | None:
    """Return a MalwareBazaar signature, None for "n/a" (no signature)."""
    text = value.strip()
    return None if text.lower() in ("", "n/a") else text


def family_of_listing_reason(value: str) -> str | None:
    """Return the family in an SSLBL listing reason ("AsyncRAT C&C" -> "AsyncRAT").

    "Malware C&C" names no family and gives None.
    """
    text = value.strip().removesuffix(" C&C").strip()
    return None if text.lower() in ("", "malware") else text


@dataclass(frozen=True, slots=True)
class Layout:
    """
    How to read one file: format, report type, classification and the column of each role.

    `columns` maps a role ("time", "ip", "port", "asn", "host", "url", "http_host",
    "scheme", "hash", "country", "taxonomy", "type") to a column index; "family" roles
    are in `family_columns`, first non-blank wins. `taxonomy`/`type` are constant unless
    the "taxonomy"/"type" roles are present (generic CSV).
    """

    fmt: str
    report_type: str
    taxonomy: str
    type: str
    header: tuple[str, ...]
    columns: Mapping[str, int]
    family_columns: tuple[int, ...] = ()
    family_fix: Callable[[str], str | None] = family_as_given
    url_mode: str = URL_CONTEXT
    allow_network: bool = False
    skip_comments: bool = False
    skipinitialspace: bool = False


@dataclass(frozen=True, slots=True)
class ShadowserverReport:
    """A Shadowserver report type: its classification and the columns that identify it.

    A header identifies the report when it has every `required` column and no column
    outside `known` and `GENERIC_SHADOWSERVER_COLUMNS`.
    """

    taxonomy: str
    type: str
    required: frozenset[str]
    known: frozenset[str]
    url_mode: str = URL_CONTEXT
    allow_network: bool = False
    header_only: bool = True


def _columns(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Columns Shadowserver adds to or drops from many reports over time; they never decide
# the report type.
GENERIC_SHADOWSERVER_COLUMNS = _columns(
    "severity hostname_source protocol tag region city naics sic sector "
    "src_region src_city src_naics src_sector dst_region dst_city dst_naics dst_sector "
    "dst_hostname device_vendor device_type device_model device_version device_sector"
)
_SCAN = "timestamp ip protocol port hostname tag asn geo region city naics sic sector "
_EVENT = (
    "timestamp protocol src_ip src_port src_asn src_geo src_region src_city src_hostname "
    "src_naics src_sector device_vendor device_type device_model dst_ip dst_port dst_asn "
    "dst_geo dst_region dst_city dst_hostname dst_naics dst_sector public_source infection "
    "family tag application version event_id "
)
_HTTP_EVENT = _EVENT + "http_url http_host http_agent forwarded_by ssl_cipher http_referer "
_SSH_KEYS = (
    "rsa_prime rsa_prime_length rsa_generator rsa_generator_length rsa_public_key "
    "rsa_public_key_length rsa_exponent rsa_modulus rsa_length dss_prime dss_prime_length "
    "dss_generator dss_generator_length dss_public_key dss_public_key_length dss_dsa_public_g "
    "dss_dsa_public_p dss_dsa_public_q dss_dsa_public_y ecdsa_curve25519 ecdsa_curve "
    "ecdsa_public_key_length ecdsa_public_key_b ecdsa_public_key_gx ecdsa_public_key_gy "
    "ecdsa_public_key_n ecdsa_public_key_p ecdsa_public_key_x ecdsa_public_key_y "
    "ed25519_curve25519 ed25519_cert_public_key_nonce ed25519_cert_public_key_bytes "
    "ed25519_cert_public_key_raw ed25519_cert_public_key_sha256 ed25519_cert_public_key_serial "
    "ed25519_cert_public_key_type_id ed25519_cert_public_key_type_name "
    "ed25519_cert_public_key_keyid ed25519_cert_public_key_principles "
    "ed25519_cert_public_key_valid_after ed25519_cert_public_key_valid_before "
    "ed25519_cert_public_key_duration ed25519_cert_public_key_sigkey_bytes "
    "ed25519_cert_public_key_sigkey_raw ed25519_cert_public_key_sigkey_sha256 "
    "ed25519_cert_public_key_sigkey_value ed25519_cert_public_key_sig_raw "
)


def _report(
    taxonomy: str,
    type_: str,
    required: str,
    known: str,
    *,
    url_mode: str = URL_CONTEXT,
    allow_network: bool = False,
    header_only: bool = True,
) -> ShadowserverReport:
    required_columns = _columns(required)
    return ShadowserverReport(
        taxonomy,
        type_,
        required_columns,
        _columns(known) | required_columns,
        url_mode=url_mode,
        allow_network=allow_network,
        header_only=header_only,
    )


SHADOWSERVER_REPORTS: Mapping[str, ShadowserverReport] = {
    "blocklist": _report(
        "other", "blacklist", "timestamp ip source reason", _SCAN, allow_network=True
    ),
    "compromised_website": _report(
        "intrusions",
        "system-compromise",
        "timestamp ip url http_host category detected_since",
        _SCAN + "application system server redirect_target cc_url family account status "
        "detail public_source",
    ),
    "device_id": _report(
        "other", "undetermined", "timestamp ip port device_vendor device_type device_model", _SCAN
    ),
    "event4_honeypot_brute_force": _report(
        "intrusion-attempts",
        "brute-force",
        "timestamp src_ip src_port dst_ip service start_time end_time client_version username "
        "password",
        _EVENT + "payload_url payload_md5",
    ),
    "event4_honeypot_darknet": _report(
        "other", "other", "timestamp src_ip src_port dst_port infection count", _EVENT
    ),
    "event4_sinkhole": _report(
        "malicious-code",
        "infected-system",
        "timestamp src_ip src_port dst_ip dst_port infection",
        _EVENT + "ssl_cipher ssl_servername",
    ),
    "event4_sinkhole_http": _report(
        "malicious-code",
        "infected-system",
        "timestamp src_ip src_port dst_ip http_url http_host http_agent",
        _HTTP_EVENT + "ssl_servername machine_name",
    ),
    # Same columns as event4_sinkhole_http: only a file name can say IPv6.
    "event6_sinkhole_http": _report(
        "malicious-code",
        "infected-system",
        "timestamp src_ip src_port dst_ip http_url http_host http_agent",
        _HTTP_EVENT + "ssl_servername machine_name",
        header_only=False,
    ),
    "malware_url": _report(
        "malicious-code",
        "malware-distribution",
        "timestamp url host ip sha256",
        "asn geo application source",
        url_mode=URL_SUBJECT,
    ),
    "scan_dns": _report(
        "vulnerable",
        "vulnerable-system",
        "timestamp ip port dns_version min_amplification",
        _SCAN + "p0f_genre p0f_detail",
    ),
    "scan_http": _report(
        "other",
        "other",
        "timestamp ip port http http_code http_reason www_authenticate set_cookie",
        _SCAN + "content_type connection server content_length transfer_encoding http_date "
        "version",
    ),
    "scan_ntp": _report(
        "vulnerable",
        "vulnerable-system",
        "timestamp ip port clk_wander refid stratum",
        _SCAN + "version clock error frequency jitter leap mintc noise offset peer phase poll "
        "precision processor reftime rootdelay rootdispersion stability state system tai tc "
        "response_size amplification",
    ),
    "scan_rdp": _report(
        "vulnerable",
        "vulnerable-system",
        "timestamp ip port rdp_protocol",
        _SCAN + "handshake cert_length subject_common_name issuer_common_name cert_issue_date "
        "cert_expiration_date sha1_fingerprint cert_serial_number ssl_version "
        "signature_algorithm key_algorithm sha256_fingerprint sha512_fingerprint "
        "md5_fingerprint tlsv13_support tlsv13_cipher cve20190708_vulnerable "
        "bluekeep_vulnerable jarm",
    ),
    "scan_smb": _report(
        "vulnerable",
        "vulnerable-system",
        "timestamp ip port smb_implant smbv1_support",
        _SCAN + "arch key smb_major_number smb_minor_number smb_revision smb_version_string",
    ),
    "scan_ssh": _report(
        "other",
        "other",
        "timestamp ip port serverid_raw server_host_key",
        _SCAN + "serverid_version serverid_software serverid_comment server_cookie "
        "available_kex available_ciphers available_mac available_compression selected_kex "
        "algorithm selected_cipher selected_mac selected_compression server_signature_value "
        "server_signature_raw server_host_key_sha256 banner userauth_methods hassh " + _SSH_KEYS,
    ),
    "scan_telnet": _report("vulnerable", "vulnerable-system", "timestamp ip port banner", _SCAN),
}

SHADOWSERVER_ROLES: Mapping[str, Sequence[str]] = {
    "time": ("timestamp",),
    "ip": ("ip", "src_ip"),
    "port": ("port", "src_port"),
    "asn": ("asn", "src_asn"),
    "country": ("geo", "src_geo"),
    "host": ("hostname", "src_hostname", "host"),
    "url": ("url", "http_url"),
    "http_host": ("http_host",),
    "scheme": ("application",),
    "hash": ("sha256",),
}
SHADOWSERVER_FAMILY = ("infection", "family")

CSV_ROLES: Mapping[str, Sequence[str]] = {
    "time": ("timestamp", "time", "time.source"),
    "ip": ("ip", "src_ip", "source_ip", "source.ip"),
    "port": ("port", "src_port", "source_port", "source.port"),
    "asn": ("asn", "src_asn", "source_asn", "source.asn"),
    "host": ("hostname", "fqdn", "source.fqdn", "source.reverse_dns"),
    "url": ("url", "source.url"),
    "country": ("country", "cc", "geo", "source.geolocation.cc"),
    "hash": (
        "sha256",
        "sha1",
        "md5",
        "hash",
        "file_hash",
        "malware.hash.sha256",
        "malware.hash.sha1",
        "malware.hash.md5",
    ),
    "taxonomy": ("classification.taxonomy", "taxonomy"),
    "type": ("classification.type", "type"),
}
CSV_FAMILY = ("malware", "malware_family", "family", "malware.name")


@dataclass(frozen=True, slots=True)
class AbuseChFeed:
    """An abuse.ch feed layout: its classification and the (lower-case) column of each role.

    A header is this feed's when it has every role column, the family column and every
    column in `also`.
    """

    fmt: str
    taxonomy: str
    type: str
    roles: Mapping[str, str]
    also: tuple[str, ...] = ()
    family: str | None = None
    family_fix: Callable[[str], str | None] = family_as_given
    url_mode: str = URL_CONTEXT


ABUSECH_FEEDS: Sequence[AbuseChFeed] = (
    AbuseChFeed(
        "feodo",
        "malicious-code",
        "c2-server",
        {"time": "first_seen_utc", "ip": "dst_ip", "port": "dst_port"},
        family="malware",
    ),
    AbuseChFeed(  # before mid-2020: "# Firstseen,DstIP,DstPort,LastOnline,Malware"
        "feodo",
        "malicious-code",
        "c2-server",
        {"time": "firstseen", "ip": "dstip", "port": "dstport"},
        family="malware",
    ),
    AbuseChFeed(
        "urlhaus",
        "malicious-code",
        "malware-distribution",
        {"time": "dateadded", "url": "url"},
        also=("id", "url_status", "threat"),
        url_mode=URL_SUBJECT,
    ),
    AbuseChFeed(
        "urlhaus_tld",
        "malicious-code",
        "malware-distribution",
        {
            "time": "dateadded (utc)",
            "url": "url",
            "host": "host",
            "ip": "ipaddress",
            "asn": "asnumber",
            "country": "country",
        },
        url_mode=URL_SUBJECT,
    ),
    AbuseChFeed(
        "malwarebazaar",
        "malicious-code",
        "malware-distribution",
        {"time": "first_seen_utc", "hash": "sha256_hash"},
        also=("md5_hash", "sha1_hash"),
        family="signature",
        family_fix=family_unless_na,
    ),
    AbuseChFeed(
        "sslbl",
        "malicious-code",
        "c2-server",
        {"time": "listingdate", "hash": "sha1"},
        family="listingreason",
        family_fix=family_of_listing_reason,
    ),
)

SHADOWSERVER_FILE_RE = re.compile(r"\d{4}-\d{2}-\d{2}-([a-z0-9_]+)(?:-.*)?")


def shadowserver_name(path: Path) -> tuple[str | None, bool]:
    """Return the report type a file name gives and whether it is Shadowserver's dated form.

    Shadowserver names files "2019-09-04-scan_ntp-country-geo.csv"; a bare
    "scan_ntp.csv" counts only when it names a known report.
    """
    stem = path.name.removesuffix(".csv").lower()
    match = SHADOWSERVER_FILE_RE.fullmatch(stem)
    if match:
        return match.group(1), True
    return (stem, False) if shadowserver_report(stem) else (None, False)


def shadowserver_report(report_type: str) -> ShadowserverReport | None:
    """Return the layout of `report_type`, reading IPv6 variants as their IPv4 twin.

    "scan6_smb" is read as "scan_smb", "event6_sinkhole" as "event4_sinkhole",
    "compromised_website6" as "compromised_website": Shadowserver classifies them alike.
    """
    for candidate in (
        report_type,
        report_type.replace("scan6_", "scan_", 1),
        report_type.replace("event6_", "event4_", 1),
        report_type.removesuffix("6"),
    ):
        report = SHADOWSERVER_REPORTS.get(candidate)
        if report is not None:
            return report
    return None


def fingerprint_shadowserver(names: frozenset[str]) -> list[str]:
    """Return the Shadowserver report types whose fingerprint the header `names` match."""
    return [
        report_type
        for report_type, report in SHADOWSERVER_REPORTS.items()
        if report.header_only
        and report.required <= names
        and not names - report.known - GENERIC_SHADOWSERVER_COLUMNS
    ]


def looks_like_shadowserver(names: Sequence[str]) -> bool:
    """Tell whether a header has Shadowserver's shape: "timestamp" first, "geo" or "src_geo"."""
    return bool(names) and names[0] == "timestamp" and bool({"geo", "src_geo"} & set(names))
