"""App configuration of reports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Abuse reports, events, rejected rows and digests."""

    name = "csirtnet.reports"
    verbose_name = _("Reports")
