"""Fuzz the generic CSV parser (an "ip" or "url" column, optional RSIT classification)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django()
from fuzz import csv_harness  # noqa: E402

GENERATED = [
    b"report.csv\nip,port,asn,hostname,url,taxonomy,type,time,country\n"
    b"200.7.84.65,443,AS27817,www.example.cl,https://example.cl/a,vulnerable,"
    b"vulnerable-system,2026-01-01T00:00:00Z,CL\n",
    b"feed.csv\nurl,malware_family,classification.type\n"
    b'"http://[2001:db8::1]:8080/x?y=1",emotet,c2-server\n',
    b"events.csv\nsource.ip,source.port,source.asn,source.fqdn,time.source\n"
    b"::ffff:200.7.84.1,0,0,xn--bcher-kva.example,2025-12-31 23:59:59+03:00\n",
]

if __name__ == "__main__":
    target = csv_harness.harness(["auto", "csv"])
    common.instrument()
    common.run(
        target,
        name="generic_csv",
        seeds=[*GENERATED, *csv_harness.seeds("shadowserver/scan_http.csv", "abusech/feodo*.csv")],
    )
