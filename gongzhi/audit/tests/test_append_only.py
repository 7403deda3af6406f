import pytest
from django.db import DatabaseError, transaction

from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.audit.services import audit_record


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_audit_rows():
    entry = audit_record(actor=None, action=AuditAction.LOGIN_FAILED, target_repr="someone")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == ""
