"""App configuration of incidents."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents felt across borders: participants, timeline, observables, notifications."""

    name = "csirtnet.incidents"
    verbose_name = _("Incidents")
