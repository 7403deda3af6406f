"""/api/v1/tickets: scoped reads, staff entry with idempotency, actions, whistles, categories,
suggestions and duplicates; bearer and session (CSRF) authentication; errors as {code, message}."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.models import Channel, EventAction, Ticket, TicketEvent
from gongzhi.tickets.services.intake import TicketInput, ticket_submit

URL = "/api/v1/tickets"
PHONE = "13812345678"


def as_session(user: User, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


def as_token(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")


AUTHS = pytest.mark.parametrize("login", [as_session, as_token], ids=["session", "token"])


def submit(tree_node: Any, description: str = "3号楼楼道灯不亮", category: str = "stairwell-light") -> Ticket:
    return ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=tree_node.pk,
            category_code=category,
            description=description,
            channel=Channel.WEB,
            reporter_name="张秀英",
            reporter_phone=PHONE,
        ),
    )


def post(client: Client, url: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(url, body or {}, content_type="application/json", **extra)


@pytest.fixture
def worker_a(tree: SmallTree) -> User:
    return make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)


@pytest.fixture
def worker_b(tree: SmallTree) -> User:
    return make_user("li", role=Role.GRID_WORKER, node=tree.grid_b)


# --- Reading ---------------------------------------------------------------------------------------


@AUTHS
def test_the_list_holds_only_tickets_in_scope(login: Any, tree: SmallTree, worker_a: User) -> None:
    mine = submit(tree.household_a1)
    submit(tree.household_b1, "东苑3号楼下水道堵了", "drain-blocked")

    response = login(worker_a).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["number"] for item in body["items"]] == [mine.number]
    item = body["items"][0]
    assert item["state"] == "submitted"
    assert item["category"] == {"code": "stairwell-light", "name": "楼道照明"}
    assert item["address"] == "101"
    assert item["overdue"] is False
    assert PHONE not in response.content.decode()


def test_the_list_costs_the_same_queries_for_one_ticket_or_many(tree: SmallTree, worker_a: User) -> None:
    caller = as_token(worker_a)
    ticket = submit(tree.household_a1)
    post(caller, f"{URL}/{ticket.number}/actions/accept")
    with CaptureQueriesContext(connection) as one:
        assert caller.get(URL).json()["count"] == 1
    for _ in range(4):
        post(caller, f"{URL}/{submit(tree.household_a2).number}/actions/accept")

    with CaptureQueriesContext(connection) as five:
        assert caller.get(URL).json()["count"] == 5

    assert len(five) == len(one)


def test_the_list_filters_and_pages(tree: SmallTree) -> None:
    admin = as_token(User.objects.create_superuser("admin", "a@example.org", "x"))
    lamp = submit(tree.household_a1)
    drain = submit(tree.household_b1, "东苑3号楼下水道堵了", "drain-blocked")

    def numbers(**params: Any) -> list[str]:
        response = admin.get(URL, params)
        assert response.status_code == 200, response.content
        return [item["number"] for item in response.json()["items"]]

    assert numbers() == [drain.number, lamp.number]
    assert numbers(node=tree.grid_a.pk) == [lamp.number]
    assert numbers(category="drain-blocked") == [drain.number]
    assert numbers(state="open") == [drain.number, lamp.number]
    assert numbers(state="closed") == []
    assert numbers(q="下水道") == [drain.number]
    assert numbers(q=lamp.number) == [lamp.number]
    assert numbers(limit=1, page=2) == [lamp.number]
    assert admin.get(URL, {"state": "nonsense"}).status_code == 422


@AUTHS
def test_a_ticket_shows_public_events_and_a_masked_phone(login: Any, tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    TicketEvent.objects.create(
        ticket=ticket, at=ticket.submitted_at, action=EventAction.COMMENTED, note="内部备注", is_public=False
    )

    response = login(worker_a).get(f"{URL}/{ticket.number}")

    assert response.status_code == 200
    body = response.json()
    assert body["reporter_phone"] == "138****5678"
    assert body["reporter_name"] == "张秀英"
    assert PHONE not in response.content.decode()
    assert [event["action"] for event in body["events"]] == ["submitted"]
    assert "内部备注" not in response.content.decode()
    assert body["actions"] == ["accept", "reject", "merge"]
    assert body["grid_id"] == tree.grid_a.pk


def test_an_anonymous_reporter_stays_anonymous(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    Ticket.objects.filter(pk=ticket.pk).update(is_anonymous=True)

    body = as_token(worker_a).get(f"{URL}/{ticket.number}").json()

    assert body["reporter_name"] == ""
    assert body["is_anonymous"] is True


@AUTHS
def test_a_ticket_outside_scope_does_not_exist(login: Any, tree: SmallTree, worker_b: User) -> None:
    ticket = submit(tree.household_a1)
    caller = login(worker_b)

    for response in (
        caller.get(f"{URL}/{ticket.number}"),
        caller.get(f"{URL}/00000000"),
        post(caller, f"{URL}/{ticket.number}/actions/accept", HTTP_X_CSRFTOKEN="x"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    assert Ticket.objects.get(pk=ticket.pk).state == "submitted"


def test_a_department_sees_the_tickets_that_summon_it(tree: SmallTree, worker_a: User) -> None:
    department = Organization.objects.create(code="cgj", name="城管局", kind=OrganizationKind.DEPARTMENT)
    handler = as_token(make_user(role=Role.DEPARTMENT_HANDLER, organization=department))
    ticket = submit(tree.household_a1, "门口有人占道经营", "street-vending")
    assert handler.get(URL).json()["count"] == 0
    community = as_token(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))
    assert post(community, f"{URL}/{ticket.number}/actions/accept").status_code == 200

    response = post(
        community, f"{URL}/{ticket.number}/whistle", {"department_ids": [department.pk], "note": "请城管到场"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "in_progress"
    assert body["whistles"][0]["summonses"][0]["department"] == "城管局"
    assert handler.get(URL).json()["count"] == 1
    assert handler.get(f"{URL}/{ticket.number}").status_code == 200


# --- Authentication --------------------------------------------------------------------------------


def test_without_credentials_every_operation_answers_401(tree: SmallTree) -> None:
    ticket = submit(tree.household_a1)
    anonymous = Client()

    for response in (
        anonymous.get(URL),
        anonymous.get(f"{URL}/{ticket.number}"),
        anonymous.get(f"{URL}/categories"),
        anonymous.get(f"{URL}/similar", {"text": "灯"}),
        post(anonymous, URL, {"channel": "phone"}),
        post(anonymous, f"{URL}/{ticket.number}/actions/accept"),
        Client(HTTP_AUTHORIZATION="Bearer gz_forged").get(URL),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_a_session_needs_the_csrf_token_to_act(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    caller = as_session(worker_a, enforce_csrf=True)
    url = f"{URL}/{ticket.number}/actions/accept"

    refused = post(caller, url)

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert Ticket.objects.get(pk=ticket.pk).state == "submitted"
    caller.cookies["csrftoken"] = "a" * 32
    accepted = post(caller, url, HTTP_X_CSRFTOKEN="a" * 32)
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "accepted"


# --- Entering a ticket ------------------------------------------------------------------------------


def entry(tree: SmallTree, **changes: Any) -> dict[str, Any]:
    return {
        "channel": "doorstep",
        "node_id": tree.household_a1.pk,
        "category": "burst-pipe",
        "description": "厨房水管爆了，水流到楼下",
        "answers": {"floor": 3, "location": "kitchen"},
        "reporter_name": "张秀英",
        "reporter_phone": PHONE,
        **changes,
    }


def test_staff_enter_a_ticket_taken_on_the_doorstep(tree: SmallTree, worker_a: User) -> None:
    response = post(as_token(worker_a), URL, entry(tree))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "doorstep"
    assert body["answers"] == {"floor": "3", "location": "kitchen"}
    assert body["reporter_phone"] == "138****5678"
    ticket = Ticket.objects.get(number=body["number"])
    assert ticket.entered_by == worker_a
    assert ticket.reporter_phone == PHONE
    assert ticket.grid == tree.grid_a


@pytest.mark.parametrize("how", ["field", "header"])
def test_a_retried_entry_with_the_same_key_makes_one_ticket(
    tree: SmallTree, worker_a: User, how: str
) -> None:
    caller = as_token(worker_a)
    if how == "field":
        send = lambda: post(caller, URL, entry(tree, submit_key="tablet-7:0042"))  # noqa: E731
    else:
        send = lambda: post(caller, URL, entry(tree), HTTP_IDEMPOTENCY_KEY="tablet-7:0042")  # noqa: E731

    first, second = send(), send()

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["number"] == second.json()["number"]
    assert Ticket.objects.count() == 1


def test_another_users_key_never_returns_their_ticket(tree: SmallTree, worker_a: User) -> None:
    chief = make_user(role=Role.GRID_CHIEF, node=tree.grid_a)
    first = post(as_token(worker_a), URL, entry(tree, submit_key="k1"))
    second = post(as_token(chief), URL, entry(tree, submit_key="k1"))

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]


def test_entering_outside_scope_or_without_the_right_is_refused(tree: SmallTree, worker_b: User) -> None:
    leader = make_user(role=Role.BUILDING_LEADER, node=tree.grid_a)

    outside = post(as_token(worker_b), URL, entry(tree))
    no_right = post(as_token(leader), URL, entry(tree))

    assert outside.status_code == 404
    assert no_right.status_code == 403
    assert no_right.json()["code"] == "permission_denied"
    assert Ticket.objects.count() == 0


def test_an_invalid_entry_names_its_fields(tree: SmallTree, worker_a: User) -> None:
    caller = as_token(worker_a)

    unknown = post(caller, URL, entry(tree, category="no-such", description="漏"))
    unanswered = post(caller, URL, entry(tree, answers={}))
    web = post(caller, URL, entry(tree, channel="web"))

    assert unknown.status_code == 422
    assert set(unknown.json()["fields"]) == {"category", "description"}
    assert unanswered.status_code == 422
    assert unanswered.json()["code"] == "invalid_answers"
    assert "floor" in unanswered.json()["fields"]
    assert web.status_code == 422
    assert web.json()["code"] == "validation_failed"
    assert Ticket.objects.count() == 0


# --- Acting -----------------------------------------------------------------------------------------


def test_the_whole_handling_through_the_api(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    caller = as_token(worker_a)

    def act(action: str, **body: Any) -> Any:
        return post(caller, f"{URL}/{ticket.number}/actions/{action}", body)

    accepted = act("accept", note="马上去看")
    assert accepted.status_code == 200
    assert accepted.json()["assignee"] == "wang"
    assert accepted.json()["actions"] == ["start", "resolve", "merge"]
    assert act("start").json()["state"] == "in_progress"
    commented = act("comment", note="已联系物业", is_public=True)
    assert commented.json()["events"][-1]["note"] == "已联系物业"
    missing_note = act("resolve")
    assert missing_note.status_code == 422
    assert "note" in missing_note.json()["fields"]
    resolved = act("resolve", note="已更换灯泡")
    assert resolved.status_code == 200
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["resolution_note"] == "已更换灯泡"
    reopened = act("reopen", note="居民说还是不亮")
    assert reopened.json()["state"] == "reopened"
    assert reopened.json()["level"] == 2  # one level up: the community now owns it
    assert reopened.json()["actions"] == []  # and the grid worker no longer acts on it


def test_an_illegal_transition_answers_409(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    caller = as_token(worker_a)

    response = post(caller, f"{URL}/{ticket.number}/actions/start")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["message"]
    assert post(caller, f"{URL}/{ticket.number}/actions/accept").status_code == 200
    again = post(caller, f"{URL}/{ticket.number}/actions/accept")
    assert again.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).events.filter(action=EventAction.ACCEPTED).count() == 1


def test_reject_needs_a_reason_and_unknown_actions_are_invalid(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1)
    caller = as_token(worker_a)

    assert post(caller, f"{URL}/{ticket.number}/actions/reject").status_code == 422
    assert post(caller, f"{URL}/{ticket.number}/actions/fly").status_code == 422
    rejected = post(caller, f"{URL}/{ticket.number}/actions/reject", {"note": "属于业主私人维修"})
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["rejection_reason"] == "属于业主私人维修"


def test_a_duplicate_is_merged_into_its_survivor(tree: SmallTree, worker_a: User) -> None:
    survivor = submit(tree.household_a1)
    duplicate = submit(tree.household_a2, "三号楼楼道的灯坏了")
    caller = as_token(worker_a)

    similar = caller.get(f"{URL}/similar", {"ticket": duplicate.number}).json()
    assert [item["ticket"]["number"] for item in similar] == [survivor.number]
    assert post(caller, f"{URL}/{duplicate.number}/actions/merge").status_code == 422

    merged = post(
        caller, f"{URL}/{duplicate.number}/actions/merge", {"into": survivor.number, "note": "同一盏灯"}
    )

    assert merged.status_code == 200
    assert merged.json()["state"] == "merged"
    assert merged.json()["merged_into"] == survivor.number


def test_a_grid_worker_cannot_act_on_a_community_ticket(tree: SmallTree, worker_a: User) -> None:
    ticket = submit(tree.household_a1, "1号楼电梯停运困人", "lift-fault")  # handled by the community

    response = post(as_token(worker_a), f"{URL}/{ticket.number}/actions/accept")

    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).state == "submitted"


def test_a_whistle_needs_an_accepted_ticket_and_departments(tree: SmallTree, worker_a: User) -> None:
    department = Organization.objects.create(code="sw", name="水务局", kind=OrganizationKind.DEPARTMENT)
    ticket = submit(tree.household_a1)
    caller = as_token(worker_a)
    url = f"{URL}/{ticket.number}/whistle"

    too_early = post(caller, url, {"department_ids": [department.pk], "note": "请水务到场"})
    assert too_early.status_code == 422
    post(caller, f"{URL}/{ticket.number}/actions/accept")
    assert post(caller, url, {"department_ids": [], "note": "x"}).status_code == 422
    assert post(caller, url, {"department_ids": [999999], "note": "x"}).status_code == 422
    assert post(caller, url, {"department_ids": [department.pk], "note": "请水务到场"}).status_code == 200


# --- Categories, suggestions, duplicates -------------------------------------------------------------


def test_categories_come_with_their_questions(tree: SmallTree, worker_a: User) -> None:
    response = as_token(worker_a).get(f"{URL}/categories")

    assert response.status_code == 200
    by_code = {category["code"]: category for category in response.json()}
    pipe = by_code["burst-pipe"]
    assert pipe["is_urgent"] is True
    assert pipe["response_minutes"] == 15
    assert [q["code"] for q in pipe["questions"]] == ["floor", "location"]
    assert pipe["questions"][1]["choices"][0] == {"key": "kitchen", "name": "厨房"}


def test_categories_are_suggested_for_a_description(tree: SmallTree, worker_a: User) -> None:
    caller = as_token(worker_a)

    heating = caller.get(f"{URL}/categories/suggest", {"text": "暖气不热"})
    leak = caller.get(f"{URL}/categories/suggest", {"text": "楼上漏水"})

    assert heating.json()[0]["code"] == "heating-cold"
    assert leak.json()[0]["code"] == "burst-pipe"
    assert caller.get(f"{URL}/categories/suggest").status_code == 422


def test_similar_tickets_while_writing_are_scoped(tree: SmallTree, worker_a: User, worker_b: User) -> None:
    lamp = submit(tree.household_a2, "3号楼2单元楼道灯不亮")
    params = {"text": "三号楼二单元楼道的灯坏了", "node": tree.household_a1.pk, "category": "stairwell-light"}

    found = as_token(worker_a).get(f"{URL}/similar", params)
    outside = as_token(worker_b).get(f"{URL}/similar", params)

    assert found.status_code == 200
    assert [item["ticket"]["number"] for item in found.json()] == [lamp.number]
    assert 0 < found.json()[0]["score"] <= 1
    assert outside.status_code == 404  # the node is outside grid B's scope
    assert as_token(worker_a).get(f"{URL}/similar", {"text": "灯不亮"}).json() == []
