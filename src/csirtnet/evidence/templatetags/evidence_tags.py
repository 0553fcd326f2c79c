"""Template tags of evidence: the context of the evidence panel on a parent's page."""

from __future__ import annotations

from typing import Any

from django import template

from csirtnet.evidence.panel import panel_context

register = template.Library()


@register.simple_tag(takes_context=True)
def evidence_panel(context: template.Context, parent: Any) -> dict[str, Any]:
    """
    Return the panel's context for `parent` (an incident or an assistance request) and
    the page's actor (`request.actor`): `{% evidence_panel parent as panel %}`.
    """
    request = context.get("request")
    actor = getattr(request, "actor", None)
    return panel_context(actor, parent)
