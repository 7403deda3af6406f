"""A resident on a 375-px phone: the doorplate and its large-text switch, a help ticket with a photo
and a verified phone, its follow page, and "my tickets"; a forged code. axe-core checks every page;
screenshots at 375 and 1280 px. The whole story, through handling and rating, is test_ticket_journey."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gongzhi.doorplates.services import doorplate_for
from gongzhi.tickets.models import Ticket, TicketPhoto
from gongzhi.tickets.tests.factories import make_world

from .conftest import PHONE, Site, describe_matter, verify_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
MOBILE = "13812345678"


def test_a_resident_files_and_follows_a_ticket_from_the_doorplate(site: Site) -> None:
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
    # The category question is short: six likely kinds, the others grouped behind "more", which the
    # keyboard opens and closes; the photo field speaks Chinese, not the browser's "Choose Files".
    expect(page.locator("#category-group > .choices input[name=category]")).to_have_count(6)
    more = page.locator("details.more-categories")
    expect(more.locator("input[value=leak]")).to_be_hidden()
    more.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(more.locator("input[value=leak]")).to_be_visible()
    site.screenshot("resident-new-ticket-more-kinds")
    page.set_viewport_size(PHONE)
    more.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(more.locator("input[value=leak]")).to_be_hidden()
    expect(page.locator("label.photo-button")).to_have_text("拍照或选择照片")
    box = page.locator("#id_photos").bounding_box()
    assert box is not None and box["width"] <= 1, box  # the native "Choose Files" is out of sight
    # The suggested kind is behind "more": tapping its chip opens it there, checked.
    describe_matter(
        page,
        description="卫生间漏水了，天花板一直在滴水",
        category="leak",
        answers={"floor": "3"},
        photo="漏水.jpg",
    )
    verify_phone(page, MOBILE)  # a code by SMS (the development gateway: read from the outbox)
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
