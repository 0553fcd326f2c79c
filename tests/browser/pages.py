"""Page objects of the browser tests: what a person does on each page, not how."""

from __future__ import annotations

from typing import Any


class LoginPage:
    """The sign-in form."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self) -> LoginPage:
        """Go to the sign-in page."""
        self.page.goto("/accounts/login/")
        return self

    def sign_in(self, username: str, password: str) -> InboxPage:
        """Fill the form, submit it and the TOTP code when asked; the inbox is where it lands."""
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        return self._second_factor(username)

    def sign_in_any_language(self, username: str, password: str) -> InboxPage:
        """As `sign_in`, by the fields' names rather than their (translated) labels."""
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        self.page.locator("main form button[type=submit]").click()
        return self._second_factor(username)

    def _second_factor(self, username: str) -> InboxPage:
        """Enter the code of the user's authenticator when the page asks for one."""
        self.page.wait_for_load_state()
        if "/second-factor/" in self.page.url:
            SecondFactorPage(self.page).enter_code(totp_code_of(username))
        self.page.wait_for_url("**/reports/inbox/")
        return InboxPage(self.page)


def totp_code_of(username: str) -> str:
    """
    Return the code (RFC 6238) that the authenticator of `username` shows now, from the
    key of its TOTP device (the enrollment's pending one if it has no confirmed one).
    The device forgets the last code used, so that a second sign-in in the same
    30 seconds works.
    """
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username).order_by("-confirmed", "pk")[0]
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


class SecondFactorPage:
    """The page that asks for the authenticator's code, or adds an authenticator."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def otpauth_uri(self) -> str:
        """Return the key URI shown while adding an authenticator ("" when not shown)."""
        uri = self.page.locator("#otpauth-uri")
        return str(uri.inner_text()) if uri.count() else ""

    def enter_code(self, code: str) -> None:
        """Type the six-digit code and submit it."""
        self.page.locator("input[name=code]").fill(code)
        self.page.locator("main form button[type=submit]").click()
        self.page.wait_for_load_state()


class InboxPage:
    """The list of events routed to the signed-in user's organization."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def heading(self) -> str:
        """Return the page's main heading."""
        return str(self.page.get_by_role("heading", level=1).inner_text())

    @property
    def signed_in_as(self) -> str:
        """Return the user, organization and state shown in the header."""
        return str(self.page.locator(".who").inner_text())

    def rows_text(self) -> str:
        """Return the text of the events table."""
        return str(self.page.locator("table.events tbody").inner_text())

    def search(self, text: str) -> InboxPage:
        """Filter by IP, hostname or URL."""
        self.page.get_by_label("IP, hostname or URL").fill(text)
        self.page.get_by_role("button", name="Filter").click()
        self.page.wait_for_load_state()
        return self

    def open_event(self, index: int = 0) -> Any:
        """Open the event of the `index`th row and return the page."""
        self.page.locator("table.events tbody tr").nth(index).locator("a").first.click()
        self.page.wait_for_url("**/reports/events/**")
        return self.page


# Incident pages: found by element names and ids, not by their text, so that the same
# steps work in every language of the interface.


class IncidentListPage:
    """The list of incidents the signed-in user's organization sees."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @classmethod
    def open_from_menu(cls, page: Any) -> IncidentListPage:
        """Follow the header's link to the incidents."""
        page.locator(".site-nav a[href$='/incidents/']").click()
        page.wait_for_url("**/incidents/")
        return cls(page)

    @property
    def awaiting_in_menu(self) -> str:
        """Return the header's count of incidents awaiting acknowledgement ("" for none)."""
        badge = self.page.locator(".site-nav .nav-count")
        return str(badge.inner_text()) if badge.count() else ""

    def row(self, reference: str) -> Any:
        """Return the table row of the incident `reference`."""
        return self.page.locator("table.incidents tbody tr", has_text=reference)

    def references(self) -> str:
        """Return the text of the incidents table."""
        return str(self.page.locator("table.incidents tbody").inner_text())

    def report_new(self) -> ReportIncidentPage:
        """Open the report form."""
        self.page.locator("a[href$='/incidents/new/']").first.click()
        self.page.wait_for_url("**/incidents/new/")
        return ReportIncidentPage(self.page)

    def open_incident(self, reference: str) -> IncidentPage:
        """Open the incident `reference` from its row."""
        self.row(reference).locator("a").first.click()
        self.page.wait_for_url("**/incidents/*-*-*-*-*/")
        return IncidentPage(self.page)


class ReportIncidentPage:
    """The form that reports an incident."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def describe(self, *, title: str, description: str, rsit: str, severity: int) -> None:
        """Say what happened: title, description, RSIT "class:type", severity 1-5."""
        self.page.locator("#id_title").fill(title)
        self.page.locator("#id_description").fill(description)
        self.page.locator("#id_rsit").select_option(rsit)
        self.page.locator(f"input[name=severity][value='{severity}']").check()

    def label(self, tlp: str) -> None:
        """Choose the TLP label by its value ("amber")."""
        self.page.locator(f"input[name=tlp][value='{tlp}']").check()

    def enter_observables(self, *values: str) -> None:
        """Write the observables, one a line."""
        self.page.locator("#id_observables").fill("\n".join(values))

    def propose_affected_states(self) -> None:
        """Press "Propose affected states" and wait for the form to come back."""
        self.page.locator("button[name=propose]").click()
        self.page.wait_for_load_state()
        self.page.locator(".proposals").wait_for()

    def proposals(self) -> str:
        """Return the text saying which values point to which states."""
        return str(self.page.locator(".proposals").inner_text())

    def is_state_checked(self, code: str) -> bool:
        """Return True when the affected state `code` is checked."""
        return bool(self.page.locator(f"input[name=affected_states][value='{code}']").is_checked())

    def report(self) -> IncidentPage:
        """Press "Report incident"; the new incident's page is where it lands."""
        self.page.locator("button[name=save]").click()
        self.page.wait_for_url("**/incidents/*-*-*-*-*/")
        return IncidentPage(self.page)


class IncidentPage:
    """One incident."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def reference(self) -> str:
        """Return the incident's reference ("INC-2026-000042")."""
        return str(self.page.locator("h1 .reference").inner_text())

    @property
    def tlp(self) -> str:
        """Return the TLP label of the heading."""
        return str(self.page.locator("h1 .tlp").inner_text())

    def participant(self, short_name: str) -> Any:
        """Return the row of a participant in the participants table."""
        return self.page.locator("table.participants tbody tr", has_text=short_name)

    def can_acknowledge(self) -> bool:
        """Return True when the page offers the acknowledgement button."""
        return bool(self.page.locator("#acknowledge button").count())

    def acknowledge(self) -> IncidentPage:
        """Press "Acknowledge" and wait for the page to come back."""
        self.page.locator("#acknowledge button").click()
        self.page.wait_for_load_state()
        self.page.locator("#acknowledge").wait_for(state="detached")
        return self
