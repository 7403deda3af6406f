"""The owners' vote pages: staff (scoped, permissions), the owner's ballot, receipts, refusals.

Every refusal is shown in plain words and adds no row.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user
from gongzhi.notifications.models import Notification
from gongzhi.phones.services import SESSION_KEY
from gongzhi.territory.models import Node
from gongzhi.votes.models import Ballot, Vote, VoteStatus
from gongzhi.votes.services import ballot_cast
from gongzhi.votes.tests.factories import CLOSES, OPENS, Compound, make_compound, open_vote

pytestmark = pytest.mark.django_db
DURING = OPENS + dt.timedelta(days=1)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def clock():
    with time_machine.travel(DURING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock) -> Compound:
    # 王 owns two flats; 李, 赵 and 钱 one each; one unsold flat of the developer.
    return make_compound(
        ["90", "90", "60", "60", "70", "80"],
        ["王建国", "王建国", "李淑芬", "赵志强", "钱学森", None],
        unsold={5},
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def staff_client(world: Compound) -> Client:
    client = Client()
    client.force_login(world.staff)
    return client


def verified(client: Client, phone: str, at: dt.datetime = DURING) -> Client:
    """The phone as if verified with a code in this browser (phones' own tests cover the codes)."""
    session = client.session
    session[SESSION_KEY] = {"phone": phone, "until": (at + dt.timedelta(minutes=30)).isoformat()}
    session.save()
    return client


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("ballot.pdf", b"%PDF-1.4 signed paper ballot", content_type="application/pdf")


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 200, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("scan.png", buffer.getvalue(), content_type="image/png")


def paper_post(world: Compound, vote: Vote, owner: str, **extra) -> dict:
    data = {
        "owner": owner,
        "choice": "for",
        "method": "paper",
        "document": pdf(),
        "submit_key": f"key-{owner}-{extra.get('choice', 'for')}",
    }
    data.update(extra)
    return data


# --- Staff: scope and permissions -----------------------------------------------------------------


def test_out_of_scope_staff_get_404_everywhere_and_change_nothing(world: Compound) -> None:
    vote = open_vote(world)
    client = Client()
    client.force_login(world.outsider_staff)
    for url in (
        f"/votes/{vote.pk}/",
        f"/votes/{vote.pk}/tally/",
        f"/votes/{vote.pk}/ballots/new/",
        f"/votes/{vote.pk}/owners/?q=王",
        f"/votes/{vote.pk}/close/",
        f"/votes/{vote.pk}/qr.svg",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/votes/{vote.pk}/ballots/new/", paper_post(world, vote, str(world.owners["李淑芬"].pk))
    )
    assert response.status_code == 404
    assert client.post(f"/votes/{vote.pk}/close/", {"confirm": "yes"}).status_code == 404
    assert Ballot.objects.count() == 0
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.OPEN
    assert vote.question not in text(client.get("/votes/"))


def test_in_scope_staff_without_the_right_to_run_votes_see_but_cannot_enter(world: Compound) -> None:
    vote = open_vote(world)
    worker = make_user(
        "grid-a-worker",
        role=Role.GRID_WORKER,
        node=Node.objects.get(path=world.compound.path[: -Node.steplen]),
    )
    client = Client()
    client.force_login(worker)
    assert client.get(f"/votes/{vote.pk}/").status_code == 200
    assert client.get(f"/votes/{vote.pk}/ballots/new/").status_code == 403
    response = client.post(
        f"/votes/{vote.pk}/ballots/new/", paper_post(world, vote, str(world.owners["李淑芬"].pk))
    )
    assert response.status_code == 403
    assert Ballot.objects.count() == 0


def test_anonymous_users_are_sent_to_log_in(world: Compound) -> None:
    vote = open_vote(world)
    response = Client().get(f"/votes/{vote.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff: create, open, close -------------------------------------------------------------------


def test_staff_create_a_vote_and_see_the_threshold_it_implies(world: Compound) -> None:
    client = staff_client(world)
    page = text(client.get(f"/votes/new/?compound={world.compound.pk}", **EN))
    assert "(7) Rebuilding or renovating buildings" in page
    assert "at least three-quarters" in page
    response = client.post(
        "/votes/new/",
        {
            "compound": world.compound.pk,
            "question": "是否同意更换小区物业",
            "matter": "property_manager",
            "opens_at": "2026-03-03T09:00",
            "closes_at": "2026-03-10T18:00",
        },
    )
    assert response.status_code == 302
    vote = Vote.objects.get()
    assert (vote.threshold, vote.status) == ("more_than_half", VoteStatus.DRAFT)
    # Entered as Beijing time.
    assert vote.opens_at == dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)
    detail = text(client.get(response["Location"], **EN))
    assert "More than half of the participating area" in detail and "Homes in the compound" in detail


def test_creating_refuses_a_closing_before_opening_and_adds_nothing(world: Compound) -> None:
    response = staff_client(world).post(
        "/votes/new/",
        {
            "compound": world.compound.pk,
            "question": "是否同意更换小区物业",
            "matter": "property_manager",
            "opens_at": "2026-03-10T09:00",
            "closes_at": "2026-03-03T18:00",
        },
        **EN,
    )
    assert response.status_code == 422
    assert "Voting must close after it opens." in text(response)
    assert Vote.objects.count() == 0


def test_opening_freezes_the_electorate_and_shows_its_counts(world: Compound) -> None:
    open_vote(world)
    vote = Vote.objects.get()
    Vote.objects.filter(pk=vote.pk).delete()
    client = staff_client(world)
    client.post(
        "/votes/new/",
        {
            "compound": world.compound.pk,
            "question": "是否同意鼓楼花园集中供暖改造",
            "matter": "rebuild",
            "opens_at": "2026-03-02T08:00",
            "closes_at": "2026-03-16T08:00",
        },
    )
    vote = Vote.objects.get()
    response = client.post(f"/votes/{vote.pk}/open/", follow=True, **EN)
    page = text(response)
    assert "Voting is open. The electorate is frozen: 6 homes, 450.00 m², 5 owners." in page
    assert vote.parts.count() == 6


REASON = "The owners' assembly voted to stop and ask again with a clearer question."


def test_closing_early_needs_the_confirmation_and_a_reason(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    page = text(client.get(f"/votes/{vote.pk}/close/", **EN))
    assert "I confirm: close voting early" in page and "Why does voting close early?" in page
    response = client.post(f"/votes/{vote.pk}/close/", {"reason": REASON}, follow=True, **EN)
    assert "Tick the box to confirm" in text(response)
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.OPEN
    response = client.post(f"/votes/{vote.pk}/close/", {"confirm": "yes", "reason": " too short "}, **EN)
    assert response.status_code == 422
    assert "Say why voting closes before its time, in at least 10 characters" in text(response)
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.OPEN
    client.post(f"/votes/{vote.pk}/close/", {"confirm": "yes", "reason": REASON})
    vote = Vote.objects.get(pk=vote.pk)
    assert vote.status == VoteStatus.CLOSED and vote.closed_early
    assert (vote.closed_at, vote.closes_at, vote.close_reason) == (DURING, CLOSES, REASON)
    detail = text(client.get(f"/votes/{vote.pk}/", **EN))
    assert "closed early" in detail and "ask again with a clearer question" in detail


def test_the_result_page_shows_when_and_why_voting_closed_early(world: Compound) -> None:
    vote = open_vote(world)
    staff_client(world).post(f"/votes/{vote.pk}/close/", {"confirm": "yes", "reason": REASON})
    page = text(Client().get(f"/v/{vote.pk}/result/", **EN))
    assert 'id="closed-at">2026-03-03 08:00<' in page  # DURING in Shanghai time
    assert "Staff closed voting early, on 2026-03-03 08:00 instead of 2026-03-16 08:00." in page
    assert "ask again with a clearer question" in page
    record = Client().get(f"/api/v1/votes/{vote.pk}/record").json()["vote"]
    assert record["closed_at"] == "2026-03-03T00:00:00.000000Z" and record["closed_early"] is True
    assert record["closes"] == CLOSES.isoformat() and record["close_reason"] == REASON


# --- Staff: paper, proxy and the developer's ballots ----------------------------------------------


def test_staff_find_owners_by_name_or_home(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    page = text(client.get(f"/votes/{vote.pk}/owners/?q=王建国", **EN))
    assert "王建国" in page and "001" in page and "002" in page and "180.00 m²" in page
    page = text(client.get(f"/votes/{vote.pk}/owners/?q=003", **EN))
    assert "李淑芬" in page and "王建国" not in page
    page = text(client.get(f"/votes/{vote.pk}/owners/?q=developer", **EN))
    assert "The developer (unsold homes)" in page


@pytest.mark.parametrize("upload", [pdf, png], ids=["pdf", "photo"])
def test_a_paper_ballot_with_its_scan_is_counted(world: Compound, upload) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    response = client.post(
        f"/votes/{vote.pk}/ballots/new/",
        paper_post(world, vote, str(world.owners["王建国"].pk), document=upload()),
        follow=True,
        **EN,
    )
    assert "The ballot is counted. 2 homes" in text(response)
    ballots = list(Ballot.objects.filter(vote=vote))
    assert len(ballots) == 2 and {b.method for b in ballots} == {"paper"}
    assert ballots[0].entered_by == world.staff
    document = client.get(f"/votes/{vote.pk}/ballots/{ballots[0].pk}/document/")
    assert document.status_code == 200
    assert document["Content-Type"] == ("application/pdf" if upload is pdf else "image/jpeg")


def test_a_proxy_ballot_and_the_developers_ballot(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    client.post(
        f"/votes/{vote.pk}/ballots/new/",
        paper_post(world, vote, str(world.owners["李淑芬"].pk), method="proxy", proxy_name="李小明"),
    )
    client.post(f"/votes/{vote.pk}/ballots/new/", paper_post(world, vote, "developer", choice="against"))
    proxy = Ballot.objects.get(method="proxy")
    assert proxy.proxy_name == "李小明" and proxy.document
    developer = Ballot.objects.get(part__developer_unsold=True)
    assert developer.choice == "against"


def test_a_proxy_ballot_without_an_authorization_is_refused_and_changes_nothing(world: Compound) -> None:
    vote = open_vote(world)
    data = paper_post(world, vote, str(world.owners["李淑芬"].pk), method="proxy", proxy_name="李小明")
    del data["document"]
    response = staff_client(world).post(f"/votes/{vote.pk}/ballots/new/", data, **EN)
    assert response.status_code == 422
    assert "A proxy ballot needs the owner&#x27;s signed authorization." in text(response)
    assert Ballot.objects.count() == 0


def test_a_paper_ballot_whose_file_is_neither_pdf_nor_photo_is_refused(world: Compound) -> None:
    vote = open_vote(world)
    fake = SimpleUploadedFile("ballot.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    data = paper_post(world, vote, str(world.owners["李淑芬"].pk), document=fake)
    response = staff_client(world).post(f"/votes/{vote.pk}/ballots/new/", data, **EN)
    assert response.status_code == 422
    assert "neither a PDF nor a photo" in text(response)
    assert Ballot.objects.count() == 0


def test_a_double_submission_of_a_paper_ballot_adds_nothing(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    data = paper_post(world, vote, str(world.owners["李淑芬"].pk))
    client.post(f"/votes/{vote.pk}/ballots/new/", data)
    assert Ballot.objects.count() == 1
    again = paper_post(
        world, vote, str(world.owners["李淑芬"].pk), choice="against", submit_key=data["submit_key"]
    )
    response = client.post(f"/votes/{vote.pk}/ballots/new/", again, **EN)
    assert response.status_code == 422
    assert "This ballot was already recorded." in text(response)
    assert Ballot.objects.count() == 1


def test_a_ballot_for_someone_who_is_not_an_owner_is_refused(world: Compound) -> None:
    vote = open_vote(world)
    response = staff_client(world).post(
        f"/votes/{vote.pk}/ballots/new/", paper_post(world, vote, "999999"), **EN
    )
    assert response.status_code == 422
    assert "Only the owners of this compound&#x27;s homes may vote." in text(response)
    assert Ballot.objects.count() == 0


def test_a_paper_ballot_after_closing_is_refused(world: Compound, clock) -> None:
    vote = open_vote(world)
    clock.move_to(CLOSES + dt.timedelta(minutes=1))
    response = staff_client(world).post(
        f"/votes/{vote.pk}/ballots/new/", paper_post(world, vote, str(world.owners["李淑芬"].pk)), **EN
    )
    assert response.status_code == 422
    assert "Voting is not open" in text(response)
    assert Ballot.objects.count() == 0


# --- The live tally -------------------------------------------------------------------------------


def test_the_tally_crosses_its_thresholds(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    page = text(client.get(f"/votes/{vote.pk}/tally/", **EN))
    assert 'data-state="quorum_not_met"' in page and "Quorum not yet met" in page
    assert 'hx-trigger="every 3s"' in page
    assert "0.00 m² of 450.00 m²" in page and "Needed: at least two-thirds, that is 300.00 m²" in page
    for name in ("王建国", "李淑芬", "赵志强"):
        ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice="for", method="in_person")
    partial = text(client.get(f"/votes/{vote.pk}/tally/", HTTP_HX_REQUEST="true", **EN))
    # 300 m² of 450 (exactly 2/3) but 3 owners of 5 (< 2/3).
    assert "Quorum not yet met" in partial and "1 owner more needed" in partial
    assert "<html" not in partial
    ballot_cast(vote_id=vote.pk, person_id=world.owners["钱学森"].pk, choice="against", method="in_person")
    partial = text(client.get(f"/votes/{vote.pk}/tally/", HTTP_HX_REQUEST="true", **EN))
    # 370 m², 4 of 5 owners take part; for: 300/370 m² ≥ 3/4, 3/4 owners ≥ 3/4.
    assert 'data-state="passed"' in partial and "Passed" in partial
    assert "300.00 m² of 370.00 m²" in partial and "3 owners of 4 owners" in partial


# --- The owner's ballot ---------------------------------------------------------------------------


def test_an_owner_verifies_the_phone_votes_and_checks_the_receipt(world: Compound) -> None:
    vote = open_vote(world)
    client = Client()
    page = text(client.get(f"/v/{vote.pk}/", **EN))
    assert "First, confirm your phone" in page
    wang = world.owners["王建国"]
    assert client.post(f"/v/{vote.pk}/phone/send/", {"phone": wang.phone}).status_code == 302
    code = re.search(r"\b\d{6}\b", Notification.objects.latest("pk").subject).group()
    assert client.post(f"/v/{vote.pk}/phone/verify/", {"code": code}).status_code == 302
    page = text(client.get(f"/v/{vote.pk}/", **EN))
    assert "Your 2 homes in this vote" in page and "One choice counts for all your homes." in page
    confirm = client.post(f"/v/{vote.pk}/", {"step": "confirm", "choice": "for"}, **EN)
    assert "Please confirm your ballot" in text(confirm) and Ballot.objects.count() == 0
    key = re.search(r'name="submit_key" value="(\w+)"', confirm.content.decode()).group(1)
    cast = client.post(
        f"/v/{vote.pk}/", {"step": "cast", "choice": "for", "owner": wang.pk, "submit_key": key}
    )
    assert cast.status_code == 302 and cast["Location"] == f"/v/{vote.pk}/receipt/"
    first = Ballot.objects.filter(vote=vote).order_by("seq").first()
    receipt = text(client.get(f"/v/{vote.pk}/receipt/", **EN))
    assert first.hash in receipt
    assert " ".join([first.hash[0:4], first.hash[4:8], first.hash[8:12]]) in receipt
    assert "your later ballot replaces this one" in receipt
    found = text(client.post(f"/v/{vote.pk}/verify/", {"receipt": first.hash[:12].upper()}, **EN))
    assert 'data-finding="counted"' in found and "Choice: For" in found
    # A double submission of the same form adds nothing.
    again = client.post(
        f"/v/{vote.pk}/", {"step": "cast", "choice": "for", "owner": wang.pk, "submit_key": key}, **EN
    )
    assert again.status_code == 409 and "This ballot was already recorded." in text(again)
    assert Ballot.objects.count() == 2
    # A later ballot replaces the first: the old receipt says so.
    ballot_cast(vote_id=vote.pk, person_id=wang.pk, choice="against", method="in_person")
    found = text(client.post(f"/v/{vote.pk}/verify/", {"receipt": first.hash}, **EN))
    assert 'data-finding="replaced"' in found and "It said For" in found
    missing = text(client.post(f"/v/{vote.pk}/verify/", {"receipt": "0" * 64}, **EN))
    assert 'data-finding="not_found"' in missing
    bad = client.post(f"/v/{vote.pk}/verify/", {"receipt": "hello"}, **EN)
    assert bad.status_code == 422 and "A receipt is 12 or 64" in text(bad)


def test_a_phone_that_is_no_owners_is_told_so_and_cannot_vote(world: Compound) -> None:
    vote = open_vote(world)
    client = verified(Client(), "13700000000")
    page = text(client.get(f"/v/{vote.pk}/", **EN))
    assert "Only the owners of this compound's homes may vote." in page
    response = client.post(f"/v/{vote.pk}/", {"step": "confirm", "choice": "for"}, **EN)
    assert response.status_code == 403 and "Only the owners" in text(response)
    response = client.post(
        f"/v/{vote.pk}/",
        {"step": "cast", "choice": "for", "owner": world.owners["李淑芬"].pk, "submit_key": "x"},
        **EN,
    )
    assert response.status_code == 409 and "Only the owners of this compound&#x27;s homes may vote." in text(
        response
    )
    assert Ballot.objects.count() == 0


def test_an_owner_cannot_vote_after_closing(world: Compound, clock) -> None:
    vote = open_vote(world)
    li = world.owners["李淑芬"]
    clock.move_to(CLOSES + dt.timedelta(minutes=1))
    client = verified(Client(), li.phone, at=CLOSES)
    page = text(client.get(f"/v/{vote.pk}/", **EN))
    assert "Voting has ended." in page
    response = client.post(
        f"/v/{vote.pk}/", {"step": "cast", "choice": "for", "owner": li.pk, "submit_key": "k"}, **EN
    )
    assert response.status_code == 409 and "Voting is not open" in text(response)
    assert Ballot.objects.count() == 0


def test_a_draft_vote_has_no_public_page(world: Compound) -> None:
    vote = open_vote(world)
    Vote.objects.filter(pk=vote.pk).update(status=VoteStatus.DRAFT)
    assert Client().get(f"/v/{vote.pk}/").status_code == 404
    assert Client().get(f"/v/{vote.pk}/result/").status_code == 404


def test_the_published_result_links_the_record_and_explains_the_check(world: Compound) -> None:
    vote = open_vote(world)
    assert "Voting is still open" in text(Client().get(f"/v/{vote.pk}/result/", **EN))
    for name in ("王建国", "李淑芬", "赵志强", "钱学森"):
        ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice="for", method="in_person")
    staff_client(world).post(f"/votes/{vote.pk}/close/", {"confirm": "yes", "reason": REASON})
    assert Client().get(f"/v/{vote.pk}/").status_code == 302
    page = text(Client().get(f"/v/{vote.pk}/result/", **EN))
    assert 'data-state="passed"' in page
    assert f'href="/api/v1/votes/{vote.pk}/record"' in page
    assert "gongzhi vote-verify" in page
    assert Vote.objects.get(pk=vote.pk).result["chain_head"] in page
    assert Client().get(f"/api/v1/votes/{vote.pk}/record").status_code == 200


def test_a_scan_over_10_mb_is_refused(world: Compound) -> None:
    vote = open_vote(world)
    big = SimpleUploadedFile(
        "scan.pdf", b"%PDF-1.4" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )
    data = paper_post(world, vote, str(world.owners["李淑芬"].pk), document=big)
    response = staff_client(world).post(f"/votes/{vote.pk}/ballots/new/", data, **EN)
    assert response.status_code == 422 and "larger than 10 MB" in text(response)
    assert Ballot.objects.count() == 0


def test_the_owner_picker_matches_every_word_and_keeps_the_chosen_owner(world: Compound) -> None:
    vote = open_vote(world)
    client = staff_client(world)
    page = text(client.get(f"/votes/{vote.pk}/owners/?q=1号楼 004", **EN))
    assert "赵志强" in page and "李淑芬" not in page
    page = text(client.get(f"/votes/{vote.pk}/ballots/new/?owner=developer", **EN))
    assert 'value="developer" checked' in page and "006" in page
