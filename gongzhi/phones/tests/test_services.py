"""One-time phone codes: sent through the outbox, checked at most five times, expiring, rate limited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core import personal
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.personal import mask_phone
from gongzhi.core.ratelimit import RateLimited
from gongzhi.notifications.models import Notification, NotificationChannel
from gongzhi.phones.models import PhoneChallenge, PhonePurpose
from gongzhi.phones.services import (
    MAX_ATTEMPTS,
    CodeRefused,
    mobile_clean,
    phone_challenges_purge,
    phone_code_send,
    phone_code_verify,
    session_forget_phone,
    session_remember_phone,
    session_verified_phone,
)

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
NOW = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)


def sent_code(phone: str = PHONE) -> str:
    message = Notification.objects.filter(
        phone__in=[phone, mask_phone(phone)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\d{6}", message.subject)
    assert match, message.subject
    return match.group()


def test_it_sends_a_six_digit_code_by_sms_and_stores_only_hashes() -> None:
    sent = phone_code_send(phone="138 1234 5678", purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    message = Notification.objects.get(event_type="phone.code")
    assert message.channel == NotificationChannel.SMS
    assert message.phone == PHONE
    code = sent_code()
    challenge = PhoneChallenge.objects.get(pk=sent.challenge_id)
    assert challenge.phone_hash == personal.lookup_hash(PHONE)
    assert code not in challenge.code_hash and PHONE not in challenge.phone_hash
    assert challenge.expires_at - challenge.created_at == dt.timedelta(minutes=10)


def test_the_right_code_verifies_the_phone_once() -> None:
    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    assert phone_code_verify(phone=PHONE, code=sent_code(), purpose="ticket", ip="10.0.0.1") == PHONE

    assert PhoneChallenge.objects.get().verified_at is not None
    with pytest.raises(CodeRefused):  # a used code does not work twice
        phone_code_verify(phone=PHONE, code=sent_code(), purpose="ticket", ip="10.0.0.1")


def test_a_code_for_one_phone_does_not_verify_another() -> None:
    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    with pytest.raises(CodeRefused):
        phone_code_verify(phone="13900000000", code=sent_code(), purpose="ticket", ip="10.0.0.1")


def test_brute_force_is_refused_after_five_wrong_codes_even_the_right_one() -> None:
    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    right = sent_code()
    wrong = [f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" != right][:MAX_ATTEMPTS]

    for guess in wrong:
        with pytest.raises(CodeRefused):
            phone_code_verify(phone=PHONE, code=guess, purpose="ticket", ip="10.0.0.1")
    with translation.override("en"), pytest.raises(CodeRefused) as refused:
        phone_code_verify(phone=PHONE, code=right, purpose="ticket", ip="10.0.0.1")

    assert "Too many" in str(refused.value.message)
    assert PhoneChallenge.objects.get().attempts == MAX_ATTEMPTS
    assert PhoneChallenge.objects.get().verified_at is None


def test_a_code_expires_after_ten_minutes() -> None:
    with time_machine.travel(NOW, tick=False):
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    later = NOW + dt.timedelta(minutes=10, seconds=1)
    with (
        time_machine.travel(later, tick=False),
        translation.override("en"),
        pytest.raises(CodeRefused) as refused,
    ):
        phone_code_verify(phone=PHONE, code=sent_code(), purpose="ticket", ip="10.0.0.1")
    assert "expired" in str(refused.value.message)


def test_a_new_code_supersedes_the_old_one() -> None:
    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    first = sent_code()
    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    second = sent_code()
    if first == second:  # one chance in a million
        return

    with pytest.raises(CodeRefused):
        phone_code_verify(phone=PHONE, code=first, purpose="ticket", ip="10.0.0.1")
    assert phone_code_verify(phone=PHONE, code=second, purpose="ticket", ip="10.0.0.1") == PHONE


def test_codes_are_per_purpose() -> None:
    phone_code_send(phone=PHONE, purpose=PhonePurpose.LOOKUP, ip="10.0.0.1")

    with pytest.raises(CodeRefused):
        phone_code_verify(phone=PHONE, code=sent_code(), purpose="ticket", ip="10.0.0.1")


@pytest.mark.parametrize("bad", ["", "12345", "02381234567", "010-12345678", "1381234567a"])
def test_only_mobile_numbers_get_codes(bad: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        phone_code_send(phone=bad, purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    assert "phone" in refused.value.extra["fields"]
    assert not Notification.objects.exists()


@override_settings(
    RATE_LIMITS={"phone_code": "3/hour", "phone_code_ip": "100/hour", "phone_verify_ip": "100/hour"}
)
def test_codes_to_one_phone_are_rate_limited_from_any_address() -> None:
    for n in range(3):
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip=f"10.0.0.{n}")

    with pytest.raises(RateLimited):
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.99")
    assert PhoneChallenge.objects.count() == 3
    phone_code_send(phone="13900000000", purpose=PhonePurpose.TICKET, ip="10.0.0.99")  # others still work


@override_settings(
    RATE_LIMITS={"phone_code": "100/hour", "phone_code_ip": "2/hour", "phone_verify_ip": "100/hour"}
)
def test_codes_from_one_address_are_rate_limited() -> None:
    phone_code_send(phone="13900000001", purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    phone_code_send(phone="13900000002", purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    with pytest.raises(RateLimited):
        phone_code_send(phone="13900000003", purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    assert Notification.objects.count() == 2


@override_settings(
    RATE_LIMITS={"phone_code": "100/hour", "phone_code_ip": "100/hour", "phone_verify_ip": "3/hour"}
)
def test_checks_from_one_address_are_rate_limited_across_phones() -> None:
    for n in range(3):
        phone = f"1390000000{n}"
        phone_code_send(phone=phone, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
        with pytest.raises(CodeRefused):
            phone_code_verify(
                phone=phone,
                code="000000" if sent_code(phone) != "000000" else "111111",
                purpose="ticket",
                ip="10.0.0.1",
            )

    phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    with pytest.raises(RateLimited):
        phone_code_verify(phone=PHONE, code=sent_code(), purpose="ticket", ip="10.0.0.1")


def test_the_session_remembers_a_verified_phone_for_thirty_minutes() -> None:
    session = SessionStore()
    with time_machine.travel(NOW, tick=False):
        session_remember_phone(session, PHONE)
        assert session_verified_phone(session) == PHONE
    with time_machine.travel(NOW + dt.timedelta(minutes=29), tick=False):
        assert session_verified_phone(session) == PHONE
    with time_machine.travel(NOW + dt.timedelta(minutes=30, seconds=1), tick=False):
        assert session_verified_phone(session) == ""
    session_remember_phone(session, PHONE)
    session_forget_phone(session)
    assert session_verified_phone(session) == ""


def test_old_challenges_are_purged() -> None:
    with time_machine.travel(NOW, tick=False):
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")

    assert phone_challenges_purge(now=NOW + dt.timedelta(days=1, minutes=1)) == 1
    assert PhoneChallenge.objects.count() == 1


@given(
    digits=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    prefix=st.sampled_from(["", "+86", "0086", "+86 "]),
    spaced=st.booleans(),
)
def test_any_way_of_writing_a_mobile_number_gives_the_same_number(
    digits: str, prefix: str, spaced: bool
) -> None:
    written = f"{digits[:3]} {digits[3:7]} {digits[7:]}" if spaced else digits

    assert mobile_clean(prefix + written) == digits


def test_the_purge_removes_expired_codes_from_the_outbox() -> None:
    import datetime as dt

    import time_machine

    from gongzhi.phones.services import CODE_REMOVED, phone_challenges_purge

    start = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        phone_code_send(phone=PHONE, purpose=PhonePurpose.TICKET, ip="10.0.0.1")
        code = sent_code()
        clock.shift(dt.timedelta(minutes=9))
        phone_challenges_purge()
        assert code in Notification.objects.get(event_type="phone.code").subject
        clock.shift(dt.timedelta(minutes=2))
        phone_challenges_purge()
        message = Notification.objects.get(event_type="phone.code")
        assert code not in message.subject and message.subject == CODE_REMOVED
