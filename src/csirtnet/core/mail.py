"""E-mail messages whose Subject folds cleanly (RFC 2047 words sized for the header)."""

from __future__ import annotations

import email.message
from email.header import Header
from typing import Any

from django.core.mail import EmailMessage


class Email(EmailMessage):
    """
    Django's EmailMessage with the Subject folded for its own header line. Django 5.2
    folds a long non-ASCII subject onto a line after an empty "Subject:", which
    readers then show with a leading space; a subject must open with its TLP label
    (DESIGN.md), so it is written as `Header(subject, header_name="Subject")`.
    """

    def message(self) -> Any:  # type: ignore[override]  # stubs type it too narrowly
        """Return the MIME message with the Subject re-set as a sized RFC 2047 header."""
        message = super().message()
        set_subject(message, str(self.subject))
        return message


def set_subject(message: Any, subject: str) -> None:
    """Replace the Subject of `message` by `subject`, folded for the "Subject: " line."""
    del message["Subject"]
    charset = "us-ascii" if subject.isascii() else "utf-8"
    # Message.__setitem__, not Django's SafeMIME one, which would fold it again.
    header: Any = Header(subject, charset, header_name="Subject")
    email.message.Message.__setitem__(message, "Subject", header)
