"""App configuration of the TAXII 2.1 server."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaxiiConfig(AppConfig):
    """TAXII 2.1 server (OASIS TAXII 2.1, sections 4-5)."""

    name = "csirtnet.taxii"
    verbose_name = _("TAXII 2.1")
