"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every envelope."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler keeping every envelope; `refused` recipients, slow `delay_seconds`."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refused: set[str] = set()
        self.delay_seconds = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refused:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(envelope.content, policy=email.policy.default)
            for envelope in self.envelopes
        ]

    def recipients(self) -> list[str]:
        return sorted(address for envelope in self.envelopes for address in envelope.rcpt_tos)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1 that Django's SMTP backend sends to."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    yield sink
    controller.stop()
