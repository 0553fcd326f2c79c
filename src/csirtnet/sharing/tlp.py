"""Traffic Light Protocol 2.0 labels (FIRST, https://www.first.org/tlp/)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext as _


class TLP(models.TextChoices):
    """Traffic Light Protocol 2.0 labels (FIRST), least to most restrictive; never translated."""

    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"

    @property
    def rank(self) -> int:
        """Return 0 for CLEAR up to 4 for RED."""
        return list(TLP).index(self)


def strictest(labels: Iterable[str]) -> TLP:
    """
    Return the most restrictive of `labels` (TLP values): a combination of objects
    (an export, a digest, a relationship) carries the strictest label of its parts.
    Unlabelled input counts as AMBER (DESIGN.md, TLP 2.0).

    Raises:
        ValueError: a value is not a TLP label.
    """
    return max((TLP(label) for label in labels), key=lambda label: label.rank, default=TLP.AMBER)


def organization_mail_refusal(label: TLP, *, recipient_is_member: bool) -> str:
    """
    Return why content labelled `label` must not be e-mailed to an organization's role
    address (a digest, an org-wide feed), or "" when it may be: TLP:RED goes only to
    people addressed by name, never to an organization; TLP:AMBER+STRICT never to a
    non-member.
    """
    if label == TLP.RED:
        return _("TLP:RED events are never sent in digests; they stay in the inbox.")
    if label == TLP.AMBER_STRICT and not recipient_is_member:
        return _("TLP:AMBER+STRICT events are not sent in digests to non-members.")
    return ""
