"""Users and memberships: a user's role in one organization is the acting identity."""
