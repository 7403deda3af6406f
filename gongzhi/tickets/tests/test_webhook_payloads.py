"""What a ticket's webhooks carry out of the platform: the description with its personal data masked,
as the public Open311 calls show it, from every path that queues them (a service, the sweep)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.personal import id_check_digit, mask_personal_text
from gongzhi.notifications.delivery import webhook_body
from gongzhi.notifications.models import Notification, NotificationChannel, WebhookEndpoint
from gongzhi.open311.selectors import public_text
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
ID_NUMBER = "11010519491231002X"  # GB 11643's example: its check digit is right
DESCRIPTION = (
    f"我是张秀英，电话13812345678，也可打+86 139-0000 0000不通就发邮件zhang.xy@example.org，"
    f"身份证{ID_NUMBER}，楼道漏水"
)
MASKED = "我是张**，电话138****5678，也可打139****0000不通就发邮件***@***，身份证110**************X，楼道漏水"


@pytest.fixture
def world(db: Any) -> World:
    with time_machine.travel(NOW, tick=False):
        world = make_world()
    WebhookEndpoint.objects.create(name="city", url="https://example.org/hook", secret="s")
    return world


def _webhooks() -> list[Notification]:
    return list(Notification.objects.filter(channel=NotificationChannel.WEBHOOK).order_by("pk"))


def _sent_text(row: Notification) -> str:
    """Everything the receiver gets: the signed JSON document (subject and data)."""
    return webhook_body(row).decode()


def test_the_text_masking_is_the_same_for_open311_and_webhooks() -> None:
    assert mask_personal_text(DESCRIPTION, names=("张秀英",)) == MASKED
    assert public_text(DESCRIPTION, reporter_name="张秀英") == MASKED
    # A number that is not an ID number (wrong check digit) and a ticket number stay.
    assert mask_personal_text("工单202611240000001，编号110105194912310021") == (
        "工单202611240000001，编号110105194912310021"
    )


@given(
    st.from_regex(
        r"[1-6][0-9]{5}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True
    )
)
def test_no_valid_id_number_survives(first17: str) -> None:
    number = first17 + id_check_digit(first17)
    masked = mask_personal_text(f"身份证号{number}，住3号楼")
    assert number not in masked
    assert masked == f"身份证号{number[:3]}{'*' * 14}{number[-1]}，住3号楼"


@time_machine.travel(NOW, tick=False)
def test_a_new_ticket_s_webhook_carries_the_masked_description(world: World) -> None:
    ticket = submit(world.tree, description=DESCRIPTION, reporter_name="张秀英")

    (row,) = _webhooks()
    assert row.payload["ticket"]["description"] == MASKED
    sent = _sent_text(row)
    assert ticket.number in sent
    for secret in ("13812345678", "zhang.xy@example.org", ID_NUMBER, "张秀英"):
        assert secret not in sent


@time_machine.travel(NOW, tick=False)
def test_a_reopening_s_webhook_masks_the_resident_s_comment_in_its_subject_too(world: World) -> None:
    ticket = submit(world.tree, description=DESCRIPTION, reporter_name="张秀英")
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="修好了")
    handling.ticket_rate(
        token=ticket.follow_token, rating="unsatisfied", comment="还在漏，请打13812345678找张秀英"
    )

    reopened = [row for row in _webhooks() if row.event_type == "ticket.reopened"]
    (row,) = reopened
    sent = json.loads(_sent_text(row))
    assert sent["subject"].endswith("还在漏，请打138****5678找张**")
    assert sent["data"]["ticket"]["description"] == MASKED
    assert "13812345678" not in _sent_text(row) and "张秀英" not in _sent_text(row)


@time_machine.travel(NOW, tick=False)
def test_the_sweep_s_webhooks_carry_the_masked_description(world: World) -> None:
    submit(world.tree, description=DESCRIPTION, reporter_name="张秀英")
    Notification.objects.all().delete()

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert tickets_sweep().escalated == 1

    (row,) = _webhooks()
    assert row.event_type == "ticket.escalated"
    assert row.payload["ticket"]["description"] == MASKED
    assert "13812345678" not in _sent_text(row)


@given(
    mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    separator=st.sampled_from(["", "-", " "]),
    prefix=st.sampled_from(["", "+86", "+86 ", "86-"]),
)
def test_no_mobile_number_survives_written_in_groups(mobile: str, separator: str, prefix: str) -> None:
    written = f"{prefix}{mobile[:3]}{separator}{mobile[3:7]}{separator}{mobile[7:]}"
    assert mask_personal_text(f"电话：{written}，谢谢") == f"电话：{mobile[:3]}****{mobile[-4:]}，谢谢"
