"""Files kept under their SHA-256 in a folder (content-addressed, written atomically)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHUNK = 1 << 20  # bytes read at a time: 1 MiB


def sha256_path(directory: Path, sha256: str) -> Path:
    """Return where the file with this SHA-256 (64 hex digits) lives: `directory/ab/abcd…`."""
    return directory / sha256[:2] / sha256


def store_by_sha256(
    content: IO[bytes], directory: Path, *, limit: int, too_large: str, first: bytes = b""
) -> tuple[Path, str, int]:
    """
    Copy `first` and then the rest of `content` into `directory` under its SHA-256,
    1 MiB at a time, through a temporary file that is fsynced and renamed into place;
    return `(path, sha256 hex, size in bytes)`. Equal files share one copy, never
    overwritten. `too_large` is the message (with `%(size)d`) for a file over `limit`
    bytes.

    Raises:
        ValidationError: `{"file": …}` when empty or over `limit`; nothing is kept.
    """
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False) as out:
        temporary = Path(out.name)
        try:
            chunk = first or content.read(CHUNK)
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise ValidationError({"file": too_large % {"size": limit}})
                digest.update(chunk)
                out.write(chunk)
                chunk = content.read(CHUNK)
            if size == 0:
                raise ValidationError({"file": _("The file is empty.")})
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    final = sha256_path(directory, digest.hexdigest())
    final.parent.mkdir(exist_ok=True)
    if final.exists():
        temporary.unlink()
    else:
        temporary.replace(final)
    return final, digest.hexdigest(), size
