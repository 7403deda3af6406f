from __future__ import annotations

from typing import Any

from django.db import models

from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import clock


def audit_record(
    *,
    actor: Any,
    action: AuditAction,
    target: models.Model | None = None,
    node_path: str = "",
    field: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
    ip_address: str | None = None,
    target_type: str = "",
    target_repr: str = "",
) -> AuditEntry:
    """Append one audit row. Call inside the transaction of the write it records."""
    user = getattr(actor, "user", actor)
    user = user if getattr(user, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=user,
        actor_username=getattr(user, "username", "") if user else "",
        action=action,
        target_type=target_type or (target._meta.label_lower if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_repr=(target_repr or (str(target) if target is not None else ""))[:200],
        node_path=node_path,
        field=field,
        reason=reason,
        changes=changes or {},
        ip_address=ip_address,
    )
