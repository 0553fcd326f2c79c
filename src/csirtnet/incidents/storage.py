"""Where incident attachments live: files named by their SHA-256 under CSIRTNET_VAR_DIR."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
    limit = settings.CSIRTNET_ATTACHMENT_MAX_BYTES
    directory = attachment_dir()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False) as out:
        temporary = Path(out.name)
        try:
            while chunk := content.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise ValidationError(
                        {"file": _("Files are limited to %(size)d bytes.") % {"size": limit}}
                    )
                digest.update(chunk)
                out.write(chunk)
            if size == 0:
                raise ValidationError({"file": _("The file is empty.")})
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    final = directory / digest.hexdigest()[:2] / digest.hexdigest()
    final.parent.mkdir(exist_ok=True)
    temporary.replace(final)
    return final, digest.hexdigest(), size


def attachment_path(attachment: Attachment) -> Path:
    """Return where the bytes of `attachment` are stored."""
    return attachment_dir() / attachment.sha256[:2] / attachment.sha256
