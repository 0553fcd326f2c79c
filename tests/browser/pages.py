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
        """Fill the form and submit it; the inbox is where it lands."""
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/reports/inbox/")
        return InboxPage(self.page)


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
