"""The Reference Security Incident Taxonomy (RSIT) and PAP, as the MISP taxonomies ship them."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from pytaxonomies.api import Taxonomies


@lru_cache(maxsize=1)
def _taxonomies() -> Taxonomies:
    # imported on first use: it loads JSON-schema machinery that costs every command
    # (and every worker start) about two seconds otherwise
    from pytaxonomies.api import Taxonomies

    return Taxonomies()


@lru_cache(maxsize=1)
def rsit_classes() -> dict[str, dict[str, str]]:
    """
    Return RSIT as `{predicate: {value: expanded English name}}`, e.g.
    `{"malicious-code": {"infected-system": "Infected System", …}, …}`, from the `rsit`
    taxonomy of the MISP taxonomies (machine tags `rsit:predicate="value"`).
    """
    rsit = _taxonomies().get("rsit")
    if rsit is None:
        raise LookupError("The installed pytaxonomies has no RSIT taxonomy.")
    return {
        name: {value: entry.expanded or value for value, entry in predicate.entries.items()}
        for name, predicate in rsit.predicates.items()
    }


def rsit_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """
    Return RSIT as grouped form choices, names in the active language:
    `[(predicate, [("predicate:value", name)])]`.
    """
    return [
        (predicate, [(f"{predicate}:{value}", _(name)) for value, name in values.items()])
        for predicate, values in rsit_classes().items()
    ]


def rsit_name(predicate: str, value: str) -> str:
    """Return the name of an RSIT type in the active language, or the value itself."""
    name = rsit_classes().get(predicate, {}).get(value)
    return _(name) if name else value


def validate_rsit(predicate: str, value: str) -> None:
    """
    Check that `predicate`/`value` is a class of RSIT.

    Raises:
        ValueError: it is not; the message names both.
    """
    if value not in rsit_classes().get(predicate, {}):
        raise ValueError(
            _('"%(predicate)s:%(value)s" is not a class of the RSIT taxonomy.')
            % {"predicate": predicate[:60], "value": value[:60]}
        )


# RSIT type names as the MISP taxonomy spells them, listed for the translation catalogs.
RSIT_NAMES = (
    gettext_noop("Spam"),
    gettext_noop("Harmful Speech"),
    gettext_noop("(Child) Sexual Exploitation/Sexual/Violent Content"),
    gettext_noop("Infected System"),
    gettext_noop("C2 Server"),
    gettext_noop("Malware Distribution"),
    gettext_noop("Malware Configuration"),
    gettext_noop("Scanning"),
    gettext_noop("Sniffing"),
    gettext_noop("Social Engineering"),
    gettext_noop("Exploitation of Known Vulnerabilities"),
    gettext_noop("Login Attempts"),
    gettext_noop("New Attack Signature"),
    gettext_noop("Privileged Account Compromise"),
    gettext_noop("Unprivileged Account Compromise"),
    gettext_noop("Application Compromise"),
    gettext_noop("System Compromise"),
    gettext_noop("Burglary"),
    gettext_noop("Denial of Service"),
    gettext_noop("Distributed Denial of Service"),
    gettext_noop("Misconfiguration"),
    gettext_noop("Sabotage"),
    gettext_noop("Outage"),
    gettext_noop("Unauthorised Access to Information"),
    gettext_noop("Unauthorised Modification of Information"),
    gettext_noop("Data Loss"),
    gettext_noop("Leak of Confidential Information"),
    gettext_noop("Unauthorised Use of Resources"),
    gettext_noop("Copyright"),
    gettext_noop("Masquerade"),
    gettext_noop("Phishing"),
    gettext_noop("Weak Cryptography"),
    gettext_noop("DDoS Amplifier"),
    gettext_noop("Potentially Unwanted Accessible Services"),
    gettext_noop("Information disclosure"),
    gettext_noop("Vulnerable System"),
    gettext_noop("Uncategorised"),
    gettext_noop("Undetermined"),
    gettext_noop("Test"),
)
