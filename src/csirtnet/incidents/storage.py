"""Where incident attachments live: files named by their SHA-256 under CSIRTNET_VAR_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from csirtnet.core.storage import sha256_path, store_by_sha256
from csirtnet.incidents.models import Attachment


def attachment_dir() -> Path:
    """Return the folder of attachment files: CSIRTNET_VAR_DIR/attachments."""
    return Path(settings.VAR_DIR) / "attachments"


def store_file(content: IO[bytes]) -> tuple[Path, str, int]:
    """
    Copy `content` to the attachment folder under its SHA-256 (`ab/abcd…`), reading 1 MiB
    at a time; return `(path, sha256 hex, size in bytes)`. Equal files share one copy.

    Raises:
        ValidationError: `{"file": …}` when empty or over CSIRTNET_ATTACHMENT_MAX_BYTES
            (nothing is kept).
    """
    return store_by_sha256(
        content, attachment_dir(), limit=settings.CSIRTNET_ATTACHMENT_MAX_BYTES,
        too_large=_("Files are limited to %(size)d bytes."),
    )  # fmt: skip


def attachment_path(attachment: Attachment) -> Path:
    """Return where the bytes of `attachment` are stored."""
    return sha256_path(attachment_dir(), attachment.sha256)
