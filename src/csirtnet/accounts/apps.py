"""App configuration of accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Memberships of users in organizations, sign-in sessions and API tokens."""

    name = "csirtnet.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        """Record every sign-in (`record_sign_in`), whichever way the user signed in."""
        from django.contrib.auth.signals import user_logged_in

        from csirtnet.accounts.receivers import on_sign_in

        user_logged_in.connect(on_sign_in, dispatch_uid="csirtnet.accounts.on_sign_in")
