"""
Rows of sharing: STIX 2.1 objects as received or made here, one row per version, and
the normalized values they hold (for correlation).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import Organization
from csirtnet.sharing.observables import ObservableType
from csirtnet.sharing.querysets import StixObjectQuerySet
from csirtnet.sharing.tlp import TLP


class StixObject(models.Model):
    """
    One version of a STIX 2.1 object (OASIS STIX 2.1, section 3): an indicator, a
    cyber-observable, a sighting, a relationship, any SDO, also custom ones. `body` is the
    object exactly as received (custom properties included); `stix_id`, `type`,
    `modified` and the TLP label are read from it. A version is `(stix_id, version)`,
    `version` being `modified` as written (or `created`, or "" for objects without
    either, e.g. cyber-observables), once per owner; `content_sha256` tells a repeat from
    a conflict.
    `date_added` is when this server stored it (TAXII 2.1, section 3.4), unique with `pk`
    as the pagination order. Shared under the TLP rule (`visible_to`): `owner` is the
    organization that imported or made it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = models.CharField(_("STIX id"), max_length=300)
    type = models.CharField(_("type"), max_length=250)
    spec_version = models.CharField(max_length=10, default="2.1")
    version = models.CharField(
        _("version"), max_length=40, blank=True, help_text=_("`modified` as written.")
    )
    modified_at = models.DateTimeField(null=True, blank=True)
    body = models.JSONField(_("object"))
    content_sha256 = models.CharField(max_length=64)
    date_added = models.DateTimeField(default=timezone.now, db_index=True)
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=TLP.AMBER)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="stix_objects")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recipient_organizations = models.ManyToManyField(
        Organization, blank=True, related_name="stix_objects_received"
    )
    recipient_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="stix_objects_named"
    )
    source = models.CharField(_("source"), max_length=300, blank=True)

    objects = StixObjectQuerySet.as_manager()

    class Meta:
        ordering = ["date_added", "pk"]
        verbose_name = _("STIX object")
        verbose_name_plural = _("STIX objects")
        constraints = [
            # per owner: two organizations importing one public bundle each get their copy
            models.UniqueConstraint(
                fields=["owner", "stix_id", "version"], name="one_row_per_version_per_owner"
            ),
            models.CheckConstraint(condition=models.Q(tlp__in=TLP.values), name="stix_tlp_known"),
        ]
        indexes = [
            models.Index(fields=["type", "date_added"]),
            models.Index(fields=["stix_id", "modified_at"]),
            models.Index(fields=["stix_id", "version"]),
        ]

    def __str__(self) -> str:
        return f"{self.stix_id} {self.version}"


class StixValue(models.Model):
    """
    A normalized value (see `sharing.observables`) that a STIX object holds: the value
    of a cyber-observable, or one compared for equality in an indicator's pattern.
    """

    stix_object = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="values")
    type = models.CharField(max_length=8, choices=ObservableType.choices)
    value = models.CharField(max_length=2048)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stix_object", "type", "value"], name="one_value_per_object"
            )
        ]
        indexes = [models.Index(fields=["type", "value"])]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class TaxiiSubscription(models.Model):
    """
    A TAXII 2.1 collection of another server that an organization pulls (`csirtnet taxii
    pull`). `added_after` is the `X-TAXII-Date-Added-Last` (TAXII 2.1, section 3.5) of the
    last page fully imported, as the server wrote it; the next pull asks for objects
    added after it. `last_error` is the reason the last pull stopped, "" when it ended.
    """

    url = models.URLField(_("API root URL"), max_length=500)
    collection_id = models.CharField(_("collection id"), max_length=200)
    owner = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="taxii_subscriptions"
    )
    added_after = models.CharField(_("added after"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("TAXII subscription")
        verbose_name_plural = _("TAXII subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "url", "collection_id"], name="one_subscription_per_collection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.url} {self.collection_id}"

    @property
    def collection_url(self) -> str:
        """The collection's URL: `<api root>/collections/<id>/` (TAXII 2.1, section 5.2)."""
        return f"{self.url.rstrip('/')}/collections/{self.collection_id}/"
