"""Verbs of the directory: load the member states, import RIR delegation data."""

from __future__ import annotations

import csv
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from csirtnet.core.pgp import public_key_fingerprint
from csirtnet.directory.models import (
    Constituency,
    ContactRole,
    MemberState,
    Organization,
    OrganizationKind,
    PointOfContact,
    RirKind,
    RirRecord,
)

_RIR_BATCH = 5000
# Languages of each national CSIRT's placeholder point of contact (BCP 47), by state:
# English-speaking states first in English; Brazil in Portuguese, Haiti in French,
# Suriname in Dutch, each then English; the rest Spanish, then English.
_ENGLISH = {"AG", "BS", "BB", "BZ", "CA", "DM", "GD", "GY", "JM", "KN", "LC", "VC", "TT", "US"}
_CONTACT_LANGUAGES = {"BR": ["pt", "en"], "HT": ["fr", "en"], "SR": ["nl", "en"]}


def contact_languages(code: str) -> list[str]:
    """Return the languages (BCP 47) of a state's national CSIRT contact, most used first."""
    if code in _ENGLISH:
        return ["en"]
    return _CONTACT_LANGUAGES.get(code, ["es", "en"])


@transaction.atomic
def load_directory() -> tuple[int, int]:
    """
    Create or update the 35 OAS member states, one national CSIRT each (with its ccTLD
    as constituency domain and a 24/7 point of contact on a placeholder address) and the
    network secretariat, from `directory/data/member_states.json`. Safe to run again:
    existing rows are updated, never duplicated, and edits to other fields are kept.

    Returns:
        (states, organizations) written.
    """
    data = json.loads(
        resources.files("csirtnet.directory").joinpath("data/member_states.json").read_text()
    )
    sec = data["secretariat"]
    secretariat, _created = Organization.objects.update_or_create(
        kind=OrganizationKind.SECRETARIAT,
        defaults={"short_name": sec["short_name"], "name": sec["name"], "state": None},
    )
    PointOfContact.objects.get_or_create(
        organization=secretariat,
        role=ContactRole.CSIRT_24_7,
        defaults={"email": sec["email"], "languages": ["es", "en", "pt", "fr"]},
    )
    for code, name_en, name_es, is_member, short_name, team_name in data["states"]:
        state, _created = MemberState.objects.update_or_create(
            code=code,
            defaults={"name_en": name_en, "name_es": name_es, "is_oas_member": is_member},
        )
        org, _created = Organization.objects.update_or_create(
            short_name=short_name,
            defaults={"name": team_name, "kind": OrganizationKind.NATIONAL_CSIRT, "state": state},
        )
        Constituency.objects.get_or_create(
            organization=org, defaults={"domains": [f".{code.lower()}"]}
        )
        PointOfContact.objects.get_or_create(
            organization=org,
            role=ContactRole.CSIRT_24_7,
            defaults={
                "email": f"incident@{code.lower()}.csirt.example",
                "languages": contact_languages(code),
            },
        )
    return len(data["states"]), len(data["states"]) + 1


class RirFormatError(ValueError):
    """A file is not an RIR file csirtnet knows; the message names the file and line."""


@dataclass(frozen=True)
class RirImport:
    """What one file's import did: its source key and the rows written."""

    source: str
    record_count: int


def import_rir_file(path: Path) -> RirImport:
    """
    Import one RIR file, replacing the rows of an earlier import of the same source.

    Formats: the RIR statistics exchange format (delegated and delegated-extended, 2.3;
    `allocated`/`assigned` rows only), the ARIN ASN CSV (`RIR,Country Code,ASN Number,
    Allocated Date`), and per-country aggregated prefix lists (`# Country: Name (CC)`
    header, one CIDR per line).

    Raises:
        RirFormatError: the file is none of these, or a line is malformed (line number given).
    """
    with path.open(encoding="utf-8-sig") as handle:
        head = [next(handle, "") for _line in range(4)]
    first = next((line for line in head if line.strip() and not line.startswith("#")), "")
    if any(line.startswith("# Country:") for line in head):
        source, records = _prefix_list(path, head)
    elif first.startswith("RIR,Country Code,ASN"):
        source, records = f"asn-csv:{path.name}", _asn_csv(path)
    elif first[:1].isdigit() and first.count("|") >= 5:
        source, records = f"delegated:{first.split('|')[1]}:{path.name}", _delegated(path)
    else:
        raise RirFormatError(
            _("%(file)s: not a delegated-extended file, an ASN CSV or a prefix list.")
            % {"file": path}
        )
    with transaction.atomic():
        RirRecord.objects.filter(source=source).delete()
        count = 0
        batch: list[RirRecord] = []
        for record in records:
            record.source = source
            batch.append(record)
            if len(batch) >= _RIR_BATCH:
                count += len(RirRecord.objects.bulk_create(batch))
                batch = []
        count += len(RirRecord.objects.bulk_create(batch))
    return RirImport(source=source, record_count=count)


def _delegated(path: Path) -> Iterator[RirRecord]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#") or text[:1].isdigit():
                continue
            fields = text.split("|")
            if fields[-1] == "summary":
                continue
            if len(fields) < 7:
                raise RirFormatError(
                    _("%(file)s line %(line)d: expected 7 or more fields separated by |.")
                    % {"file": path.name, "line": number}
                )
            registry, cc, kind, start, value, _date, status = fields[:7]
            if status not in ("allocated", "assigned") or len(cc) != 2:
                continue
            yield _record(path, number, registry, cc, kind, start, value)


def _record(
    path: Path, number: int, registry: str, cc: str, kind: str, start: str, value: str
) -> RirRecord:
    try:
        if kind == RirKind.IPV4:
            start = str(ipaddress.IPv4Address(start))
        elif kind == RirKind.IPV6:
            start = str(ipaddress.IPv6Address(start))
        elif kind == RirKind.ASN:
            start = str(int(start))
        else:
            raise ValueError(kind)
        size = int(value)
        if size < 1:
            raise ValueError(value)
    except ValueError as exc:
        raise RirFormatError(
            _("%(file)s line %(line)d: bad %(kind)s record %(start)s|%(value)s.")
            % {"file": path.name, "line": number, "kind": kind, "start": start, "value": value}
        ) from exc
    return RirRecord(
        registry=registry.lower(), country=cc.upper(), kind=kind, start=start, size=size
    )


def _asn_csv(path: Path) -> Iterator[RirRecord]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if not row or (len(row) >= 3 and not row[1]):
                continue  # reserved or available ASNs carry no country
            if len(row) < 3 or len(row[1]) != 2:
                raise RirFormatError(
                    _("%(file)s line %(line)d: expected RIR,Country Code,ASN Number,Date.")
                    % {"file": path.name, "line": reader.line_num}
                )
            asn = row[2].upper().removeprefix("AS")
            yield _record(path, reader.line_num, row[0], row[1], RirKind.ASN, asn, "1")


def _prefix_list(path: Path, head: list[str]) -> tuple[str, Iterator[RirRecord]]:
    header = next(line for line in head if line.startswith("# Country:"))
    cc = header.rsplit("(", 1)[-1].strip().rstrip(")").upper()
    if len(cc) != 2:
        raise RirFormatError(
            _("%(file)s: the '# Country:' header has no (CC) code.") % {"file": path}
        )

    def records() -> Iterator[RirRecord]:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                try:
                    net = ipaddress.ip_network(text)
                except ValueError as exc:
                    raise RirFormatError(
                        _("%(file)s line %(line)d: %(value)r is not a CIDR prefix.")
                        % {"file": path.name, "line": number, "value": text}
                    ) from exc
                if net.version == 4:
                    yield RirRecord(
                        registry="aggregated",
                        country=cc,
                        kind=RirKind.IPV4,
                        start=str(net.network_address),
                        size=net.num_addresses,
                    )
                else:
                    yield RirRecord(
                        registry="aggregated",
                        country=cc,
                        kind=RirKind.IPV6,
                        start=str(net.network_address),
                        size=net.prefixlen,
                    )

    family = "ipv6" if "ipv6" in path.name else "ipv4"
    return f"prefixes:{cc}:{family}", records()


def rir_files(paths: list[Path]) -> list[Path]:
    """
    Expand directories into the RIR files below them (sorted; README/STATS files skipped).

    Raises:
        ValidationError: a path does not exist.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() not in (".md",)
            )
        elif path.is_file():
            out.append(path)
        else:
            raise ValidationError(_("%(path)s does not exist.") % {"path": path})
    return out


@transaction.atomic
def set_contact_key(
    *, organization: Organization, role: str, armored_key: str, gpg_binary: str = "gpg"
) -> PointOfContact:
    """
    Put an OpenPGP public key (RFC 4880 ASCII armor) on an organization's point of
    contact, with its fingerprint; mail to that contact is then encrypted to it.

    Raises:
        PointOfContact.DoesNotExist: the organization has no contact of that role.
        RecipientKeyError: the text holds no public key, several, or a secret key.
        PgpError: gpg cannot be run.
    """
    contact = PointOfContact.objects.select_for_update().get(organization=organization, role=role)
    contact.pgp_fingerprint = public_key_fingerprint(armored_key, gpg_binary=gpg_binary)
    contact.pgp_public_key = armored_key.strip() + "\n"
    contact.full_clean()
    contact.save(update_fields=["pgp_fingerprint", "pgp_public_key"])
    return contact
