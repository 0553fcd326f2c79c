"""Background tasks of reports: deliver one digest from the outbox."""

from __future__ import annotations

from django_tasks import task

from csirtnet.reports.delivery import send_digest


@task()
def deliver_digest(*, digest_id: int) -> str:
    """
    E-mail digest `digest_id` to its organization's CSIRT 24/7 point of contact, once
    (a named person's row of a TLP:RED report: the notice without content, to that
    person's own address).

    Safe to run twice and concurrently: `send_digest` locks the digest row, skips it
    unless it is pending and its report complete, sends, and marks it sent in the
    transaction that holds the lock, so a second worker waits and then sees "sent".
    A crash after the SMTP server accepted the message and before that commit leaves
    the digest pending, and a later run sends one duplicate with the same deterministic
    Message-ID (`<digest-{pk}-{sha256[:16]}@csirtnet>`) so that it can be recognised.

    Returns:
        A `DeliveryOutcome` value: "sent", "no_contact", "withheld" or "skipped".

    Raises:
        Digest.DoesNotExist: no digest `digest_id`.
        smtplib.SMTPException, OSError: sending failed; the digest stays pending with
            `attempt_count` and `last_error` recorded, and the task result shows failure.
    """
    return send_digest(digest_id=digest_id).value
