"""Background work of incidents: notification e-mail from the outbox."""

from __future__ import annotations

from django_tasks import task

from csirtnet.incidents import delivery


@task()
def deliver_notification(*, notification_id: int) -> str:
    """
    E-mail notification `notification_id` once: to its organization's CSIRT 24/7 point
    of contact (PGP/MIME when a key is on file), or for TLP:RED to the person named.

    Safe to run twice and concurrently: `delivery.send_notification` locks the row,
    skips it unless it is pending, re-checks the TLP rule on the incident as it is now,
    sends, and marks it sent in the transaction that holds the lock. A crash between the
    SMTP server's acceptance and that commit leaves it pending, and a later run sends
    one duplicate with the same Message-ID
    (`<incident-notification-{pk}-{reference}@csirtnet>`).

    Returns:
        A `DeliveryOutcome` value: "sent", "failed", "no_contact", "withheld" or "skipped".

    Raises:
        Notification.DoesNotExist: no notification `notification_id`.
        smtplib.SMTPException, OSError: sending failed; the notification stays pending
            with `attempts` and `error` recorded, and the task result shows failure.
        csirtnet.core.pgp.PgpError: the platform's gpg or signing key is unusable; the
            same, and nothing is sent in plain.
    """
    return delivery.send_notification(notification_id=notification_id).value
