"""Tests of the abuse-report parsers against the real Shadowserver and abuse.ch samples."""

from __future__ import annotations

import csv
import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csirtnet.reports.parsers import (
    ParsedRow,
    Rejection,
    UnknownLayout,
    detect_format,
    parse_file,
)

# Rows counted by hand from the files: data lines, without the header, comment and
# blank lines. (The SSLBL sample is cut from a longer list, so its "# END (295)
# entries" trailer overstates it.)
SAMPLES = [
    # file, format, report type, taxonomy, type, rows
    ("shadowserver/blocklist.csv", "shadowserver", "blocklist", "other", "blacklist", 3),
    (
        "shadowserver/compromised_website.csv",
        "shadowserver",
        "compromised_website",
        "intrusions",
        "system-compromise",
        3,
    ),
    ("shadowserver/device_id.csv", "shadowserver", "device_id", "other", "undetermined", 3),
    (
        "shadowserver/event4_honeypot_brute_force.csv",
        "shadowserver",
        "event4_honeypot_brute_force",
        "intrusion-attempts",
        "brute-force",
        6,
    ),
    (
        "shadowserver/event4_honeypot_darknet.csv",
        "shadowserver",
        "event4_honeypot_darknet",
        "other",
        "other",
        8,
    ),
    (
        "shadowserver/event4_sinkhole.csv",
        "shadowserver",
        "event4_sinkhole",
        "malicious-code",
        "infected-system",
        3,
    ),
    (
        "shadowserver/event4_sinkhole_http.csv",
        "shadowserver",
        "event4_sinkhole_http",
        "malicious-code",
        "infected-system",
        5,
    ),
    (
        "shadowserver/event6_sinkhole_http.csv",
        "shadowserver",
        "event6_sinkhole_http",
        "malicious-code",
        "infected-system",
        3,
    ),
    (
        "shadowserver/malware_url.csv",
        "shadowserver",
        "malware_url",
        "malicious-code",
        "malware-distribution",
        3,
    ),
    (
        "shadowserver/scan_dns.csv",
        "shadowserver",
        "scan_dns",
        "vulnerable",
        "vulnerable-system",
        100,
    ),
    ("shadowserver/scan_http.csv", "shadowserver", "scan_http", "other", "other", 2),
    (
        "shadowserver/scan_ntp.csv",
        "shadowserver",
        "scan_ntp",
        "vulnerable",
        "vulnerable-system",
        3,
    ),
    (
        "shadowserver/scan_rdp.csv",
        "shadowserver",
        "scan_rdp",
        "vulnerable",
        "vulnerable-system",
        2,
    ),
    (
        "shadowserver/scan_smb.csv",
        "shadowserver",
        "scan_smb",
        "vulnerable",
        "vulnerable-system",
        3,
    ),
    ("shadowserver/scan_ssh.csv", "shadowserver", "scan_ssh", "other", "other", 3),
    (
        "shadowserver/scan_telnet.csv",
        "shadowserver",
        "scan_telnet",
        "vulnerable",
        "vulnerable-system",
        2,
    ),
    (
        "abusech/feodotracker_ipblocklist_2021-02-10.csv",
        "feodo",
        "feodo",
        "malicious-code",
        "c2-server",
        2,
    ),
    (
        "abusech/feodotracker_ipblocklist_2024-04-04.csv",
        "feodo",
        "feodo",
        "malicious-code",
        "c2-server",
        28,
    ),
    (
        "abusech/malwarebazaar_dump_2026-02-26_sample.csv",
        "malwarebazaar",
        "malwarebazaar",
        "malicious-code",
        "malware-distribution",
        39,
    ),
    ("abusech/sslbl_sha1_sample.csv", "sslbl", "sslbl", "malicious-code", "c2-server", 285),
    (
        "abusech/urlhaus_csv_recent_2026-03-09_first300.csv",
        "urlhaus",
        "urlhaus",
        "malicious-code",
        "malware-distribution",
        300,
    ),
    (
        "abusech/urlhaus_tld_feed_2019-02-13.csv",
        "urlhaus_tld",
        "urlhaus_tld",
        "malicious-code",
        "malware-distribution",
        2,
    ),
]


SHADOWSERVER_SAMPLES = [sample for sample in SAMPLES if sample[1] == "shadowserver"]


def parsed(path: Path, **options: str) -> tuple[list[ParsedRow], list[Rejection]]:
    rows = list(parse_file(path, **options))
    good = [row for row in rows if isinstance(row, ParsedRow)]
    bad = [row for row in rows if isinstance(row, Rejection)]
    assert len(good) + len(bad) == len(rows)
    return good, bad


def first(path: Path) -> ParsedRow:
    return parsed(path)[0][0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rewrite(source: Path, target: Path, edit: dict[int, dict[str, str]]) -> Path:
    """Copy a Shadowserver sample to `target`, setting columns of some data rows (1-based)."""
    with source.open(newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    for number, changes in edit.items():
        for column, value in changes.items():
            records[number - 1][header.index(column)] = value
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
    return target


@pytest.mark.parametrize(("name", "fmt", "report_type", "taxonomy", "type_", "count"), SAMPLES)
def test_every_sample_parses_completely_with_its_classification(
    samples_dir: Path, name: str, fmt: str, report_type: str, taxonomy: str, type_: str, count: int
) -> None:
    path = samples_dir / name
    good, bad = parsed(path)
    assert detect_format(path) == fmt
    assert bad == []
    assert len(good) == count
    assert {(row.report_type, row.taxonomy, row.type) for row in good} == {
        (report_type, taxonomy, type_)
    }
    lines = path.read_text(encoding="utf-8").splitlines()
    for row in good:
        assert row.observed_at.tzinfo is UTC
        assert row.source_ip or row.source_network or row.hostname or row.url or row.file_hash
        first_value = next(iter(row.raw.values()))
        assert first_value in lines[row.line - 1]  # the row's physical line
    assert [row.line for row in good] == sorted({row.line for row in good})


def test_shadowserver_scan_row_matches_the_file(samples_dir: Path) -> None:
    row = first(samples_dir / "shadowserver/scan_ntp.csv")
    assert row.line == 2
    assert row.observed_at == utc("2010-02-10 00:00:00")
    assert (row.source_ip, row.source_port, row.asn) == ("192.168.0.1", 123, 64512)
    assert row.hostname == "node01.example.com"
    assert row.country is None  # "ZZ" is no country
    assert (row.url, row.malware_family, row.file_hash, row.source_network) == (None,) * 4
    assert row.raw["refid"] == "81.15.252.130"
    assert row.raw["timestamp"] == "2010-02-10 00:00:00"
    assert len(row.raw) == 40


def test_shadowserver_event_subject_is_the_source(samples_dir: Path) -> None:
    row = first(samples_dir / "shadowserver/event4_honeypot_brute_force.csv")
    assert (row.source_ip, row.source_port, row.asn, row.country) == (
        "141.98.1.2",
        30123,
        209588,
        "NL",
    )
    assert row.malware_family == "ssh-brute-force"
    sinkhole = parsed(samples_dir / "shadowserver/event4_sinkhole_http.csv")[0]
    assert sinkhole[0].source_ip == "103.196.1.2"
    assert sinkhole[0].malware_family == "andromeda"  # "infection" is empty, "family" is not


def test_shadowserver_urls_are_joined_to_their_host(samples_dir: Path) -> None:
    website = first(samples_dir / "shadowserver/compromised_website.csv")
    assert website.url == "http://example.com/header.php"
    assert website.source_port == 80
    sinkhole6 = first(samples_dir / "shadowserver/event6_sinkhole_http.csv")
    assert sinkhole6.source_ip == "2001:448a:1082:4d9b:7491:bf9e:3d5f:a634"
    assert sinkhole6.url is not None
    assert sinkhole6.url.startswith("http://devps.net/QKMSvF2hl11j%2fbMkyPbF5EpHYhd6VWTG4u")
    assert not sinkhole6.url.endswith("HTTP/1.1")
    malware = first(samples_dir / "shadowserver/malware_url.csv")
    assert malware.url == "http://41.86.0.0:50008/Mozi.m"
    assert (malware.source_ip, malware.source_port, malware.hostname) == ("41.86.0.0", 50008, None)
    assert malware.file_hash == "12013662c71da69de977c04cd7021f13a70cf7bed4ca6c82acbc100464d4b0ef"


def test_shadowserver_blocklist_network_is_kept_as_a_network(samples_dir: Path) -> None:
    rows = parsed(samples_dir / "shadowserver/blocklist.csv")[0]
    assert [(row.source_ip, row.source_network) for row in rows] == [
        ("198.123.245.134", None),
        ("198.123.245.171", None),
        (None, "198.123.245.0/24"),
    ]
    assert rows[0].hostname == "host.local"
    assert {row.country for row in rows} == {None}  # "XX"


def test_shadowserver_row_short_of_unread_trailing_columns_is_kept(samples_dir: Path) -> None:
    rows = parsed(samples_dir / "shadowserver/scan_rdp.csv")[0]
    assert [row.source_ip for row in rows] == ["198.123.245.178", "198.123.245.233"]
    assert "jarm" not in rows[0].raw  # the header has 32 columns, the rows 31
    assert rows[0].country is None  # "AA"


def test_feodo_subject_is_the_c2_server(samples_dir: Path) -> None:
    row = first(samples_dir / "abusech/feodotracker_ipblocklist_2021-02-10.csv")
    assert row.line == 10
    assert row.observed_at == utc("2021-01-17 07:30:05")
    assert (row.source_ip, row.source_port, row.malware_family) == ("10.213.75.205", 443, "Dridex")
    assert row.raw["c2_status"] == "online"


def test_urlhaus_host_becomes_hostname_or_address(samples_dir: Path) -> None:
    rows = parsed(samples_dir / "abusech/urlhaus_csv_recent_2026-03-09_first300.csv")[0]
    assert rows[0].line == 10
    assert rows[0].url == "https://transfer.weepee.io/MvSx6/super.drx"
    assert (rows[0].hostname, rows[0].source_ip, rows[0].source_port) == (
        "transfer.weepee.io",
        None,
        None,
    )
    by_url = {row.url: row for row in rows}
    numeric = by_url["http://123.129.128.47:42521/bin.sh"]
    assert (numeric.hostname, numeric.source_ip, numeric.source_port) == (
        None,
        "123.129.128.47",
        42521,
    )
    assert rows[-1].line == 309


def test_urlhaus_tld_feed_reads_host_address_and_asn(samples_dir: Path) -> None:
    row = first(samples_dir / "abusech/urlhaus_tld_feed_2019-02-13.csv")
    assert row.line == 12
    assert (row.hostname, row.source_ip, row.asn, row.country) == (
        "marconuenlist.ch",
        "62.241.37.242",
        29083,
        "DE",
    )
    assert row.url == "http://marconuenlist.ch/verif.accounts.docs.net/"


def test_malwarebazaar_hash_and_signature(samples_dir: Path) -> None:
    rows = parsed(samples_dir / "abusech/malwarebazaar_dump_2026-02-26_sample.csv")[0]
    assert rows[0].line == 10
    assert rows[0].file_hash == "19d854caf81bc884c677bd941abc50b33716e188fa723991820b0ffa3ea7e93e"
    assert rows[0].malware_family is None  # "n/a"
    assert rows[0].raw["file_name"] == "pm68k"  # the ", " separators are not in the values
    assert (rows[4].line, rows[4].malware_family) == (14, "Mirai")
    assert (rows[0].source_ip, rows[0].hostname, rows[0].url) == (None, None, None)


def test_sslbl_family_comes_from_the_listing_reason(samples_dir: Path) -> None:
    rows = parsed(samples_dir / "abusech/sslbl_sha1_sample.csv")[0]
    assert (rows[0].line, rows[0].file_hash, rows[0].malware_family) == (
        10,
        "854c68ab7ad70b6f95f76ec64b8a46c145997629",
        "AsyncRAT",
    )
    generic = [row for row in rows if row.raw["Listingreason"] == "Malware C&C"]
    assert len(generic) == 9
    assert {row.malware_family for row in generic} == {None}


def test_byte_order_mark_and_crlf_change_nothing(samples_dir: Path, tmp_path: Path) -> None:
    source = samples_dir / "shadowserver/scan_ntp.csv"
    text = source.read_text(encoding="utf-8")
    variant = tmp_path / "scan_ntp.csv"
    variant.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    original, variant_rows = parsed(source)[0], parsed(variant)[0]
    assert variant_rows == original
    assert next(iter(variant_rows[0].raw)) == "timestamp"


def test_unicode_hostname_becomes_punycode(samples_dir: Path, tmp_path: Path) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_ntp.csv",
        tmp_path / "scan_ntp.csv",
        {
            1: {"hostname": "bücher.example"},
            2: {"hostname": "BÜCHER.Example."},
            3: {"hostname": "bücher..example"},
        },
    )
    good, bad = parsed(path)
    assert [row.hostname for row in good] == ["xn--bcher-kva.example"] * 2
    assert good[0].raw["hostname"] == "bücher.example"
    assert [(r.line, r.reason) for r in bad] == [
        (4, 'field "hostname": "bücher..example" is not a host name that can be encoded')
    ]


def test_bad_rows_are_rejected_by_line_and_field(samples_dir: Path, tmp_path: Path) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_dns.csv",
        tmp_path / "scan_dns.csv",
        {
            2: {"ip": "999.1.1.1"},
            4: {"port": "70000"},
            6: {"asn": "4294967296"},
            8: {"timestamp": "2018-13-45 00:00:00"},
            12: {"hostname": "bad host.example"},
            14: {"ip": "", "hostname": ""},
        },
    )
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = lines[10].rstrip("\n") + ",extra\n"  # data row 10, line 11
    lines[16] = ",".join(lines[16].split(",")[:3]) + "\n"  # data row 16, line 17
    path.write_text("".join(lines), encoding="utf-8")

    good, bad = parsed(path)

    assert len(good) == 100 - 8
    assert [rejection.line for rejection in bad] == [3, 5, 7, 9, 11, 13, 15, 17]
    reasons = [rejection.reason for rejection in bad]
    assert reasons[0] == 'field "ip": "999.1.1.1" is not an IP address'
    assert reasons[1].startswith('field "port": "70000" is not a port number')
    assert reasons[2].startswith('field "asn": "4294967296" is not an AS number')
    assert reasons[3] == 'field "timestamp": "2018-13-45 00:00:00" is not a date and time'
    assert reasons[4] == "row has 18 fields, the header has 17"
    assert reasons[5].startswith('field "hostname": "bad host.example" is not a host name')
    assert reasons[6] == "row has no IP address, host name, URL or hash"
    assert reasons[7] == "row has 3 fields, the header has 17"
    assert {row.line for row in good}.isdisjoint({3, 5, 7, 9, 11, 13, 15, 17})


def test_line_numbers_count_physical_lines(samples_dir: Path, tmp_path: Path) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_telnet.csv",
        tmp_path / "scan_telnet.csv",
        {1: {"banner": "MikroTik\nLogin:\n"}},  # a quoted field on lines 2 to 4
    )
    header, row_1, row_2 = path.read_text(encoding="utf-8").split("\n2019")[:3]
    # Line 5 is blank; the second row starts on line 6; trailing blank lines are no rows.
    path.write_text(f"{header}\n2019{row_1}\n\n2019{row_2}\n\n", encoding="utf-8")
    rows = parsed(path)[0]
    assert [row.line for row in rows] == [2, 6]
    assert rows[0].raw["banner"] == "MikroTik\nLogin:\n"


def test_shadowserver_report_type_comes_from_shadowserver_file_names(
    samples_dir: Path, tmp_path: Path
) -> None:
    text = (samples_dir / "shadowserver/scan_smb.csv").read_text(encoding="utf-8")
    dated = tmp_path / "2019-09-04-scan_ntp-country-geo.csv"
    dated.write_text((samples_dir / "shadowserver/scan_ntp.csv").read_text(encoding="utf-8"))
    ipv6 = tmp_path / "2024-01-01-scan6_smb-123-sample-asn.csv"
    ipv6.write_text(text, encoding="utf-8")
    assert {row.report_type for row in parsed(dated)[0]} == {"scan_ntp"}
    assert {(r.report_type, r.type) for r in parsed(ipv6)[0]} == {
        ("scan6_smb", "vulnerable-system")
    }


@pytest.mark.parametrize(
    ("name", "fmt", "report_type", "taxonomy", "type_", "count"), SHADOWSERVER_SAMPLES
)
def test_shadowserver_report_type_comes_from_the_header_without_a_file_name(
    samples_dir: Path,
    tmp_path: Path,
    name: str,
    fmt: str,
    report_type: str,
    taxonomy: str,
    type_: str,
    count: int,
) -> None:
    renamed = tmp_path / "report.csv"
    renamed.write_bytes((samples_dir / name).read_bytes())
    good, bad = parsed(renamed)
    # Only a file name tells the IPv6 sinkhole report from the IPv4 one.
    assert {row.report_type for row in good} == {report_type.replace("event6", "event4")}
    assert (len(good), bad) == (count, [])
    assert {(row.taxonomy, row.type) for row in good} == {(taxonomy, type_)}


def test_report_type_argument_names_the_shadowserver_report(
    samples_dir: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "report.csv"
    renamed.write_bytes((samples_dir / "shadowserver/event6_sinkhole_http.csv").read_bytes())
    rows = parsed(renamed, report_type="event6_sinkhole_http")[0]
    assert {row.report_type for row in rows} == {"event6_sinkhole_http"}


def test_headerless_file_raises_unknown_layout_on_call(samples_dir: Path, tmp_path: Path) -> None:
    lines = (samples_dir / "shadowserver/scan_ntp.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "scan_ntp.csv"
    path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    with pytest.raises(UnknownLayout, match=r"scan_ntp\.csv: no header row.*line 1 reads: \"2010"):
        parse_file(path)


def test_unknown_headers_raise_unknown_layout(tmp_path: Path) -> None:
    unknown = tmp_path / "report.csv"
    unknown.write_text("foo,bar,baz\n1,2,3\n", encoding="utf-8")
    with pytest.raises(UnknownLayout, match="no header row of a known layout"):
        detect_format(unknown)
    smtp = tmp_path / "smtp.csv"
    smtp.write_text(
        '"timestamp","ip","protocol","port","hostname","tag","asn","geo","banner","starttls"\n',
        encoding="utf-8",
    )
    with pytest.raises(UnknownLayout, match="matches 0 supported report types"):
        parse_file(smtp)
    dated = tmp_path / "2024-01-01-scan_smtp-sample.csv"
    dated.write_bytes(smtp.read_bytes())
    with pytest.raises(UnknownLayout, match='report type "scan_smtp" is not supported'):
        parse_file(dated)


def test_shadowserver_header_with_an_unknown_column_is_not_guessed(
    samples_dir: Path, tmp_path: Path
) -> None:
    lines = (samples_dir / "shadowserver/event4_sinkhole.csv").read_text().splitlines()
    lines[0] += ',"http_path"'
    lines[1:] = [line + "," for line in lines[1:]]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UnknownLayout, match="Shadowserver header matches 0"):
        parse_file(path)


def test_file_named_for_a_report_without_its_columns_raises(
    samples_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "scan_dns.csv"
    path.write_bytes((samples_dir / "shadowserver/scan_ntp.csv").read_bytes())
    with pytest.raises(UnknownLayout, match='"scan_dns" report needs the columns dns_version'):
        parse_file(path)


def test_empty_file_raises_unknown_layout(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(UnknownLayout, match="empty.csv: the file is empty"):
        parse_file(path)
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(UnknownLayout, match="the file is empty"):
        detect_format(path)


def test_forced_format_must_match_the_header(samples_dir: Path) -> None:
    path = samples_dir / "abusech/urlhaus_csv_recent_2026-03-09_first300.csv"
    with pytest.raises(UnknownLayout, match='expected a header of the format "feodo"'):
        parse_file(path, fmt="feodo")
    with pytest.raises(ValueError, match="unknown format"):
        parse_file(path, fmt="xml")


def test_detect_format_reads_the_given_first_lines(samples_dir: Path) -> None:
    lines = (samples_dir / "abusech/sslbl_sha1_sample.csv").read_text().splitlines()[:12]
    assert detect_format(Path("upload.bin"), first_lines=lines) == "sslbl"


def test_legacy_feodo_layout_with_a_commented_header(tmp_path: Path) -> None:
    path = tmp_path / "ipblocklist.csv"
    path.write_text(
        "#########\n# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)\n#\n"
        "# Firstseen,DstIP,DstPort,LastOnline,Malware\n"
        "2019-05-27 12:54:03,45.79.209.159,8080,2019-05-30,Heodo\n"
        "# END 1 entries\n",
        encoding="utf-8",
    )
    good, bad = parsed(path)
    assert bad == []
    assert [(r.line, r.source_ip, r.source_port, r.malware_family) for r in good] == [
        (5, "45.79.209.159", 8080, "Heodo")
    ]


def test_generic_csv_with_intelmq_field_names(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "time.source,source.ip,source.port,source.asn,source.fqdn,source.url,"
        "classification.taxonomy,classification.type,malware.name\n"
        "2024-05-01T10:00:00+02:00,2001:DB8:0:0::1,443,AS64496,,,malicious-code,c2-server,Qakbot\n"
        "2024-05-01 10:00:00,,,,,http://Bücher.example:8080/x,,phishing,\n"
        "2024-05-01 10:00:00,192.0.2.1,,,,,vulnerable,phishing,\n"
        "2024-05-01 10:00:00,192.0.2.2,,,,,,scanning,\n"
        "2024-05-01 10:00:00,192.0.2.3,,0,,,,,\n",
        encoding="utf-8",
    )
    good, bad = parsed(path)
    assert detect_format(path) == "csv"
    c2, phishing, unknown = good
    assert (c2.observed_at, c2.source_ip, c2.source_port, c2.asn) == (
        utc("2024-05-01 08:00:00"),
        "2001:db8::1",
        443,
        64496,
    )
    assert (c2.report_type, c2.taxonomy, c2.type, c2.malware_family) == (
        "csv",
        "malicious-code",
        "c2-server",
        "Qakbot",
    )
    assert (phishing.hostname, phishing.source_port, phishing.taxonomy) == (
        "xn--bcher-kva.example",
        8080,
        "fraud",
    )
    assert (unknown.taxonomy, unknown.type, unknown.asn) == ("other", "undetermined", None)
    assert [(r.line, r.reason) for r in bad] == [
        (4, 'field "classification.taxonomy": "vulnerable" is not the RSIT taxonomy of the type'),
        (5, 'field "classification.type": "scanning" is not an RSIT type'),
    ]


def test_quote_left_open_is_one_rejection_naming_its_lines(
    samples_dir: Path, tmp_path: Path
) -> None:
    lines = (samples_dir / "shadowserver/scan_dns.csv").read_text(encoding="utf-8").splitlines()
    lines[1] += '"note'  # the quote closes at the start of line 3
    lines[100] += '"note'  # the last line: the quote never closes
    path = tmp_path / "scan_dns.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    good, bad = parsed(path)

    assert [(r.line, r.reason) for r in bad] == [
        (
            2,
            "row is not valid CSV: ',' expected after '\"' "
            "(the row spans lines 2 to 3: is a quote left open?)",
        ),
        (101, "row is not valid CSV: unexpected end of data"),
    ]
    assert [row.line for row in good] == list(range(4, 101))


def test_oversized_field_is_rejected_and_reading_goes_on(
    samples_dir: Path, tmp_path: Path
) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_telnet.csv",
        tmp_path / "scan_telnet.csv",
        {1: {"banner": "x" * 200_000}},
    )
    good, bad = parsed(path)
    assert [(r.line, r.reason) for r in bad] == [
        (2, "row is not valid CSV: field larger than field limit (131072)")
    ]
    assert [row.line for row in good] == [3]


# Hostile and malformed input (review findings): each test names the defect it pins.

GENERIC_HEADER = "time.source,source.ip,source.fqdn,source.url,source.network\n"


def generic(tmp_path: Path, *rows: str) -> Path:
    """Write a generic CSV export with time, address, host name and URL columns."""
    path = tmp_path / "export.csv"
    path.write_text(GENERIC_HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_ipv4_mapped_ipv6_addresses_become_ipv4(samples_dir: Path, tmp_path: Path) -> None:
    path = generic(
        tmp_path,
        "2024-05-01 10:00:00,::ffff:200.7.84.65,,,",
        "2024-05-01 10:00:00,::FFFF:C807:5441,,,",
        "2024-05-01 10:00:00,,[::ffff:200.7.84.66],,",
        "2024-05-01 10:00:00,,,http://[::ffff:200.7.84.67]:8080/x,",
        "2024-05-01 10:00:00,2001:db8::1,,,",
    )
    good, bad = parsed(path)
    assert bad == []
    assert [(row.source_ip, row.hostname) for row in good] == [
        ("200.7.84.65", None),
        ("200.7.84.65", None),
        ("200.7.84.66", None),
        ("200.7.84.67", None),
        ("2001:db8::1", None),
    ]
    blocklist = rewrite(
        samples_dir / "shadowserver/blocklist.csv",
        tmp_path / "blocklist.csv",
        {1: {"ip": "::ffff:198.123.245.134"}, 3: {"ip": "::ffff:198.123.245.0/120"}},
    )
    rows = parsed(blocklist)[0]
    assert [(row.source_ip, row.source_network) for row in rows] == [
        ("198.123.245.134", None),
        ("198.123.245.171", None),
        (None, "198.123.245.0/24"),
    ]


def test_urls_and_host_names_with_control_characters_are_rejected(
    samples_dir: Path, tmp_path: Path
) -> None:
    path = generic(
        tmp_path,
        "2024-05-01 10:00:00,,,http://200.7.84.54/\x1b[31mRED\x1b[0m,",
        "2024-05-01 10:00:00,,evil\x1b[2J.example,,",
        "2024-05-01 10:00:00,,bad\x9bhost.example,,",
        "2024-05-01 10:00:00,,,http://200.7.84.54/ok,",
    )
    good, bad = parsed(path)
    assert [row.url for row in good] == ["http://200.7.84.54/ok"]
    assert [(r.line, r.reason) for r in bad] == [
        (
            2,
            'field "source.url": "http://200.7.84.54/\\x1b[31mRED\\x1b[0m" '
            "contains control characters",
        ),
        (3, 'field "source.fqdn": "evil\\x1b[2J.example" contains control characters'),
        (4, 'field "source.fqdn": "bad\\x9bhost.example" contains control characters'),
    ]
    sinkhole = rewrite(
        samples_dir / "shadowserver/event4_sinkhole_http.csv",
        tmp_path / "event4_sinkhole_http.csv",
        {
            1: {"http_url": "/\x1b]0;owned\x07"},
            2: {"http_url": "/x", "http_host": "a\x1b.example"},
        },
    )
    assert [(r.line, r.reason) for r in parsed(sinkhole)[1]] == [
        (2, 'field "http_url": "/\\x1b]0;owned\\x07" contains control characters'),
        (3, 'field "http_host": "a\\x1b.example" contains control characters'),
    ]


def test_reasons_escape_non_printable_characters_and_keep_letters(
    samples_dir: Path, tmp_path: Path
) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_dns.csv",
        tmp_path / "scan_dns.csv",
        {
            1: {"ip": "1.2.3.4\x1b]0;pwned\x07"},
            2: {"port": "53\u202e"},
            3: {"asn": "ñandú\x0b"},
        },
    )
    reasons = [r.reason for r in parsed(path)[1]]
    assert reasons == [
        'field "ip": "1.2.3.4\\x1b]0;pwned\\x07" is not an IP address',
        'field "port": "53\\u202e" is not a port number (0 to 65535)',
        'field "asn": "ñandú\\x0b" is not an AS number (1 to 4294967295)',
    ]
    assert all(reason.isprintable() for reason in reasons)
    long_value = "\x1b" * 200
    path = rewrite(samples_dir / "shadowserver/scan_dns.csv", path, {1: {"ip": long_value}})
    reason = parsed(path)[1][0].reason
    assert reason == 'field "ip": "' + "\\x1b" * 79 + '…" is not an IP address'


def test_unknown_layout_message_escapes_the_line_it_quotes(tmp_path: Path) -> None:
    path = tmp_path / "report\x1b[31m.csv"
    path.write_text("\x1b[2Jwho,what\n1,2\n", encoding="utf-8")
    with pytest.raises(UnknownLayout) as caught:
        parse_file(path)
    message = str(caught.value)
    assert message.startswith("report\\x1b[31m.csv: no header row of a known layout")
    assert message.endswith("line 1 reads: \\x1b[2Jwho,what")
    assert message.isprintable()


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_implausible_times_are_rejected(samples_dir: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    in_two_days, in_twelve_hours = _time(now + timedelta(days=2)), _time(now + timedelta(hours=12))
    path = rewrite(
        samples_dir / "shadowserver/scan_dns.csv",
        tmp_path / "scan_dns.csv",
        {
            1: {"timestamp": in_two_days},
            2: {"timestamp": "2099-01-01T00:00:00Z"},
            3: {"timestamp": "1989-12-31 23:59:59"},
            4: {"timestamp": "1970-01-01 00:00:00"},
            5: {"timestamp": "9999-12-31T23:59:59-01:00"},  # beyond datetime in UTC
            6: {"timestamp": "0001-01-01T00:00:00+01:00"},
            7: {"timestamp": in_twelve_hours},
            8: {"timestamp": "1990-01-01 00:00:00"},
        },
    )
    good, bad = parsed(path)
    assert [(r.line, r.reason) for r in bad] == [
        (2, f'field "timestamp": "{in_two_days}" is in the future'),
        (3, 'field "timestamp": "2099-01-01T00:00:00Z" is in the future'),
        (4, 'field "timestamp": "1989-12-31 23:59:59" is before 1990'),
        (5, 'field "timestamp": "1970-01-01 00:00:00" is before 1990'),
        (6, 'field "timestamp": "9999-12-31T23:59:59-01:00" is in the future'),
        (7, 'field "timestamp": "0001-01-01T00:00:00+01:00" is before 1990'),
    ]
    assert [row.observed_at for row in good[:2]] == [utc(in_twelve_hours), utc("1990-01-01")]


@pytest.mark.parametrize(
    ("hostname", "reason"),
    [
        ("-1", "is not a host name: its labels must be"),
        ("-bad.example", "is not a host name: its labels must be"),
        ("bad-.example", "is not a host name: its labels must be"),
        ("a." + "b" * 64 + ".example", "is not a host name: its labels must be"),
        ("999.1.1.1", "is not an IP address, and not a host name either: its last label is all"),
        ("0x7f.1", "is not an IP address, and not a host name either: its last label is all"),
        (("a" * 63 + ".") * 4 + "example", "is too long for a host name (over 253 characters)"),
    ],
)
def test_host_names_follow_ldh_rules(
    samples_dir: Path, tmp_path: Path, hostname: str, reason: str
) -> None:
    path = rewrite(
        samples_dir / "shadowserver/scan_ntp.csv",
        tmp_path / "scan_ntp.csv",
        {1: {"hostname": hostname}},
    )
    (rejection,) = parsed(path)[1]
    assert rejection.line == 2
    assert rejection.reason.startswith('field "hostname": "')
    assert reason in rejection.reason


def test_host_names_with_underscores_and_idna_labels_are_kept(
    samples_dir: Path, tmp_path: Path
) -> None:
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    path = rewrite(
        samples_dir / "shadowserver/scan_ntp.csv",
        tmp_path / "scan_ntp.csv",
        {
            1: {"hostname": "_dmarc.Example.com"},
            2: {"hostname": "xn--bcher-kva.example."},
            3: {"hostname": longest},
        },
    )
    good, bad = parsed(path)
    assert bad == []
    assert [row.hostname for row in good] == [
        "_dmarc.example.com",
        "xn--bcher-kva.example",
        longest,
    ]


def test_url_reasons_name_the_actual_fault(tmp_path: Path) -> None:
    path = generic(
        tmp_path,
        "2024-05-01 10:00:00,,,http://200.7.84.54:99999/x,",
        "2024-05-01 10:00:00,,,http://host.example:8o8o/x,",
        "2024-05-01 10:00:00,,,http://[::1/x,",
        "2024-05-01 10:00:00,,,/just/a/path,",
    )
    assert [r.reason for r in parsed(path)[1]] == [
        'field "source.url": "http://200.7.84.54:99999/x" has a port out of range (0 to 65535)',
        'field "source.url": "http://host.example:8o8o/x" has a port that is not a number',
        'field "source.url": "http://[::1/x" is not a valid URL',
        'field "source.url": "/just/a/path" is not a URL with a host',
    ]


def test_all_blank_row_is_rejected_as_empty(samples_dir: Path, tmp_path: Path) -> None:
    lines = (samples_dir / "shadowserver/scan_dns.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = "," * 16  # as many fields as the header, all blank
    lines[2] = '"", ,,'  # fewer fields, all blank
    path = tmp_path / "scan_dns.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    good, bad = parsed(path)
    assert [(r.line, r.reason) for r in bad] == [
        (2, "row is empty: every field is blank"),
        (3, "row is empty: every field is blank"),
    ]
    assert len(good) == 98


def test_empty_file_message_names_the_file_once(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"")
    with pytest.raises(UnknownLayout) as caught:
        parse_file(path)
    assert str(caught.value).count("x.csv") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("utf-16", "the file looks like UTF-16; save it as UTF-8"),
        ("utf-16-be", "the file looks like UTF-16; save it as UTF-8"),
        ("utf-16-le-no-bom", "the file looks like UTF-16; save it as UTF-8"),
        ("gzip", "the file is gzip-compressed; decompress it first"),
        ("semicolons", "the file uses ';' as separator; csirtnet reads ',' separated files"),
        ("binary", "the file is not text (it holds NUL bytes)"),
    ],
)
def test_files_that_are_not_comma_separated_utf8_say_what_they_are(
    samples_dir: Path, tmp_path: Path, content: str, message: str
) -> None:
    text = (samples_dir / "shadowserver/scan_ntp.csv").read_text(encoding="utf-8")
    data = {
        "utf-16": lambda: text.encode("utf-16"),
        "utf-16-be": lambda: b"\xfe\xff" + text.encode("utf-16-be"),
        "utf-16-le-no-bom": lambda: text.encode("utf-16-le"),
        "gzip": lambda: gzip.compress(text.encode("utf-8")),
        "semicolons": lambda: text.replace(",", ";").encode("utf-8"),
        "binary": lambda: bytes(range(256)) * 4 + b"\x00" * 1024,
    }[content]()
    path = tmp_path / "scan_ntp.csv"
    path.write_bytes(data)
    with pytest.raises(UnknownLayout, match=re.escape(f"scan_ntp.csv: {message}")):
        parse_file(path)
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)[:1000]
    with pytest.raises(UnknownLayout, match=re.escape(message)):
        detect_format(path, first_lines=lines)
