"""Admin base class whose every write is also an audit log entry (`core.audit`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from csirtnet.core import audit


class AuditedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """
    A `ModelAdmin` that records each addition, change and deletion made in the admin in
    the audit log (`admin.added`, `admin.changed`, `admin.deleted`, with the admin's own
    change message), besides Django's admin history. Deletions are recorded before the
    rows go, in the same transaction.
    """

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        """Record the addition, then let Django log it."""
        audit.record(actor=request.user, action="admin.added", target=obj,
                     detail={"message": _text(message)})  # fmt: skip
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        """Record the change (the fields the admin names), then let Django log it."""
        audit.record(actor=request.user, action="admin.changed", target=obj,
                     detail={"message": _text(message)})  # fmt: skip
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """Record each deletion, then let Django log them."""
        for obj in queryset:
            audit.record(actor=request.user, action="admin.deleted", target=obj,
                         detail={"repr": str(obj)[:200]})  # fmt: skip
        return super().log_deletions(request, queryset)


def _text(message: Any) -> Any:
    """Return the admin's change message as JSON data (a string or a list of changes)."""
    return message if isinstance(message, str | list) else str(message)
