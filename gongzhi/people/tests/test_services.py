from decimal import Decimal

import pytest
from django.db import connection

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.testing import make_id_number, make_user, superactor
from gongzhi.people.models import Person
from gongzhi.people.services import PersonData, person_create, person_reveal
from gongzhi.territory.models import NodeStats


def test_the_raw_column_holds_no_id_number(tree):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_encrypted, id_number_hash FROM people_person WHERE id = %s",
            [tree.resident_a.pk],
        )
        encrypted, lookup = cursor.fetchone()
    plain = make_id_number(1)
    assert plain not in encrypted and plain not in lookup
    assert tree.resident_a.masked_id_number == plain[:3] + "*" * 14 + plain[-1]


def test_exact_lookup_by_id_number_hash(tree):
    from gongzhi.core.personal import lookup_hash

    assert Person.objects.get(id_number_hash=lookup_hash(make_id_number(1))) == tree.resident_a


def test_a_second_person_with_the_same_id_number_is_refused(tree):
    with pytest.raises(ValidationFailed) as caught:
        person_create(
            actor=superactor(),
            home_id=tree.household_a2.pk,
            data=PersonData(name="冒名", id_number=make_id_number(1)),
        )
    assert caught.value.code == "duplicate_id_number"
    assert Person.objects.count() == 2


def test_owner_shares_of_a_household_cannot_exceed_one(tree):
    with pytest.raises(ValidationFailed) as caught:
        person_create(
            actor=superactor(),
            home_id=tree.household_a1.pk,
            relation="owner",
            ownership_share=Decimal("0.5"),
            data=PersonData(name="王芳"),
        )
    assert caught.value.code == "share_over_one"
    assert NodeStats.objects.get(node=tree.household_a1).residents == 1


def test_grid_worker_reveals_a_phone_in_her_grid_and_it_is_audited(tree):
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    value = person_reveal(
        actor=resolve_actor(worker), person_id=tree.resident_a.pk, field="phone", reason="上门走访联系"
    )
    assert value == "13812341234"
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor_id, entry.target_id, entry.field, entry.reason) == (
        worker.pk,
        str(tree.resident_a.pk),
        "phone",
        "上门走访联系",
    )


def test_reveal_outside_scope_is_not_found_and_not_audited(tree):
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    with pytest.raises(NotFound):
        person_reveal(actor=resolve_actor(worker), person_id=tree.resident_b.pk, field="phone", reason="看看")
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_needs_the_permission_and_a_reason(tree):
    leader = make_user(role=Role.BUILDING_LEADER, node=tree.building_a)
    with pytest.raises(PermissionDenied):
        person_reveal(
            actor=resolve_actor(leader), person_id=tree.resident_a.pk, field="phone", reason="需要联系"
        )
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    with pytest.raises(ValidationFailed):
        person_reveal(
            actor=resolve_actor(worker), person_id=tree.resident_a.pk, field="id_number", reason=" "
        )
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
