"""Template helpers for the staff web: permission checks on the request's actor, role labels."""

from __future__ import annotations

from django import template

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm

register = template.Library()


@register.simple_tag(takes_context=True)
def actor_can(context: template.Context, perm: str, path: str | None = None) -> bool:
    """True when the request's actor holds `perm` anywhere (or on `path` when given)."""
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return False
    if path is None:
        return bool(actor.has_perm_anywhere(Perm(perm)))
    return bool(actor.can(Perm(perm), path))


@register.simple_tag(takes_context=True)
def actor_role_labels(context: template.Context) -> str:
    """The actor's roles as a comma-separated, translated list (superuser shown as such)."""
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return ""
    labels = [str(Role(role).label) for role in sorted(actor.roles)]
    return "、".join(labels) if labels else ""
