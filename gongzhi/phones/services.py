"""Sending and checking one-time codes, and remembering a verified phone in the session.

Brute force is bounded three ways: codes are requested at most `phone_code` times per phone and
`phone_code_ip` times per address (rate limits, settings.RATE_LIMITS); each code may be tried at
most MAX_ATTEMPTS times and only within CODE_LIFETIME; checks from one address are limited by
`phone_verify_ip`. With the defaults a guesser gets 25 tries an hour at a 1-in-a-million code.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from gongzhi.core import clock, personal
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.ratelimit import ensure_within_rate
from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import notify
from gongzhi.phones.models import PhoneChallenge, PhonePurpose

CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# How long a verified phone is remembered, so one resident can submit and rate without a new code.
REMEMBER_FOR = dt.timedelta(minutes=30)
# What an expired code's outbox row says instead of the code.
CODE_REMOVED = "[code expired and removed]"
SESSION_KEY = "gongzhi.verified_phone"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class CodeRefused(ValidationFailed):
    """A wrong, expired or exhausted code."""

    code = "code_refused"


@dataclass(frozen=True)
class SentCode:
    challenge_id: int
    phone: str  # normalized
    expires_at: dt.datetime


def mobile_clean(raw: str) -> str:
    """A mainland mobile number (codes go by SMS, so landlines are refused), normalized."""
    phone = personal.normalize_phone(raw or "")
    if not _MOBILE.match(phone):
        message = _("Enter your mobile phone number: 11 digits, e.g. 13812345678.")
        raise ValidationFailed(message, extra={"fields": {"phone": message}})
    return phone


def _code_hash(phone_hash: str, code: str) -> str:
    return salted_hmac("gongzhi.phones.code", f"{phone_hash}:{code}", algorithm="sha256").hexdigest()


def phone_code_send(*, phone: str, purpose: str, ip: str | None) -> SentCode:
    """Send a new 6-digit code to `phone` by SMS (through the outbox); older codes stop working."""
    if purpose not in PhonePurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    phone = mobile_clean(phone)
    phone_hash = personal.lookup_hash(phone)
    # Count before any work: a refused request costs nothing but the counter.
    ensure_within_rate(name="phone_code_ip", key=ip or "unknown")
    ensure_within_rate(name="phone_code", key=phone_hash)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = clock.now()
    with transaction.atomic():
        challenge = PhoneChallenge.objects.create(
            phone_hash=phone_hash,
            purpose=purpose,
            code_hash=_code_hash(phone_hash, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        notify(
            key=f"phone-code:{challenge.pk}",
            event_type="phone.code",
            subject=_("Your Gongzhi verification code is %(code)s. It is valid for %(minutes)d minutes.")
            % {"code": code, "minutes": CODE_LIFETIME.seconds // 60},
            phones=[phone],
            organization_ids=[],
        )
    return SentCode(challenge_id=challenge.pk, phone=phone, expires_at=challenge.expires_at)


def phone_code_verify(*, phone: str, code: str, purpose: str, ip: str | None) -> str:
    """Check a code; returns the normalized phone, or raises CodeRefused (or RateLimited).

    Every check counts against the challenge, right or wrong, in its own committed update, so an
    error raised afterwards cannot roll an attempt back.
    """
    phone = mobile_clean(phone)
    ensure_within_rate(name="phone_verify_ip", key=ip or "unknown")
    phone_hash = personal.lookup_hash(phone)
    now = clock.now()
    challenge = (
        PhoneChallenge.objects.filter(phone_hash=phone_hash, purpose=purpose, verified_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if challenge is None or challenge.expires_at <= now:
        raise _refused(_("This code has expired. Ask for a new code."))
    # Compare-and-set: two guesses at once still use two of the attempts.
    counted = PhoneChallenge.objects.filter(pk=challenge.pk, attempts__lt=MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        raise _refused(_("Too many wrong codes. Ask for a new code."))
    typed = re.sub(r"\s", "", code or "")
    if not hmac.compare_digest(_code_hash(phone_hash, typed), challenge.code_hash):
        raise _refused(_("The code is not right. Check the message and try again."))
    used = PhoneChallenge.objects.filter(pk=challenge.pk, verified_at__isnull=True).update(verified_at=now)
    if not used:
        raise _refused(_("This code was already used. Ask for a new code."))
    return phone


def _refused(message: str) -> CodeRefused:
    return CodeRefused(message, extra={"fields": {"code": message}})


def phone_challenges_purge(*, now: dt.datetime | None = None) -> int:
    """Delete challenges older than a day, and blank the text of code messages whose code expired:
    the outbox keeps that a code was sent, not the code (nothing reads either after expiry)."""
    now = now or clock.now()
    deleted, _counts = PhoneChallenge.objects.filter(created_at__lt=now - dt.timedelta(days=1)).delete()
    Notification.objects.filter(event_type="phone.code", created_at__lt=now - CODE_LIFETIME).exclude(
        subject=CODE_REMOVED
    ).update(subject=CODE_REMOVED, body="")
    return deleted


# --- The session: a verified phone is remembered for REMEMBER_FOR ---------------------------------


def session_remember_phone(session: SessionBase, phone: str) -> None:
    until = clock.now() + REMEMBER_FOR
    session[SESSION_KEY] = {"phone": phone, "until": until.isoformat()}
    # A new phone in this browser: rotate the session key so a planted session id gains nothing.
    session.cycle_key()


def session_verified_phone(session: SessionBase) -> str:
    """The phone verified in this session within REMEMBER_FOR, or ""."""
    remembered = session.get(SESSION_KEY)
    if not isinstance(remembered, dict):
        return ""
    try:
        until = dt.datetime.fromisoformat(str(remembered.get("until")))
    except ValueError:
        return ""
    if until <= clock.now():
        session.pop(SESSION_KEY, None)
        return ""
    return str(remembered.get("phone") or "")


def session_forget_phone(session: SessionBase) -> None:
    session.pop(SESSION_KEY, None)
