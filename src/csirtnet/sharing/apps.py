"""App configuration of sharing."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    """Indicators, observables and sightings as STIX 2.1 objects; the TLP policy."""

    name = "csirtnet.sharing"
    verbose_name = _("Sharing")
