"""
Where evidence files live: named by their SHA-256 under CSIRTNET_VAR_DIR/evidence, copied
and hashed 1 MiB at a time; and the check of a declared media type against the file's
first bytes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from csirtnet.core.storage import CHUNK, sha256_path, store_by_sha256
from csirtnet.core.text import CONTROL_RE, DECEPTIVE_RE

HEAD = 512  # bytes of the file's start that the type check reads
MEDIA_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
_UNSAFE_NAME_RE = re.compile(r'[<>:"/\\|?*]')  # reserved on common file systems

# Declared media types of programs and of pages a browser would run: a file whose
# bytes are one of these must say so (a malware sample is fine, a disguised one is not).
EXECUTABLE_TYPES = frozenset(
    {
        "application/x-dosexec", "application/x-msdownload", "application/x-msdos-program",
        "application/vnd.microsoft.portable-executable", "application/x-executable",
        "application/x-elf", "application/x-sharedlib", "application/x-mach-binary",
        "application/x-sh", "text/x-shellscript", "application/x-shellscript",
    }
)  # fmt: skip
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml"})

# What the first bytes of a file of a declared type must be (any of the prefixes).
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": _ZIP,
    "application/gzip": (b"\x1f\x8b",),
    "application/x-gzip": (b"\x1f\x8b",),
    "application/x-7z-compressed": (b"7z\xbc\xaf\x27\x1c",),
    "application/vnd.rar": (b"Rar!\x1a\x07",),
    "application/x-rar-compressed": (b"Rar!\x1a\x07",),
    "application/x-bzip2": (b"BZh",),
    "application/x-xz": (b"\xfd7zXZ\x00",),
    "application/vnd.tcpdump.pcap": (
        b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
    ),
    "application/x-pcapng": (b"\x0a\x0d\x0d\x0a",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
}  # fmt: skip
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/csv", "message/rfc822"}
)


def evidence_dir() -> Path:
    """Return the folder of evidence files: CSIRTNET_VAR_DIR/evidence."""
    return Path(settings.VAR_DIR) / "evidence"


def evidence_path(sha256: str) -> Path:
    """Return where the bytes with this SHA-256 (64 lower-case hex digits) are stored."""
    return sha256_path(evidence_dir(), sha256)


def clean_file_name(name: str) -> str:
    """
    Return a file name safe to store and offer for download: the last part of a path
    (either slash), NFC-normalized, without control or invisible characters, with
    characters reserved on common file systems as "_", no leading dots or spaces, at
    most 255 characters (the extension kept).

    Raises:
        ValidationError: `{"file": …}` when nothing usable is left.
    """
    base = PurePosixPath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = DECEPTIVE_RE.sub("", CONTROL_RE.sub("", base))
    base = _UNSAFE_NAME_RE.sub("_", base).strip().lstrip(". ")
    if len(base) > 255:
        stem, dot, extension = base.rpartition(".")
        base = (
            f"{stem[: 254 - len(extension)]}.{extension}"
            if dot and len(extension) < 20
            else base[:255]
        )
    if not base:
        raise ValidationError({"file": _("The file needs a name with visible characters.")})
    return base


def clean_media_type(declared: str) -> str:
    """
    Return a declared media type in lower case, without parameters ("; charset=…").

    Raises:
        ValidationError: `{"content_type": …}` when it is not of the form `type/subtype`.
    """
    media_type = declared.split(";", 1)[0].strip().lower()
    if not MEDIA_TYPE_RE.match(media_type):
        raise ValidationError(
            {
                "content_type": _(
                    "Give the file's media type as type/subtype, e.g. application/pdf."
                )
            }
        )
    return media_type


def sniff(head: bytes) -> str | None:
    """
    Return what the first bytes of a file say it is, when it is something dangerous to
    disguise: "executable" (Windows PE/MZ, ELF, Mach-O, a "#!" script) or "html" (an
    HTML or SVG document, which a browser would render and run); else None.
    """
    if head.startswith((b"MZ", b"\x7fELF", b"#!")) or head[:4] in {
        b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    }:  # fmt: skip
        return "executable"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    markers = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<head", b"<body", b"<iframe")
    if text.startswith(markers) or (text.startswith(b"<?xml") and b"<svg" in text):
        return "html"
    return None


def check_media_type(media_type: str, head: bytes) -> None:
    """
    Check a declared media type against the file's first `HEAD` bytes: executables and
    HTML must be declared as such (`EXECUTABLE_TYPES`, `HTML_TYPES`), and a file declared
    as one of the `SIGNATURES` types (PDF, PNG, JPEG, GIF, ZIP and Office, gzip, 7z,
    RAR, bzip2, xz, pcap, pcapng) must start as that type does; text types must not hold
    NUL bytes. Other declared types are taken as given.

    Raises:
        ValidationError: `{"content_type": …}` naming the mismatch.
    """
    found = sniff(head)
    if found == "executable" and media_type not in EXECUTABLE_TYPES:
        raise ValidationError(
            {
                "content_type": _(
                    "The file is a program, not %(type)s: declare it as an executable "
                    "(e.g. application/x-dosexec)."
                )
                % {"type": media_type}
            }
        )
    if found == "html" and media_type not in HTML_TYPES | EXECUTABLE_TYPES:
        raise ValidationError(
            {
                "content_type": _(
                    "The file is an HTML or SVG document, not %(type)s: declare it as text/html."
                )
                % {"type": media_type}
            }
        )
    prefixes = SIGNATURES.get(media_type)
    if prefixes and not head.startswith(prefixes):
        raise ValidationError(
            {
                "content_type": _("The file's first bytes are not those of %(type)s.")
                % {"type": media_type}
            }
        )
    if (media_type.startswith("text/") or media_type in _TEXT_TYPES) and b"\x00" in head:
        raise ValidationError(
            {"content_type": _("The file holds binary data, not %(type)s.") % {"type": media_type}}
        )


def store_file(content: IO[bytes], media_type: str) -> tuple[str, int]:
    """
    Copy `content` to the evidence folder under its SHA-256 (`ab/abcd…`), 1 MiB at a
    time, after checking `media_type` against its first bytes (`check_media_type`);
    return `(sha256 hex, size in bytes)`. Equal files share one copy, which is never
    overwritten.

    Raises:
        ValidationError: `{"file": …}` when empty or over CSIRTNET_EVIDENCE_MAX_BYTES;
            `{"content_type": …}` on a type mismatch. Nothing is kept.
    """
    head = content.read(HEAD)
    if head:
        check_media_type(media_type, head)
    _path, sha256, size = store_by_sha256(
        content, evidence_dir(), limit=settings.CSIRTNET_EVIDENCE_MAX_BYTES,
        too_large=_("Evidence files are limited to %(size)d bytes."), first=head,
    )  # fmt: skip
    return sha256, size


def file_sha256(sha256: str) -> str | None:
    """Return the SHA-256 of the stored file named `sha256`, read 1 MiB at a time; None if gone."""
    try:
        digest = hashlib.sha256()
        for chunk in read_chunks(evidence_path(sha256)):
            digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def read_chunks(path: Path) -> Iterator[bytes]:
    """Yield the bytes of `path`, 1 MiB at a time.

    Raises:
        FileNotFoundError: the file is gone.
    """
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk
