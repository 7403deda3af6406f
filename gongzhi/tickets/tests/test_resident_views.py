"""The resident's pages: doorplate, a new ticket with a verified phone, following, rating, my tickets."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from PIL import ExifTags, Image

from gongzhi.config import urls as root_urls
from gongzhi.core.personal import mask_phone
from gongzhi.doorplates.services import doorplate_for, doorplate_issue
from gongzhi.notifications.models import Notification
from gongzhi.tickets.models import (
    CategoryQuestion,
    QuestionType,
    Rating,
    Ticket,
    TicketKind,
    TicketPhoto,
)
from gongzhi.tickets.services.handling import ticket_accept, ticket_merge, ticket_resolve
from gongzhi.tickets.tests.factories import World, make_category, make_world, submit
from gongzhi.tickets.workflow import Level, TicketState

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def world() -> World:
    world = make_world()
    world.worker_a.first_name, world.worker_a.last_name = "Xiuying", "Wang"
    world.worker_a.save()
    make_category("service-question", name="社保咨询", kind=TicketKind.AFFAIRS, keywords="社保 养老金")
    return world


@pytest.fixture
def plate_token(world: World) -> str:
    return doorplate_for(world.tree.building_a).token


@pytest.fixture
def client() -> Client:
    return Client(**EN)


def last_code(phone: str = PHONE) -> str:
    message = Notification.objects.filter(
        phone__in=[phone, mask_phone(phone)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def verify_phone(client: Client, token: str, phone: str = PHONE, purpose: str = "ticket") -> None:
    sent = client.post(
        f"/d/{token}/phone/send/", {"phone": phone, "purpose": purpose}, HTTP_HX_REQUEST="true"
    )
    assert sent.status_code == 200, sent.content
    checked = client.post(
        f"/d/{token}/phone/verify/",
        {"phone": phone, "code": last_code(phone), "purpose": purpose},
        HTTP_HX_REQUEST="true",
    )
    assert checked.status_code in (200, 204), checked.content


def gps_jpeg() -> bytes:
    image = Image.new("RGB", (2000, 1500), (90, 120, 200))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 33.0, 12.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "description": "楼道的灯坏了，晚上看不见",
        "category": "leak",
        "name": "张秀英",
        "submit_key": "key-0123456789abcdef",
    }
    data.update(overrides)
    return data


# --- The doorplate ---------------------------------------------------------------------------------


def test_the_doorplate_shows_the_address_in_words_and_four_entries(
    client: Client, world: World, plate_token: str
) -> None:
    response = client.get(f"/d/{plate_token}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "春都华府 1号楼" in page
    assert "奎星楼社区" in page
    for target in ("new/help/", "new/affairs/", "mine/", "new/voice/"):
        assert f"/d/{plate_token}/{target}" in page
    assert 'id="large-text-toggle"' in page


@pytest.mark.parametrize("token", ["forged.abcdef", "nonsense", "x" * 60])
def test_a_forged_code_gets_a_friendly_not_found_page(client: Client, world: World, token: str) -> None:
    response = client.get(f"/d/{token}/")

    assert response.status_code == 404
    assert "scan the code on your doorplate again" in response.content.decode()


def test_a_reissued_plate_s_old_code_is_not_found_everywhere(
    client: Client, world: World, plate_token: str
) -> None:
    from gongzhi.core.testing import superactor

    doorplate_issue(actor=superactor(), node_id=world.tree.building_a.pk, reissue=True)

    for step in ("", "new/help/", "mine/"):
        assert client.get(f"/d/{plate_token}/{step}").status_code == 404
    assert client.post(f"/d/{plate_token}/phone/send/", {"phone": PHONE}).status_code == 404
    assert not Notification.objects.exists()


# --- A new ticket --------------------------------------------------------------------------------


def test_the_form_offers_only_the_categories_of_the_kind(
    client: Client, world: World, plate_token: str
) -> None:
    help_page = client.get(f"/d/{plate_token}/new/help/").content.decode()
    affairs_page = client.get(f"/d/{plate_token}/new/affairs/").content.decode()

    assert 'value="leak"' in help_page and 'value="service-question"' not in help_page
    assert 'value="service-question"' in affairs_page and 'value="leak"' not in affairs_page
    assert client.get(f"/d/{plate_token}/new/lookup/").status_code == 404
    assert client.get(f"/d/{plate_token}/new/other/").status_code == 404


def test_a_resident_submits_a_ticket_with_a_photo_and_a_verified_phone(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)
    photo = SimpleUploadedFile("IMG_0001.JPG", gps_jpeg(), content_type="image/jpeg")

    response = client.post(
        f"/d/{plate_token}/new/help/",
        # A node id sent by the client is ignored: the address is the plate's.
        form_data(photos=[photo], node_id=world.tree.household_b1.pk, node=world.tree.household_b1.pk),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/t/{ticket.follow_token}/?new=1"
    assert ticket.node == world.tree.building_a
    assert ticket.kind == TicketKind.HELP and ticket.channel == "doorplate"
    assert ticket.reporter_phone == PHONE and ticket.reporter_name == "张秀英"
    assert ticket.submit_key == "key-0123456789abcdef"
    stored = TicketPhoto.objects.get(ticket=ticket)
    assert max(stored.width, stored.height) == 1600
    with stored.image.open("rb") as handle:
        assert not Image.open(handle).getexif()

    follow = client.get(response["Location"])
    page = follow.content.decode()
    assert ticket.number in page
    assert "save this page" in page.lower()
    assert f"/t/{ticket.follow_token}/" in page


def test_a_double_click_makes_one_ticket(client: Client, world: World, plate_token: str) -> None:
    verify_phone(client, plate_token)

    first = client.post(f"/d/{plate_token}/new/help/", form_data())
    second = client.post(f"/d/{plate_token}/new/help/", form_data())

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1


def test_each_form_gets_a_fresh_random_submit_key(client: Client, world: World, plate_token: str) -> None:
    keys = [
        re.search(
            r'name="submit_key" value="([^"]+)"', client.get(f"/d/{plate_token}/new/help/").content.decode()
        )
        for _ in range(2)
    ]
    assert keys[0] and keys[1] and keys[0].group(1) != keys[1].group(1)
    assert len(keys[0].group(1)) >= 24


def test_without_a_verified_phone_nothing_is_filed(client: Client, world: World, plate_token: str) -> None:
    response = client.post(f"/d/{plate_token}/new/help/", form_data(phone=PHONE))

    assert response.status_code == 422
    assert "Verify your mobile phone" in response.content.decode()
    assert not Ticket.objects.exists()


def test_without_javascript_the_code_can_be_sent_and_typed_in_the_form(
    client: Client, world: World, plate_token: str
) -> None:
    # "Send me a code" posts the whole form back: the text typed so far is kept.
    sent = client.post(f"/d/{plate_token}/new/help/", form_data(phone=PHONE, action="send_code"))
    assert sent.status_code == 200
    assert "楼道的灯坏了" in sent.content.decode()
    assert 'name="code"' in sent.content.decode()

    response = client.post(f"/d/{plate_token}/new/help/", form_data(phone=PHONE, code=last_code()))

    assert response.status_code == 302
    assert Ticket.objects.get().reporter_phone == PHONE


def test_a_wrong_code_with_the_form_files_nothing(client: Client, world: World, plate_token: str) -> None:
    client.post(f"/d/{plate_token}/new/help/", form_data(phone=PHONE, action="send_code"))
    wrong = "000000" if last_code() != "000000" else "111111"

    response = client.post(f"/d/{plate_token}/new/help/", form_data(phone=PHONE, code=wrong))

    assert response.status_code == 422
    assert "code is not right" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_category_s_questions_are_asked_and_their_errors_shown_per_field(
    client: Client, world: World, plate_token: str
) -> None:
    CategoryQuestion.objects.create(
        category=world.category,
        code="where",
        prompt="漏在哪里",
        datatype=QuestionType.SINGLE,
        required=True,
        choices=[{"key": "kitchen", "name": "厨房"}, {"key": "bath", "name": "卫生间"}],
        order=2,
    )
    questions = client.get(f"/d/{plate_token}/new/help/questions/?category=leak", HTTP_HX_REQUEST="true")
    assert "漏在哪里" in questions.content.decode() and 'type="radio"' in questions.content.decode()
    assert 'name="answer_floor"' in questions.content.decode()
    verify_phone(client, plate_token)

    refused = client.post(f"/d/{plate_token}/new/help/", form_data(answer_floor="三楼"))

    page = refused.content.decode()
    assert refused.status_code == 422
    assert "This question must be answered" in page
    assert "Enter a number" in page
    assert not Ticket.objects.exists()

    accepted = client.post(f"/d/{plate_token}/new/help/", form_data(answer_floor="3", answer_where="bath"))
    assert accepted.status_code == 302
    assert Ticket.objects.get().answers == {"floor": "3", "where": "bath"}


def test_a_text_file_named_jpg_is_refused_with_a_message(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)
    fake = SimpleUploadedFile("photo.jpg", b"just some text, not a picture", content_type="image/jpeg")

    response = client.post(f"/d/{plate_token}/new/help/", form_data(photos=[fake]))

    assert response.status_code == 422
    assert "not a photo" in response.content.decode()
    assert not Ticket.objects.exists()


def test_more_than_three_photos_are_refused(client: Client, world: World, plate_token: str) -> None:
    verify_phone(client, plate_token)
    photos = [SimpleUploadedFile(f"{n}.jpg", gps_jpeg(), content_type="image/jpeg") for n in range(4)]

    response = client.post(f"/d/{plate_token}/new/help/", form_data(photos=photos))

    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_suggestions_come_as_chips_for_the_typed_text(client: Client, world: World, plate_token: str) -> None:
    response = client.get(
        f"/d/{plate_token}/new/help/suggest/", {"description": "卫生间漏水了"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert 'data-pick="leak"' in response.content.decode()
    other_kind = client.get(f"/d/{plate_token}/new/affairs/suggest/", {"description": "卫生间漏水了"})
    assert 'data-pick="leak"' not in other_kind.content.decode()


def test_a_failing_suggester_does_not_break_the_form(
    client: Client, world: World, plate_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, kind: str) -> list[Any]:
        raise RuntimeError("the dictionary could not be read")

    monkeypatch.setattr("gongzhi.tickets.views_resident.suggest_categories", broken)

    response = client.get(f"/d/{plate_token}/new/help/suggest/", {"description": "卫生间漏水了"})

    assert response.status_code == 200
    assert "data-pick" not in response.content.decode()


def test_html_and_script_in_the_text_are_shown_as_text(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 漏水'

    response = client.post(f"/d/{plate_token}/new/help/", form_data(description=evil, name="<b>bold</b>"))
    ticket = Ticket.objects.get()
    page = client.get(response["Location"]).content.decode()

    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    refused = client.post(
        f"/d/{plate_token}/new/help/", form_data(description="<script>x</script>", category="x")
    )
    assert "<script>x</script>" not in refused.content.decode()
    assert ticket.description == evil


# --- The phone box ------------------------------------------------------------------------------


def test_brute_force_on_the_code_is_refused(client: Client, world: World, plate_token: str) -> None:
    client.post(f"/d/{plate_token}/phone/send/", {"phone": PHONE}, HTTP_HX_REQUEST="true")
    right = last_code()
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != right][:5]
    for guess in wrong:
        answer = client.post(
            f"/d/{plate_token}/phone/verify/", {"phone": PHONE, "code": guess}, HTTP_HX_REQUEST="true"
        )
        assert answer.status_code == 422

    answer = client.post(
        f"/d/{plate_token}/phone/verify/", {"phone": PHONE, "code": right}, HTTP_HX_REQUEST="true"
    )

    assert answer.status_code == 422
    assert "Too many wrong codes" in answer.content.decode()
    assert client.post(f"/d/{plate_token}/new/help/", form_data()).status_code == 422
    assert not Ticket.objects.exists()


@override_settings(
    RATE_LIMITS={"phone_code": "2/hour", "phone_code_ip": "100/hour", "phone_verify_ip": "100/hour"}
)
def test_asking_for_codes_again_and_again_is_rate_limited(
    client: Client, world: World, plate_token: str
) -> None:
    for _ in range(2):
        client.post(f"/d/{plate_token}/phone/send/", {"phone": PHONE}, HTTP_HX_REQUEST="true")

    answer = client.post(f"/d/{plate_token}/phone/send/", {"phone": PHONE}, HTTP_HX_REQUEST="true")

    assert answer.status_code == 429
    assert "Try again in" in answer.content.decode()
    assert Notification.objects.filter(event_type="phone.code").count() == 2


def test_a_bad_number_is_explained(client: Client, world: World, plate_token: str) -> None:
    answer = client.post(f"/d/{plate_token}/phone/send/", {"phone": "12345"}, HTTP_HX_REQUEST="true")

    assert answer.status_code == 422
    assert "11 digits" in answer.content.decode()
    assert 'aria-invalid="true"' in answer.content.decode()


def test_the_box_works_without_javascript_too(client: Client, world: World, plate_token: str) -> None:
    sent = client.post(
        f"/d/{plate_token}/phone/send/",
        {"phone": PHONE, "purpose": "lookup", "next": f"/d/{plate_token}/mine/"},
    )
    assert sent.status_code == 302 and sent["Location"] == f"/d/{plate_token}/mine/"
    assert 'name="code"' in client.get(f"/d/{plate_token}/mine/").content.decode()

    checked = client.post(f"/d/{plate_token}/phone/verify/", {"code": last_code(), "purpose": "lookup"})

    assert checked.status_code == 302 and checked["Location"] == f"/d/{plate_token}/mine/"
    assert "138****5678" in client.get(f"/d/{plate_token}/mine/").content.decode()


def test_next_cannot_point_elsewhere(client: Client, world: World, plate_token: str) -> None:
    sent = client.post(f"/d/{plate_token}/phone/send/", {"phone": PHONE, "next": "https://evil.example/"})

    assert sent["Location"] == f"/d/{plate_token}/"


# --- Following and rating ------------------------------------------------------------------------


def test_the_follow_page_shows_progress_in_plain_words_without_staff_names(
    client: Client, world: World, plate_token: str
) -> None:
    ticket = submit(world.tree, node=world.tree.building_a)
    ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk, note="马上派人去看")

    page = client.get(f"/t/{ticket.follow_token}/").content.decode()

    assert ticket.number in page
    assert "Being handled" in page
    assert "The grid worker accepted it." in page
    assert "马上派人去看" in page
    assert "Wang" not in page and "Xiuying" not in page and "worker_a" not in page
    assert "13812345678" not in page


def test_an_unknown_follow_link_is_not_found(client: Client, world: World) -> None:
    response = client.get("/t/not-a-real-token/")

    assert response.status_code == 404
    assert "We could not find this page" in response.content.decode()


def _resolved(world: World) -> Ticket:
    ticket = submit(world.tree, node=world.tree.building_a, reporter_phone=PHONE)
    actor = world.actor(world.worker_a)
    ticket_accept(actor=actor, ticket_id=ticket.pk)
    ticket_resolve(actor=actor, ticket_id=ticket.pk, note="已更换灯泡")
    return Ticket.objects.get(pk=ticket.pk)


def test_rating_asks_the_reporter_s_phone_code_first(client: Client, world: World) -> None:
    ticket = _resolved(world)
    url = f"/t/{ticket.follow_token}/"

    page = client.get(url).content.decode()
    assert "已更换灯泡" in page
    assert "138****5678" in page and PHONE not in page
    assert 'name="rating"' not in page
    refused = client.post(url, {"rating": Rating.SATISFIED})
    assert refused.status_code == 422
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.RESOLVED

    client.post(f"{url}phone/send/", HTTP_HX_REQUEST="true")
    checked = client.post(f"{url}phone/verify/", {"code": last_code()}, HTTP_HX_REQUEST="true")
    assert checked.status_code == 204 and checked["HX-Redirect"].startswith(url)
    assert 'name="rating"' in client.get(url).content.decode()

    rated = client.post(url, {"rating": Rating.SATISFIED, "comment": "谢谢"})

    assert rated.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.CLOSED and ticket.rating == Rating.SATISFIED
    assert "Thank you for your rating" in client.get(rated["Location"]).content.decode()


def test_unsatisfied_reopens_it_one_level_up_without_a_new_code_in_the_same_session(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)  # verified when submitting
    ticket = _resolved(world)

    rated = client.post(f"/t/{ticket.follow_token}/", {"rating": Rating.UNSATISFIED, "comment": "灯还是不亮"})

    assert rated.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.REOPENED and ticket.level == Level.COMMUNITY
    page = client.get(rated["Location"]).content.decode()
    assert "Being handled again" in page
    assert "now by the community" in page
    assert Notification.objects.filter(event_type="phone.code").count() == 1


def test_another_verified_phone_may_not_rate(client: Client, world: World, plate_token: str) -> None:
    verify_phone(client, plate_token, phone="13900001111")
    ticket = _resolved(world)

    response = client.post(f"/t/{ticket.follow_token}/", {"rating": Rating.UNSATISFIED})

    assert response.status_code == 422
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.RESOLVED


def test_a_merged_ticket_shows_the_surviving_ticket_s_progress(client: Client, world: World) -> None:
    survivor = submit(world.tree, node=world.tree.building_a, reporter_phone="13900002222")
    duplicate = submit(
        world.tree, node=world.tree.building_a, reporter_phone=PHONE, description="楼道漏水好几天了"
    )
    actor = world.actor(world.worker_a)
    ticket_merge(actor=actor, ticket_id=duplicate.pk, into_id=survivor.pk)
    ticket_accept(actor=actor, ticket_id=survivor.pk)
    ticket_resolve(actor=actor, ticket_id=survivor.pk, note="已修好水管")

    page = client.get(f"/t/{duplicate.follow_token}/").content.decode()

    assert survivor.number in page
    assert "handled together with ticket" in page
    assert "已修好水管" in page
    assert "楼道漏水好几天了" in page  # the resident's own words
    assert 'name="rating"' not in page


def test_photos_are_served_only_through_their_ticket_s_link(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)
    client.post(
        f"/d/{plate_token}/new/help/",
        form_data(photos=[SimpleUploadedFile("a.jpg", gps_jpeg(), content_type="image/jpeg")]),
    )
    ticket = Ticket.objects.get()
    photo = TicketPhoto.objects.get()
    other = submit(world.tree, node=world.tree.building_a, submit_key="other")

    mine = client.get(f"/t/{ticket.follow_token}/photos/{photo.pk}/")
    assert mine.status_code == 200 and mine["Content-Type"] == "image/jpeg"
    assert client.get(f"/t/{other.follow_token}/photos/{photo.pk}/").status_code == 404


# --- 码上查 ------------------------------------------------------------------------------------------


def test_my_tickets_after_verifying_the_phone(client: Client, world: World, plate_token: str) -> None:
    mine = submit(world.tree, node=world.tree.building_a, reporter_phone=PHONE)
    theirs = submit(world.tree, node=world.tree.building_a, reporter_phone="13900003333")

    before = client.get(f"/d/{plate_token}/mine/").content.decode()
    assert mine.number not in before and 'name="phone"' in before

    client.post(
        f"/d/{plate_token}/phone/send/", {"phone": PHONE, "purpose": "lookup"}, HTTP_HX_REQUEST="true"
    )
    checked = client.post(
        f"/d/{plate_token}/phone/verify/",
        {"phone": PHONE, "code": last_code(), "purpose": "lookup"},
        HTTP_HX_REQUEST="true",
    )
    assert checked["HX-Redirect"] == f"/d/{plate_token}/mine/"

    after = client.get(f"/d/{plate_token}/mine/").content.decode()
    assert mine.number in after and f"/t/{mine.follow_token}/" in after
    assert theirs.number not in after
    assert f'href="/board/{world.tree.community.code}/"' in after  # the community's public board


def test_the_pages_need_no_account_and_stay_fast(
    client: Client, world: World, plate_token: str, django_assert_max_num_queries: Any
) -> None:
    ticket = _resolved(world)
    with django_assert_max_num_queries(8):
        assert client.get(f"/d/{plate_token}/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/t/{ticket.follow_token}/").status_code == 200


def test_the_timeline_keeps_an_earlier_outcome_after_reopening(client: Client, world: World) -> None:
    ticket = _resolved(world)
    from gongzhi.tickets.services.handling import ticket_rate

    ticket_rate(token=ticket.follow_token, rating=Rating.UNSATISFIED, comment="还是不亮")

    page = client.get(f"/t/{ticket.follow_token}/").content.decode()
    assert "已更换灯泡" in page  # the first resolution's note, now in the story
    assert "还是不亮" in page
    assert "You rated it" in page


def test_a_rejected_ticket_says_why(client: Client, world: World) -> None:
    from gongzhi.tickets.services.handling import ticket_reject

    ticket = submit(world.tree, node=world.tree.building_a)
    ticket_reject(actor=world.actor(world.worker_a), ticket_id=ticket.pk, reason="属于物业公司的维修范围")

    page = client.get(f"/t/{ticket.follow_token}/").content.decode()

    assert "Not accepted" in page
    assert "属于物业公司的维修范围" in page


def test_departments_are_named_but_their_staff_are_not(client: Client, world: World) -> None:
    from gongzhi.tickets.services.handling import summons_report_in, ticket_whistle

    world.handler.first_name = "Jianguo"
    world.handler.save()
    ticket = submit(world.tree, node=world.tree.building_a)
    ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    whistle = ticket_whistle(
        actor=world.actor(world.worker_a),
        ticket_id=ticket.pk,
        department_ids=[world.department.pk],
        note="请城管协助",
    )
    summons_report_in(actor=world.actor(world.handler), summons_id=whistle.summonses.get().pk)

    page = client.get(f"/t/{ticket.follow_token}/").content.decode()

    assert "城管局" in page
    assert "城管局 came to help." in page  # the department reported in, under its own name
    assert "Jianguo" not in page and "handler" not in page


def _board(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse(code)


# This module doubles as a URLconf with a public board, as the public-board issue will add one.
urlpatterns = [*root_urls.urlpatterns, path("board/<str:code>/", _board)]


def test_my_tickets_link_the_community_board_when_it_exists(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token, purpose="lookup")

    with override_settings(ROOT_URLCONF=__name__):
        page = client.get(f"/d/{plate_token}/mine/").content.decode()

    assert f'href="/board/{world.tree.community.code}/"' in page


# --- The category question, made short ---------------------------------------------------------------


def _category_radios(html: str) -> tuple[list[str], list[str], list[str]]:
    """(codes shown at once, codes behind "more", the group names behind "more")."""
    first, _sep, rest = html.partition('<details class="more-categories"')
    more, _sep, _after = rest.partition("</details>")
    codes = re.compile(r'name="category" value="([^"]+)"')
    return codes.findall(first), codes.findall(more), re.findall(r"<legend>([^<]+)</legend>", more)


def test_the_likely_kinds_come_first_and_the_others_wait_grouped_behind_more(
    client: Client, world: World, plate_token: str
) -> None:
    from gongzhi.tickets.models import Category

    help_codes = set(
        Category.objects.filter(is_active=True, kind=TicketKind.HELP).values_list("code", flat=True)
    )
    # Residents chose 噪音扰民 most lately, then 停车管理: those come first.
    for n in range(3):
        submit(world.tree, category="noise", submit_key=f"noise-{n}", description="楼下广场舞太吵了")
    submit(world.tree, category="parking", submit_key="parking", description="车位被占用了")

    page = client.get(f"/d/{plate_token}/new/help/")
    first, more, groups = _category_radios(page.content.decode())

    assert len(first) == 6 and first[:2] == ["noise", "parking"]
    assert sorted(first + more) == sorted(help_codes)  # every kind, once
    assert "水电气热" in groups and "楼院设施" in groups
    assert f"{len(more)} more kinds" in page.content.decode()


def test_the_chosen_and_the_suggested_kinds_come_first_after_a_refusal(
    client: Client, world: World, plate_token: str
) -> None:
    verify_phone(client, plate_token)
    response = client.post(
        f"/d/{plate_token}/new/help/",
        form_data(
            category="lift-fault",
            description="电梯又坏了，还有楼道灯不亮",
            photos=[SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")],
        ),
    )
    first, more, _groups = _category_radios(response.content.decode())
    assert response.status_code == 422
    assert first[0] == "lift-fault" and "stairwell-light" in first  # chosen, then suggested
    assert re.search(
        r'value="lift-fault" id="id_category_lift-fault" required checked', response.content.decode()
    )
    assert "lift-fault" not in more and "stairwell-light" not in more


def test_the_photo_field_has_our_own_words_not_the_browser_s(
    client: Client, world: World, plate_token: str
) -> None:
    html = client.get(f"/d/{plate_token}/new/help/").content.decode()
    picker = html[html.index('<span class="photo-picker"') :]
    picker = picker[: picker.index("</span>\n</span>")]
    assert 'type="file" name="photos" id="id_photos"' in picker
    assert 'aria-labelledby="photos-label id_photos-button"' in picker
    assert (
        '<label for="id_photos" class="photo-button" id="id_photos-button" hidden>Take or choose photos</label>'
        in picker
    )
