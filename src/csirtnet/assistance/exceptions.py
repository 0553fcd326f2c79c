"""Errors of the assistance app."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class IllegalTransitionError(ValidationError):
    """A status change the assistance workflow does not allow (see `models.TRANSITIONS`)."""
