import pytest
from django.db import connections, transaction
from django.db.models import Max

from gongzhi.core import clock, personal
from gongzhi.core.bulk import insert_values, reserve_ids
from gongzhi.core.testing import build_small_tree
from gongzhi.people.models import PartyMember, Person, Tag

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_new_and_never_handed_out_again():
    tree = build_small_tree()
    largest = Person.objects.aggregate(largest=Max("pk"))["largest"]
    with transaction.atomic():
        ids = reserve_ids(Person, 3)
        assert len(set(ids)) == 3 and min(ids) > largest
        insert_values(
            Person,
            [
                {"id": pk, "name": f"居民{pk}", "home_id": tree.household_a1.pk, "id_number_hash": ""}
                for pk in ids
            ],
            now=clock.now(),
            with_pk=True,
        )
        later = Person.objects.create(name="后来者", home=tree.household_a1)
    assert later.pk > max(ids)
    assert set(Person.objects.filter(pk__in=ids).values_list("name", flat=True)) == {
        f"居民{pk}" for pk in ids
    }
    # The largest reserved key is not handed out again, even if its row is gone.
    Person.objects.filter(pk__in=[*ids, later.pk]).delete()
    with transaction.atomic():
        again = reserve_ids(Person, 2)
    assert min(again) > later.pk


def test_reserving_works_on_a_table_that_never_had_a_row():
    assert not PartyMember.objects.exists()
    with transaction.atomic():
        ids = reserve_ids(PartyMember, 4)
        assert len(set(ids)) == 4
        assert reserve_ids(PartyMember, 1)[0] > max(ids)


def test_reserving_needs_a_transaction_and_nothing_is_free(monkeypatch):
    with transaction.atomic():
        assert reserve_ids(Tag, 0) == []
    # Outside a transaction (the test itself runs in one: pretend it does not).
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError):
        reserve_ids(Tag, 1)


def test_insert_values_with_given_keys_fills_defaults_and_encrypts_nothing_itself():
    tree = build_small_tree()
    now = clock.now()
    token = personal.encrypt("11010519491231002X")
    with transaction.atomic():
        (pk,) = reserve_ids(Person, 1)
        insert_values(
            Person,
            [{"id": pk, "name": "王芳", "home_id": tree.household_b1.pk, "id_number_encrypted": token}],
            now=now,
            with_pk=True,
        )
    person = Person.objects.get(pk=pk)
    assert (person.created_at, person.updated_at, person.gender, person.phone) == (now, now, "", "")
    assert person.masked_id_number == "110**************X"
