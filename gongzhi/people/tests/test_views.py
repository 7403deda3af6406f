from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_id_number, make_user, superactor
from gongzhi.people.services import PersonData, person_create

pytestmark = pytest.mark.django_db


def _login(client: Client, role: Role, node: object) -> Client:
    client.force_login(make_user(role=role, node=node))  # type: ignore[arg-type]
    return client


def _reveals() -> int:
    return AuditEntry.objects.filter(action=AuditAction.REVEAL).count()


def test_grid_worker_search_never_shows_other_grids_people(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    html = client.get(reverse("people:search")).content.decode()
    assert "张秀英" in html
    assert "李建国" not in html
    other = reverse("people:detail", args=[tree.resident_b.pk])
    for query in ("李建国", "ljg", "5678", "201", "139****5678"):
        response = client.get(reverse("people:search"), {"q": query})
        assert other not in response.content.decode()
        assert response.context["page"].paginator.count == 0


def test_secretary_search_finds_people_of_both_grids(client: Client, tree: SmallTree) -> None:
    _login(client, Role.COMMUNITY_SECRETARY, tree.community)
    html = client.get(reverse("people:search")).content.decode()
    assert "张秀英" in html and "李建国" in html


@pytest.mark.parametrize("query", ["张秀", "zxy", "101", "1234", "138****1234"])
def test_search_by_name_initials_door_last4_and_masked_phone(
    client: Client, tree: SmallTree, query: str
) -> None:
    _login(client, Role.COMMUNITY_SECRETARY, tree.community)
    html = client.get(reverse("people:search"), {"q": query}).content.decode()
    assert reverse("people:detail", args=[tree.resident_a.pk]) in html
    assert reverse("people:detail", args=[tree.resident_b.pk]) not in html


def test_search_rows_show_masked_phone_address_and_tags(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    html = client.get(reverse("people:search"), {"q": "张"}).content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert "春都华府 1号楼 101" in html
    assert tree.resident_a.tags.get().name in html


def test_htmx_search_returns_the_results_partial(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.get(reverse("people:search"), {"q": "zxy"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.templates[0].name == "people/_results.html"
    assert "<html" not in html
    assert "张秀英" in html


def test_search_within_out_of_scope_node_is_404(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    assert client.get(reverse("people:search"), {"node": tree.grid_b.pk}).status_code == 404


def test_search_page_query_count_does_not_grow_with_results(
    client: Client, tree: SmallTree, django_assert_num_queries: Callable[..., Any]
) -> None:
    _login(client, Role.COMMUNITY_SECRETARY, tree.community)
    url = reverse("people:search")
    # session, user, role assignments, unread inbox badge, count, people, tags (prefetch), address nodes
    with django_assert_num_queries(8):
        client.get(url)
    root = superactor()
    for serial in range(10, 20):
        person_create(
            actor=root,
            home_id=tree.household_a2.pk,
            relation="family",
            data=PersonData(name=f"王{serial}", phone=f"139000000{serial}", id_number=make_id_number(serial)),
        )
    with django_assert_num_queries(8):
        html = client.get(url).content.decode()
    assert html.count("people/") >= 12


def test_person_page_masks_phone_and_id_number(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.get(reverse("people:detail", args=[tree.resident_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "138****1234" in html
    assert "13812341234" not in html
    assert make_id_number(1) not in html
    assert "春都华府 1号楼 101" in html
    assert reverse("people:reveal", args=[tree.resident_a.pk]) in html


def test_grid_worker_gets_404_for_other_grids_person(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    assert client.get(reverse("people:detail", args=[tree.resident_b.pk])).status_code == 404


def test_secretary_sees_person_of_either_grid(client: Client, tree: SmallTree) -> None:
    _login(client, Role.COMMUNITY_SECRETARY, tree.community)
    assert client.get(reverse("people:detail", args=[tree.resident_a.pk])).status_code == 200
    assert client.get(reverse("people:detail", args=[tree.resident_b.pk])).status_code == 200


def test_building_leader_sees_no_reveal_control(client: Client, tree: SmallTree) -> None:
    _login(client, Role.BUILDING_LEADER, tree.building_a)
    html = client.get(reverse("people:detail", args=[tree.resident_a.pk])).content.decode()
    assert "138****1234" in html
    assert reverse("people:reveal", args=[tree.resident_a.pk]) not in html


def test_reveal_returns_number_and_writes_one_audit_entry(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.post(
        reverse("people:reveal", args=[tree.resident_a.pk]),
        {"field": "phone", "reason": "上门走访联系"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "13812341234" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.field, entry.reason, entry.target_id) == ("phone", "上门走访联系", str(tree.resident_a.pk))
    assert entry.target_repr == "张秀英"


def test_reveal_of_id_number_without_htmx_shows_a_page(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.post(
        reverse("people:reveal", args=[tree.resident_a.pk]), {"field": "id_number", "reason": "办理低保"}
    )
    assert response.status_code == 200
    assert make_id_number(1) in response.content.decode()
    assert _reveals() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_reveal_without_reason_shows_error_and_writes_nothing(
    client: Client, tree: SmallTree, reason: str
) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.post(
        reverse("people:reveal", args=[tree.resident_a.pk]),
        {"field": "phone", "reason": reason},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert "13812341234" not in html
    assert _reveals() == 0


def test_reveal_by_role_without_permission_is_refused(client: Client, tree: SmallTree) -> None:
    _login(client, Role.BUILDING_LEADER, tree.building_a)
    response = client.post(
        reverse("people:reveal", args=[tree.resident_a.pk]), {"field": "phone", "reason": "想知道"}
    )
    assert response.status_code == 403
    assert "13812341234" not in response.content.decode()
    assert _reveals() == 0


def test_reveal_out_of_scope_is_404(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.post(
        reverse("people:reveal", args=[tree.resident_b.pk]), {"field": "phone", "reason": "走访"}
    )
    assert response.status_code == 404
    assert _reveals() == 0


def test_reveal_requires_post(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    assert client.get(reverse("people:reveal", args=[tree.resident_a.pk])).status_code == 405


def test_a_person_registered_at_a_grid_has_a_page_and_a_search_row(client: Client, tree: SmallTree) -> None:
    """Regression: a home above the compound level has no address parts; the page crashed (500)."""
    drifter = person_create(actor=superactor(), home_id=tree.grid_a.pk, data=PersonData(name="王流动"))
    _login(client, Role.GRID_WORKER, tree.grid_a)
    page = client.get(reverse("people:detail", args=[drifter.pk]))
    assert page.status_code == 200
    assert "第一网格" in page.content.decode()
    search = client.get(reverse("people:search"), {"q": "王流动"})
    assert [person.pk for person in search.context["page"].object_list] == [drifter.pk]
    assert "第一网格" in search.content.decode()
