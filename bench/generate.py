"""Generate a synthetic Shadowserver `scan_ntp` report for the benchmarks.

The file has the column layout of the real report (the header of
`samples/shadowserver/scan_ntp.csv` in the shared data) and value shapes copied
from it. Addresses are drawn from the per-country IPv4 prefix lists of the
Americas in the shared RIR data; a share of rows (5 % by default) comes from
public ranges outside the Americas (2.0.0.0/8, 41.0.0.0/8, 58.0.0.0/8), with
any address that falls inside an Americas prefix drawn again.

* Deterministic: the same seed, row count and shared data give the same bytes.
* Streamed: rows are written as they are made; memory does not grow with rows.
* Distinct: no two rows share the pair (ip, timestamp), so no row is a
  duplicate of another.

Timestamps cover one day (one per second when there are fewer rows than
seconds in a day), like one daily Shadowserver file.

Usage: python bench/generate.py OUT --rows N [--seed S] [--shared-dir DIR]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import ipaddress
import json
import math
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR_VERSION = 1  # bump when the output for a given seed changes
DEFAULT_SEED = 20240601
DEFAULT_DAY = "2024-06-01"
OUTSIDE_SHARE = 0.05
SECONDS_PER_DAY = 86_400

COLUMNS = [
    "timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
    "city", "version", "clk_wander", "clock", "error", "frequency", "jitter", "leap",
    "mintc", "noise", "offset", "peer", "phase", "poll", "precision", "processor",
    "refid", "reftime", "rootdelay", "rootdispersion", "stability", "state", "stratum",
    "system", "tai", "tc", "naics", "sic", "sector", "response_size", "amplification",
]  # fmt: skip

# Public ranges outside the Americas, with plausible geolocation codes and ASNs.
OUTSIDE_RANGES = [
    ("2.0.0.0/8", ["FR", "DE", "GB", "ES", "IT", "NL"], [3215, 3320, 2856, 3352, 3269]),
    ("41.0.0.0/8", ["ZA", "EG", "NG", "KE", "MA", "TN"], [37457, 8452, 29465, 33771, 36903]),
    ("58.0.0.0/8", ["CN", "JP", "KR", "IN", "TH", "AU"], [4134, 2516, 4766, 9829, 45758]),
]

# Shadowserver-style upper-case region/city for the larger countries; others get none.
PLACES = {
    "US": [("CALIFORNIA", "LOS ANGELES"), ("TEXAS", "DALLAS"), ("VIRGINIA", "ASHBURN"),
           ("NEW YORK", "NEW YORK"), ("ILLINOIS", "CHICAGO"), ("FLORIDA", "MIAMI")],
    "BR": [("SAO PAULO", "SAO PAULO"), ("RIO DE JANEIRO", "RIO DE JANEIRO"),
           ("MINAS GERAIS", "BELO HORIZONTE"), ("PARANA", "CURITIBA")],
    "CA": [("ONTARIO", "TORONTO"), ("QUEBEC", "MONTREAL"), ("BRITISH COLUMBIA", "VANCOUVER")],
    "MX": [("CIUDAD DE MEXICO", "MEXICO CITY"), ("JALISCO", "GUADALAJARA"),
           ("NUEVO LEON", "MONTERREY")],
    "AR": [("BUENOS AIRES F.D.", "BUENOS AIRES"), ("CORDOBA", "CORDOBA"), ("SANTA FE", "ROSARIO")],
    "CO": [("BOGOTA D.C.", "BOGOTA"), ("ANTIOQUIA", "MEDELLIN"), ("VALLE DEL CAUCA", "CALI")],
    "CL": [("REGION METROPOLITANA", "SANTIAGO"), ("VALPARAISO", "VALPARAISO")],
    "VE": [("DISTRITO CAPITAL", "CARACAS"), ("ZULIA", "MARACAIBO")],
    "PE": [("LIMA", "LIMA"), ("AREQUIPA", "AREQUIPA")],
    "EC": [("PICHINCHA", "QUITO"), ("GUAYAS", "GUAYAQUIL")],
    "UY": [("MONTEVIDEO", "MONTEVIDEO")],
    "CR": [("SAN JOSE", "SAN JOSE")],
}  # fmt: skip
ISPS = ["telecom", "cable", "fibra", "movil", "net", "broadband", "datacenter", "isp"]
PROCESSORS = ["unknown", "x86_64", "i686", "armv7l", "mips", "aarch64", "amd64"]
SYSTEMS = ["UNIX", "Linux", "Linux/2.6.32", "Linux/3.10.0", "FreeBSD/11.2-RELEASE", "cisco",
           "JUNOS", "Windows", "QNX"]  # fmt: skip
REFIDS = ["GPS", "PPS", "LOCL", "INIT", "STEP", "RATE", "DENY"]
SECTORS = [
    "Communications, Service Provider, and Hosting Service",
    "Transportation and Warehousing",
    "Education",
    "Government and Public Administration",
    "Finance and Insurance",
]
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def shared_dir_default() -> Path:
    """The shared data folder: CSIRTNET_SHARED_DIR, else ../shared/data beside the repo."""
    env = os.environ.get("CSIRTNET_SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def read_prefixes(shared: Path) -> dict[str, list[tuple[int, int]]]:
    """Return {CC: [(first address, size), ...]} from the per-country IPv4 lists."""
    base = shared / "rir" / "americas-country-prefixes"
    result: dict[str, list[tuple[int, int]]] = {}
    for folder in sorted(base.iterdir()):
        path = folder / "ipv4-aggregated.txt"
        if not path.is_file():
            continue
        nets = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                net = ipaddress.IPv4Network(line)
                nets.append((int(net.network_address), net.num_addresses))
        if nets:
            result[folder.name.upper()] = nets
    if not result:
        raise SystemExit(f"no prefix lists found under {base}")
    return result


def read_asns(shared: Path) -> dict[str, list[int]]:
    """Return {CC: [ASN, ...]} from the LACNIC delegated file and the ARIN ASN list."""
    asns: dict[str, list[int]] = {}
    lacnic = shared / "rir" / "delegated-lacnic-extended-20240104"
    if lacnic.is_file():
        for line in lacnic.read_text(encoding="utf-8").splitlines():
            parts = line.split("|")
            if len(parts) >= 7 and parts[2] == "asn" and parts[1] not in ("*", ""):
                first, count = int(parts[3]), int(parts[4])
                asns.setdefault(parts[1].upper(), []).extend(range(first, first + min(count, 16)))
    arin = shared / "rir" / "arin-asn-from-delegated-extended-20240106.csv"
    if arin.is_file():
        with arin.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                number = row["ASN Number"].removeprefix("AS")
                if number.isdigit() and row["Country Code"]:
                    asns.setdefault(row["Country Code"].upper(), []).append(int(number))
    return asns


def check_header(shared: Path) -> None:
    """Fail loudly if the sample's header no longer matches COLUMNS."""
    sample = shared / "samples" / "shadowserver" / "scan_ntp.csv"
    if sample.is_file():
        with sample.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        if header != COLUMNS:
            raise SystemExit(f"{sample} header differs from generate.COLUMNS")


class _Intervals:
    """Sorted disjoint address intervals, for 'is this address in the Americas?'."""

    def __init__(self, prefixes: dict[str, list[tuple[int, int]]]) -> None:
        spans = sorted(span for nets in prefixes.values() for span in nets)
        self.starts = [start for start, _ in spans]
        self.ends = [start + size for start, size in spans]

    def __contains__(self, address: int) -> bool:
        i = bisect.bisect_right(self.starts, address) - 1
        return i >= 0 and address < self.ends[i]


def _ntp_hex(unix_seconds: int, fraction: int) -> str:
    return f"0x{unix_seconds + NTP_EPOCH_OFFSET:08X}.{fraction:08X}"


def _ip_text(address: int) -> str:
    return f"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}"


def generate(
    out: Path,
    rows: int,
    *,
    seed: int = DEFAULT_SEED,
    shared: Path | None = None,
    day: str = DEFAULT_DAY,
    outside_share: float = OUTSIDE_SHARE,
) -> dict[str, object]:
    """Write `rows` data rows to `out` (via a temporary file); return figures about it."""
    started = time.perf_counter()
    shared = shared or shared_dir_default()
    check_header(shared)
    prefixes = read_prefixes(shared)
    asn_pool = read_asns(shared)
    all_asns = sorted({asn for values in asn_pool.values() for asn in values}) or [64512]
    americas = _Intervals(prefixes)
    rng = random.Random(seed)

    # Country weight: square root of its address count, so the US (86 % of the
    # addresses) does not crowd out Latin America and the Caribbean; within a
    # country, a prefix is drawn in proportion to its size.
    codes = sorted(prefixes)
    country_cum: list[float] = []
    total = 0.0
    for cc in codes:
        total += math.sqrt(sum(size for _, size in prefixes[cc]))
        country_cum.append(total)
    prefix_cum: dict[str, list[int]] = {}
    for cc in codes:
        acc, cums = 0, []
        for _, size in prefixes[cc]:
            acc += size
            cums.append(acc)
        prefix_cum[cc] = cums
    outside = [
        (int(ipaddress.IPv4Network(net).network_address), ipaddress.IPv4Network(net).num_addresses,
         ccs, asns)
        for net, ccs, asns in OUTSIDE_RANGES
    ]  # fmt: skip

    start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
    span = SECONDS_PER_DAY
    per_second = rows / span
    seen_at_second: set[int] = set()
    current_second = -1
    outside_rows = 0
    countries: set[str] = set()

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(f'"{name}"' for name in COLUMNS) + "\n")
        writer = csv.writer(handle, lineterminator="\n")
        for index in range(rows):
            second = index if rows <= span else int(index / per_second)
            if second != current_second:
                current_second = second
                seen_at_second.clear()
            unix = start + second
            while True:
                if rng.random() < outside_share:
                    base, size, ccs, asns = outside[rng.randrange(len(outside))]
                    address = base + rng.randrange(size)
                    if address in americas:
                        continue
                    cc = ccs[rng.randrange(len(ccs))]
                    asn = asns[rng.randrange(len(asns))]
                    is_outside = True
                else:
                    cc = codes[bisect.bisect_right(country_cum, rng.random() * total)]
                    cums = prefix_cum[cc]
                    pick = rng.randrange(cums[-1])
                    i = bisect.bisect_right(cums, pick)
                    first, size = prefixes[cc][i]
                    address = first + rng.randrange(size)
                    pool = asn_pool.get(cc) or all_asns
                    asn = pool[(first * 2654435761 >> 8) % len(pool)]
                    is_outside = False
                if address not in seen_at_second:
                    seen_at_second.add(address)
                    break
            outside_rows += is_outside
            countries.add(cc)
            ip = _ip_text(address)
            region, city = rng.choice(PLACES[cc]) if cc in PLACES else ("", "")
            if rng.random() < 0.55:
                tld = "com" if cc == "US" else f"net.{cc.lower()}"
                isp = ISPS[address % len(ISPS)]
                hostname = f"{ip.replace('.', '-')}.{isp}{(address >> 16) % 97}.{tld}"
            else:
                hostname = ""
            version = rng.choices(("4", "3", "2"), (70, 25, 5))[0]
            fraction = rng.getrandbits(32)
            full = rng.random() < 0.6  # a "full" readvar answer with every variable
            stratum = rng.choice((1, 2, 2, 2, 3, 3, 3, 4, 16))
            response_size = rng.choice((324, 328, 356, 408, 440, 468, 480))
            naics, sector = (517311, SECTORS[0]) if rng.random() < 0.1 else (0, "")
            if not sector and rng.random() < 0.03:
                sector = rng.choice(SECTORS[1:])
            refid = (
                _ip_text(rng.getrandbits(32) | 0x01000000) if stratum > 1 else rng.choice(REFIDS)
            )
            row = [
                ip, "udp", 123, hostname, "ntpversion", asn, cc, region, city, version,
                f"{rng.random() * 0.02:.3f}" if full else "",
                _ntp_hex(unix, fraction),
                "",
                f"{rng.uniform(-60, 60):.3f}",
                f"{rng.uniform(0, 20):.3f}",
                0 if rng.random() < 0.97 else 3,
                3 if full else "",
                f"{rng.random():.3f}" if not full and rng.random() < 0.3 else "",
                f"{rng.uniform(-30, 30):.3f}",
                rng.randrange(1, 65536),
                "",
                10 if full else "",
                -rng.randrange(6, 24),
                rng.choice(PROCESSORS),
                refid,
                _ntp_hex(unix - rng.randrange(16, 1024), rng.getrandbits(32)),
                f"{rng.uniform(0, 120):.3f}",
                f"{rng.uniform(0, 150):.3f}",
                f"{rng.random() * 0.1:.3f}" if full else "",
                4 if full else "",
                stratum,
                rng.choice(SYSTEMS),
                "",
                10 if full else "",
                naics,
                0,
                sector,
                response_size,
                f"{response_size / 12:.2f}",
            ]  # fmt: skip
            ts = datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S")
            handle.write(f'"{ts}",')
            writer.writerow(row)
    os.replace(tmp, out)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seed": seed,
        "day": day,
        "bytes": out.stat().st_size,
        "seconds": round(seconds, 3),
        "outside_rows": outside_rows,
        "countries": len(countries),
        "generator_version": GENERATOR_VERSION,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--day", default=DEFAULT_DAY, help="date of the scan, YYYY-MM-DD")
    parser.add_argument("--shared-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = generate(args.out, args.rows, seed=args.seed, shared=args.shared_dir, day=args.day)
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
