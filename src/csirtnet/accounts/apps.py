"""App configuration of accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Memberships of users in organizations."""

    name = "csirtnet.accounts"
    verbose_name = _("Accounts")
