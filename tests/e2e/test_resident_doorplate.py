"""A resident on a 375-px phone: doorplate → a help ticket with a photo and a verified phone → follow
it → rate 不满意 after the grid worker resolved it → reopened one level up. Also the large-text switch
and a forged code. axe-core checks every page; screenshots at 375 and 1280 px."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from gongzhi.core.personal import mask_phone
from gongzhi.doorplates.services import doorplate_for
from gongzhi.notifications.models import Notification
from gongzhi.tickets.models import Rating, Ticket, TicketPhoto
from gongzhi.tickets.services.handling import ticket_accept, ticket_resolve
from gongzhi.tickets.tests.factories import make_world
from gongzhi.tickets.workflow import Level, TicketState

from .conftest import PHONE, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
MOBILE = "13812345678"


def _photo() -> bytes:
    image = Image.new("RGB", (1200, 900), (180, 190, 200))
    for x in range(300, 900):
        for y in range(400, 460):
            image.putpixel((x, y), (40, 60, 140))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def _last_code() -> str:
    message = Notification.objects.filter(
        phone__in=[MOBILE, mask_phone(MOBILE)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def test_a_resident_files_follows_and_rates_a_ticket_from_the_doorplate(site: Site) -> None:
    world = make_world()
    token = doorplate_for(world.tree.building_a).token
    page = site.page
    page.set_viewport_size(PHONE)

    # The doorplate: the address in words and four big entries.
    site.goto(f"/d/{token}/")
    expect(page.locator(".place .address")).to_have_text("春都华府 1号楼")
    entries = page.locator(".entries a.entry")
    expect(entries).to_have_count(4)
    for index in range(4):
        box = entries.nth(index).bounding_box()
        assert box is not None and box["height"] >= 120 and box["width"] >= 150, box
    site.assert_accessible("resident doorplate")
    site.screenshot("resident-doorplate")

    # The large-text switch: bigger type, remembered on the next page.
    page.set_viewport_size(PHONE)
    size_before = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    toggle = page.locator("#large-text-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    size_after = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size_after >= size_before * 1.15, (size_before, size_after)
    site.assert_accessible("resident doorplate, large text")
    site.screenshot("resident-doorplate-large-text")
    site.goto(f"/d/{token}/")
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    page.locator("#large-text-toggle").click()
    expect(page.locator("html")).not_to_have_class(re.compile("large-text"))

    # 码上帮: describe, pick the suggested category, answer its question, add a photo.
    page.set_viewport_size(PHONE)
    page.locator("a.entry[data-kind=help]").click()
    expect(page).to_have_url(re.compile(rf"/d/{re.escape(token)}/new/help/$"))
    # htmx is deferred: the suggestions listen for input only once it has loaded.
    page.wait_for_function("() => window.htmx !== undefined")
    page.locator("textarea[name=description]").fill("卫生间漏水了，天花板一直在滴水")
    chip = page.locator("#suggestions [data-pick=leak]")
    expect(chip).to_be_visible(timeout=15_000)
    chip.click()
    expect(page.locator("input[name=category][value=leak]")).to_be_checked()
    floor = page.locator("input[name=answer_floor]")
    expect(floor).to_be_visible()
    floor.fill("3")
    page.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "漏水.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )

    # The phone: a code by SMS (the development gateway: read from the outbox).
    page.locator("#id_phone").fill(MOBILE)
    page.locator("#phone-box button[value=send_code]").click()
    code_input = page.locator("#id_code")
    expect(code_input).to_be_visible()
    code_input.fill(_last_code())
    page.locator("#phone-box button[value=verify_code]").click()
    expect(page.locator("#phone-box .verified")).to_contain_text("138****5678")
    page.locator("input[name=name]").fill("张秀英")
    site.assert_accessible("resident new ticket")
    site.screenshot("resident-new-ticket")

    page.set_viewport_size(PHONE)
    with page.expect_navigation():
        page.locator("#ticket-form button.submit").click()

    ticket = Ticket.objects.get()
    assert ticket.node == world.tree.building_a and ticket.reporter_phone == MOBILE
    assert ticket.answers == {"floor": "3"}
    assert TicketPhoto.objects.filter(ticket=ticket).count() == 1
    expect(page).to_have_url(re.compile(rf"/t/{re.escape(ticket.follow_token)}/\?new=1$"))
    expect(page.locator(".ticket-number")).to_have_text(ticket.number)
    expect(page.locator(".follow-link a")).to_contain_text(f"/t/{ticket.follow_token}/")
    number_size = page.locator(".ticket-number").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert number_size >= 24, number_size  # big, and on one line that fits the phone's width
    widths = page.locator(".ticket-number").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths
    expect(page.locator(".photos img")).to_have_count(1)
    assert page.locator(".photos img").evaluate("img => img.naturalWidth") > 0
    site.assert_accessible("resident ticket submitted")
    site.screenshot("resident-ticket-submitted")

    # The grid worker accepts and resolves (through the services); the resident follows the link.
    worker = world.actor(world.worker_a)
    ticket_accept(actor=worker, ticket_id=ticket.pk, note="今天下午上门查看")
    ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已更换楼上破裂的水管")
    page.set_viewport_size(PHONE)
    site.goto(f"/t/{ticket.follow_token}/")
    expect(page.locator(".outcome")).to_contain_text("已更换楼上破裂的水管")
    expect(page.locator(".timeline li")).to_have_count(3)
    assert world.worker_a.username not in page.content()
    site.assert_accessible("resident ticket resolved")
    site.screenshot("resident-ticket-resolved")

    # 不满意: still within the half hour, so no new code; the ticket reopens at the community.
    page.set_viewport_size(PHONE)
    page.locator(f"input[name=rating][value={Rating.UNSATISFIED}]").check()
    page.locator("textarea[name=comment]").fill("楼上还在漏")
    with page.expect_navigation():
        page.locator("#rate button.submit").click()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.REOPENED and ticket.level == Level.COMMUNITY
    assert ticket.rating == Rating.UNSATISFIED
    expect(page.locator("#status")).to_have_class(re.compile("status-waiting"))
    expect(page.locator(".timeline")).to_contain_text("楼上还在漏")
    site.assert_accessible("resident ticket reopened")
    site.screenshot("resident-ticket-reopened")

    # 码上查: my tickets, without a new code in the same session.
    site.goto(f"/d/{token}/mine/")
    expect(page.locator(".ticket-list")).to_contain_text(ticket.number)
    site.assert_accessible("resident my tickets")
    site.screenshot("resident-my-tickets")


def test_my_tickets_asks_for_the_phone_first_and_a_forged_code_is_not_found(site: Site) -> None:
    world = make_world()
    token = doorplate_for(world.tree.building_a).token
    site.page.set_viewport_size(PHONE)

    site.goto(f"/d/{token}/mine/")
    expect(site.page.locator("#id_phone")).to_be_visible()
    site.assert_accessible("resident lookup")
    site.screenshot("resident-lookup")

    site.page.locator("#id_phone").fill("123")
    site.page.locator("#phone-box button[value=send_code]").click()
    expect(site.page.locator("#phone-error")).to_be_visible()
    site.assert_accessible("resident lookup, bad number")

    response = site.goto(f"/d/{token[:-3]}abc/")
    assert response.status == 404
    expect(site.page.locator("h1")).to_be_visible()
    site.assert_accessible("resident not found")
    site.screenshot("resident-not-found")
