"""Traffic Light Protocol 2.0 labels (FIRST, https://www.first.org/tlp/)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

_M = TypeVar("_M", bound=models.Model)


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
        return _(
            "TLP:RED events are never sent in digests; the people the report names see "
            "them in their inbox and are sent a notice without content."
        )
    if label == TLP.AMBER_STRICT and not recipient_is_member:
        return _("TLP:AMBER+STRICT events are not sent in digests to non-members.")
    return ""


def visibility_filter(actor: Membership | None) -> Q:
    """
    Select the shared objects `actor` may see (DESIGN.md, "TLP 2.0: who may see what").

    CLEAR: anyone, anonymous visitors included. GREEN: every signed-in member of the
    network (an actor whose organization is a member), and, as a looser label never
    shows less than a stricter one, the owner and the organizations addressed even when
    they are not members. AMBER, AMBER+STRICT: the owner organization and the
    organizations addressed. RED: the author and the people addressed by name, not
    their colleagues. Staff status and the secretariat add nothing. The model must have
    `tlp`, `owner`, `author`, `recipient_organizations` and `recipient_people`.
    """
    query = Q(tlp=TLP.CLEAR)
    if actor is None:
        return query
    org, user = actor.organization_id, actor.user_id
    if actor.organization.is_member:
        query |= Q(tlp=TLP.GREEN)
    return (
        query
        | (Q(owner_id=org) & ~Q(tlp=TLP.RED))
        | Q(tlp__in=[TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT], recipient_organizations=org)
        | Q(tlp=TLP.RED, author_id=user)
        | Q(tlp=TLP.RED, recipient_people=user)
    )


class SharedQuerySet(models.QuerySet[_M]):
    """Rows of a shared model (one with a TLP label, an owner and recipients)."""

    def visible_to(self, actor: Membership | None) -> Self:
        """
        Return the rows `actor` may see under `visibility_filter`; None is an anonymous
        visitor. The filter runs in a subquery, so recipients never duplicate a row.
        """
        allowed = self.model._base_manager.filter(visibility_filter(actor))
        return self.filter(pk__in=allowed.values("pk"))

    def exportable_to(self, actor: Membership | None) -> Self:
        """Return the rows `actor` may export: visible ones, never TLP:RED (DESIGN.md)."""
        return self.visible_to(actor).exclude(tlp=TLP.RED)
