"""Where incident attachments live: files named by their SHA-256 under CSIRTNET_VAR_DIR."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.incidents.models import Attachment


def attachment_dir() -> Path:
    return Path(settings.VAR_DIR) / "attachments"


def store_file(content: IO[bytes]) -> tuple[Path, str, int]:
    limit = settings.CSIRTNET_ATTACHMENT_MAX_BYTES
    directory = attachment_dir()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    temporary = directory / f".upload-{timezone.now().timestamp()}-{id(content)}"
    with temporary.open("wb") as out:
        while chunk := content.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                temporary.unlink(missing_ok=True)
                raise ValidationError(
                    {"file": _("Files are limited to %(size)d bytes.") % {"size": limit}}
                )
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        temporary.unlink(missing_ok=True)
        raise ValidationError({"file": _("The file is empty.")})
    final = directory / digest.hexdigest()[:2] / digest.hexdigest()
    final.parent.mkdir(exist_ok=True)
    temporary.replace(final)
    return final, digest.hexdigest(), size


def attachment_path(attachment: Attachment) -> Path:
    """Return where the bytes of `attachment` are stored."""
    return attachment_dir() / attachment.sha256[:2] / attachment.sha256
