"""Rows of the directory: states, organizations, points of contact, constituencies, RIR data."""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from csirtnet.core.text import to_ascii_hostname

E164 = RegexValidator(
    r"^\+[1-9]\d{6,14}$", _("Enter a phone number in E.164 form (+15551234567).")
)
PGP_FINGERPRINT = RegexValidator(
    r"^[0-9A-F]{40}$", _("Enter 40 upper-case hexadecimal digits without spaces.")
)
COUNTRY_CODE = RegexValidator(r"^[A-Z]{2}$", _("Enter an ISO 3166-1 alpha-2 code (BR)."))
_DOMAIN = re.compile(r"^\.?([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$")


class Sector(models.TextChoices):
    """Critical-infrastructure sectors the network tracks (CICTE declaration, clause 8)."""

    GOVERNMENT = "government", _("Government")
    HEALTH = "health", _("Health")
    ENERGY = "energy", _("Energy")
    FINANCE = "finance", _("Finance")
    TELECOMMUNICATIONS = "telecommunications", _("Telecommunications")
    TRANSPORT = "transport", _("Transport")
    WATER = "water", _("Water")
    OTHER = "other", _("Other")


class MemberState(models.Model):
    """A state of the Americas, keyed by its ISO 3166-1 alpha-2 code, named in es and en."""

    code = models.CharField(_("code"), max_length=2, unique=True, validators=[COUNTRY_CODE])
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    is_oas_member = models.BooleanField(_("OAS member"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("member state")
        verbose_name_plural = _("member states")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def name(self) -> str:
        """Return the name in the active language (Spanish for `es*`, English otherwise)."""
        return self.name_es if (get_language() or "en").startswith("es") else self.name_en


class OrganizationKind(models.TextChoices):
    """What an organization of the directory is."""

    NATIONAL_CSIRT = "national_csirt", _("National CSIRT")
    SECTORAL_CSIRT = "sectoral_csirt", _("Sectoral CSIRT")
    LAW_ENFORCEMENT = "law_enforcement", _("Law-enforcement cyber unit")
    AUTHORITY = "authority", _("Government authority")
    SECRETARIAT = "secretariat", _("Network secretariat")
    OTHER = "other", _("Other")


class OrganizationQuerySet(models.QuerySet["Organization"]):
    """Which organizations: the secretariat, national CSIRTs."""

    def secretariat(self) -> Organization:
        """
        Return the network secretariat (which also keeps the unrouted queue).

        Raises:
            Organization.DoesNotExist: the directory has no secretariat yet.
        """
        return self.get(kind=OrganizationKind.SECRETARIAT)

    def national_csirts(self) -> OrganizationQuerySet:
        """Return the national CSIRTs of states."""
        return self.filter(kind=OrganizationKind.NATIONAL_CSIRT, state__isnull=False)


class Organization(models.Model):
    """A directory entity: a CSIRT, a law-enforcement unit, an authority, the secretariat."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    state = models.ForeignKey(
        MemberState,
        verbose_name=_("state"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        help_text=_("Empty only for the network secretariat."),
    )
    is_member = models.BooleanField(_("member of the network"), default=True)
    website = models.URLField(_("website"), blank=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="secretariat") | models.Q(state__isnull=False),
                name="organization_state_required_unless_secretariat",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind="secretariat"),
                name="one_network_secretariat",
            ),
            # the national CSIRT of an affected state is told of every incident there
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(kind="national_csirt"),
                name="one_national_csirt_per_state",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name

    @property
    def is_secretariat(self) -> bool:
        """Return True for the network secretariat."""
        return self.kind == OrganizationKind.SECRETARIAT


class ContactRole(models.TextChoices):
    """Roles of a point of contact (CICTE CBM registry)."""

    CSIRT_24_7 = "csirt_24_7", _("CSIRT 24/7")
    LAW_ENFORCEMENT_24_7 = "law_enforcement_24_7", _("Law-enforcement 24/7")
    POLICY = "policy", _("Policy")
    FOREIGN_AFFAIRS = "foreign_affairs", _("Foreign affairs")


class PointOfContact(models.Model):
    """
    A role address of an organization (not a login): e-mail, E.164 phone, PGP key, languages.

    `last_verified_at` (UTC) is when the organization last confirmed it; stale when old.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="points_of_contact"
    )
    role = models.CharField(_("role"), max_length=30, choices=ContactRole.choices)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=16, blank=True, validators=[E164])
    pgp_fingerprint = models.CharField(
        _("PGP fingerprint"), max_length=40, blank=True, validators=[PGP_FINGERPRINT]
    )
    pgp_public_key = models.TextField(
        _("PGP public key"),
        blank=True,
        max_length=200000,
        help_text=_("ASCII-armored OpenPGP public key; mail to this contact is encrypted to it."),
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, help_text=_("BCP 47 tags, e.g. es, en, pt-BR.")
    )
    last_verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)

    class Meta:
        ordering = ["organization", "role"]
        verbose_name = _("point of contact")
        verbose_name_plural = _("points of contact")
        constraints = [
            models.UniqueConstraint(fields=["organization", "role"], name="one_contact_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_role_display()}"

    @property
    def mail_language(self) -> str:
        """
        Return the language to write to this contact in: its first language (BCP 47,
        primary subtag) that settings.LANGUAGES offers, else settings.LANGUAGE_CODE.
        """
        offered = {code for code, _name in settings.LANGUAGES}
        for tag in self.languages or []:
            primary = str(tag).split("-")[0].lower()
            if primary in offered:
                return primary
        return str(settings.LANGUAGE_CODE)


class Constituency(models.Model):
    """
    Who an organization serves: IP prefixes (v4 and v6, CIDR text), ASNs, domain suffixes,
    critical-infrastructure sectors. Used for routing (see `directory.routing`).
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="constituency"
    )
    prefixes = models.JSONField(_("IP prefixes"), default=list, blank=True)
    asns = models.JSONField(_("autonomous system numbers"), default=list, blank=True)
    domains = models.JSONField(
        _("domain suffixes"), default=list, blank=True, help_text=_("e.g. .gob.mx or .uy")
    )
    sectors = models.JSONField(_("sectors"), default=list, blank=True)

    class Meta:
        verbose_name = _("constituency")
        verbose_name_plural = _("constituencies")

    def __str__(self) -> str:
        return str(self.organization)

    def clean(self) -> None:
        """
        Normalize and check every entry: prefixes to canonical CIDR, ASNs to 1-4294967295,
        domains to lower-case punycode with a leading dot, sectors to known values.

        Raises:
            ValidationError: naming the field and the bad entry.
        """
        self.prefixes = [_clean_prefix(p) for p in self.prefixes or []]
        self.asns = [_clean_asn(a) for a in self.asns or []]
        self.domains = [_clean_domain(d) for d in self.domains or []]
        for sector in self.sectors or []:
            if sector not in Sector.values:
                raise ValidationError({"sectors": _("Unknown sector %(s)r.") % {"s": sector}})


def _clean_prefix(value: Any) -> str:
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError as exc:
        raise ValidationError(
            {"prefixes": _("%(v)r is not an IP prefix.") % {"v": value}}
        ) from exc


def _clean_asn(value: Any) -> int:
    try:
        asn = int(str(value).upper().removeprefix("AS"))
    except ValueError:
        asn = 0
    if not 1 <= asn <= 4294967295:
        raise ValidationError({"asns": _("%(v)r is not an ASN (1-4294967295).") % {"v": value}})
    return asn


def _clean_domain(value: Any) -> str:
    text = to_ascii_hostname(str(value).strip().strip(".")) or ""
    if not text or not _DOMAIN.match(text):
        raise ValidationError({"domains": _("%(v)r is not a domain.") % {"v": value}})
    return "." + text.lstrip(".")


class RouteRule(models.TextChoices):
    """Which routing rule chose the responsible organization (see `directory.routing`)."""

    PREFIX = "prefix", _("constituency prefix")
    ASN = "asn", _("constituency ASN")
    DOMAIN = "domain", _("constituency domain")
    COUNTRY = "country", _("country of the address (RIR data)")
    UNROUTED = "unrouted", _("unrouted")


class RirKind(models.TextChoices):
    """Resource types of the RIR statistics exchange format."""

    IPV4 = "ipv4", "IPv4"
    IPV6 = "ipv6", "IPv6"
    ASN = "asn", "ASN"


class RirRecord(models.Model):
    """
    One delegation of a Regional Internet Registry (RIR statistics exchange format 2.3):
    `start` is the first address (text) or first ASN; `size` is the number of IPv4
    addresses, the IPv6 prefix length, or the number of ASNs, as the format defines.
    `source` names the import it came from; importing the same source again replaces it.
    """

    source = models.CharField(max_length=100, db_index=True)
    registry = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    kind = models.CharField(max_length=4, choices=RirKind.choices)
    start = models.CharField(max_length=39)
    size = models.BigIntegerField()

    class Meta:
        verbose_name = _("RIR delegation")
        verbose_name_plural = _("RIR delegations")

    def __str__(self) -> str:
        return f"{self.registry} {self.country} {self.kind} {self.start}/{self.size}"
