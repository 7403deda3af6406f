"""Writes behind the Open311 API: issuing and revoking keys, and posting a service request."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.ratelimit import Rate, rate_for
from gongzhi.open311 import selectors
from gongzhi.open311.models import MAX_POSTS_PER_MINUTE, Open311Key, Open311Submission
from gongzhi.territory.models import Node, Organization
from gongzhi.tickets.models import Channel, QuestionType, Ticket
from gongzhi.tickets.routing import memoized
from gongzhi.tickets.services.intake import TicketInput, ticket_submit

KEY_PREFIX = "o311_"
_LAST_USED_EVERY = dt.timedelta(minutes=1)
_CJK = re.compile(r"[\u3400-\u9fff]")


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _ensure_may_manage_keys(actor: Actor | None) -> None:
    """Keys are the platform's, issued by a superuser (admin) or an operator (the CLI: actor None)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied()


@dataclass(frozen=True)
class IssuedKey:
    key: Open311Key
    secret: str  # shown once, never stored


def _organization(organization_id: int | None) -> Organization:
    if organization_id is None:
        message = _("Name the organization that runs the client: it answers for what the key posts.")
        raise ValidationFailed(message, extra={"fields": {"organization": message}})
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound(_("No such organization."))
    return organization


def _posts_per_minute(value: int | None) -> int | None:
    """None (the platform's default) or a whole number of posts a minute within the model's bounds."""
    if value is None:
        return None
    if not 1 <= value <= MAX_POSTS_PER_MINUTE:
        message = _("Posts per minute must be between 1 and %(max)d, or empty for the default.") % {
            "max": MAX_POSTS_PER_MINUTE
        }
        raise ValidationFailed(message, extra={"fields": {"posts_per_minute": message}})
    return value


@transaction.atomic
def open311_key_issue(
    *, actor: Actor | None, name: str, organization_id: int | None, posts_per_minute: int | None = None
) -> IssuedKey:
    """Create a key for an organization and return it with its secret; only the secret's SHA-256 is kept."""
    _ensure_may_manage_keys(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("Give the key a name of at most 100 characters."))
    organization = _organization(organization_id)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311Key.objects.create(
        organization=organization,
        name=name,
        key_hash=_key_hash(secret),
        prefix=secret[len(KEY_PREFIX) : len(KEY_PREFIX) + 8],
        posts_per_minute=_posts_per_minute(posts_per_minute),
        created_at=clock.now(),
        created_by=actor.user if actor is not None else None,
    )
    audit_record(actor=actor, action=AuditAction.TOKEN, target=key, target_repr=str(key))
    return IssuedKey(key=key, secret=secret)


@transaction.atomic
def open311_key_update(
    *, actor: Actor | None, key_id: int, organization_id: int | None, posts_per_minute: int | None
) -> Open311Key:
    """Move a key to another organization or change its rate limit; the secret never changes."""
    _ensure_may_manage_keys(actor)
    key = Open311Key.objects.select_for_update().filter(pk=key_id).first()
    if key is None:
        raise NotFound()
    organization = _organization(organization_id)
    posts = _posts_per_minute(posts_per_minute)
    changes: dict[str, Any] = {}
    if key.organization_id != organization.pk:
        changes["organization"] = [key.organization_id, organization.pk]
    if key.posts_per_minute != posts:
        changes["posts_per_minute"] = [key.posts_per_minute, posts]
    if changes:
        key.organization, key.posts_per_minute = organization, posts
        key.save(update_fields=["organization", "posts_per_minute"])  # post_save drops the memoized key
        audit_record(actor=actor, action=AuditAction.UPDATE, target=key, changes=changes)
    return key


def open311_post_rate(key: Open311Key) -> Rate:
    """How many requests `key` may post: its own limit a minute, or the platform's default."""
    if key.posts_per_minute is not None:
        return Rate(count=key.posts_per_minute, seconds=60)
    return rate_for("open311_post")


@transaction.atomic
def open311_key_revoke(*, actor: Actor | None, key_id: int) -> Open311Key:
    """Revoke a key at once; posts with it answer 403 from now on. Revoking twice changes nothing."""
    _ensure_may_manage_keys(actor)
    key = Open311Key.objects.select_for_update().filter(pk=key_id).first()
    if key is None:
        raise NotFound()
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, target=key, changes={"revoked_at": str(key.revoked_at)}
        )
    return key


def open311_key_authenticate(secret: str) -> Open311Key | None:
    """The active key behind `secret`, or None (unknown or revoked). Marks it used (at most once a minute).

    Keys are memoized by hash for 30 s per process (gongzhi.tickets.routing.memoized): revoking a
    key starts a new memo generation, which every process sharing the cache (Redis, the file cache)
    sees at its next post; with a per-process cache a revocation takes effect within 30 s.
    """
    secret = (secret or "").strip()
    if not secret.startswith(KEY_PREFIX):
        return None
    digest = _key_hash(secret)
    key = memoized(
        ("open311-key", digest),
        lambda: Open311Key.objects.filter(key_hash=digest, revoked_at__isnull=True).first(),
    )
    if key is None:
        return None
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_EVERY:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- POST requests -------------------------------------------------------------------------


@dataclass
class Open311Post:
    """The arguments of POST requests.{format}, as the client sent them (strings)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""


def _coordinate(text: str, name: str, limit: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) > limit:
        raise ValidationFailed(
            _("%(name)s must be a number between -%(limit)d and %(limit)d (WGS84).")
            % {"name": name, "limit": limit}
        )
    return value.quantize(Decimal("0.000001"))


def _location(data: Open311Post) -> tuple[Node, Decimal | None, Decimal | None]:
    """The address node and the point, from address_id, else address_string, else lat & long."""
    latitude = longitude = None
    if data.lat.strip() or data.long.strip():
        if not (data.lat.strip() and data.long.strip()):
            raise ValidationFailed(_("lat and long must be sent together."))
        latitude = _coordinate(data.lat, "lat", 90)
        longitude = _coordinate(data.long, "long", 180)
    if data.address_id.strip():
        return selectors.node_for_address_id(data.address_id.strip()), latitude, longitude
    if data.address_string.strip():
        node = selectors.node_for_address_string(data.address_string)
        if node is not None:
            return node, latitude, longitude
        if latitude is None:
            raise ValidationFailed(
                _("address_string does not name one known address; send lat and long, or an address_id.")
            )
    if latitude is None or longitude is None:
        raise ValidationFailed(_("A location is required: lat and long, address_string or address_id."))
    node = selectors.node_near(latitude, longitude)
    if node is None:
        raise ValidationFailed(
            _("No known address lies within %(metres)d m of lat/long; send an address_id.")
            % {"metres": selectors.NEAREST_MAX_METRES}
        )
    return node, latitude, longitude


def _contact(data: Open311Post) -> dict[str, str]:
    errors: dict[str, str] = {}
    email = data.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Not a valid e-mail address.")
    media_url = data.media_url.strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = _("Must be an http or https URL.")
        if len(media_url) > 500:
            errors["media_url"] = _("At most 500 characters.")
    for name in ("device_id", "account_id"):
        if len(getattr(data, name).strip()) > 100:
            errors[name] = _("At most 100 characters.")
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), extra={"fields": errors})
    return {
        "email": email,
        "media_url": media_url,
        "device_id": data.device_id.strip(),
        "account_id": data.account_id.strip(),
    }


def _reporter_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if _CJK.search(first + last):
        return last + first  # 张 + 秀英
    return " ".join(part for part in (first, last) if part)


def _answers(category_questions: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    """attribute[CODE] values; a multivaluelist answer is a list, anything else its single value."""
    answers: dict[str, Any] = {}
    for question in category_questions:
        values = attributes.get(question.code)
        if values is None:
            continue
        values = values if isinstance(values, list) else [values]
        answers[question.code] = values if question.datatype == QuestionType.MULTIPLE else values[-1]
    return answers


def _submit_key(key: Open311Key, data: Open311Post, now: dt.datetime) -> str:
    """One key per (API key, day, device/account and body): a client retrying a post gets its first
    ticket back; the same words posted again on another day make a new ticket."""
    body = json.dumps(asdict(data), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"open311|{key.pk}|{now:%Y-%m-%d}|{body}".encode()).hexdigest()


def open311_request_create(*, key: Open311Key, data: Open311Post) -> tuple[Ticket, Open311Submission]:
    """File the ticket an Open311 client posted (channel "api"); a retried post returns the first one."""
    if not data.service_code.strip():
        raise ValidationFailed(_("service_code was not provided."))
    category = selectors.service_get(data.service_code.strip())
    node, latitude, longitude = _location(data)
    contact = _contact(data)
    description = data.description.strip()
    if len(description) > 4000:
        raise ValidationFailed(_("description is limited to 4,000 characters."))
    if not description:
        # Open311 makes the description optional; a ticket needs words, so name the matter and place.
        description = f"{category.name}: {selectors.places_of([node], with_household=True)[node.pk].address}"
    now = clock.now()
    created: list[Open311Submission] = []

    def record(ticket: Ticket) -> None:
        # In the ticket's own transaction: the two rows commit together.
        created.append(Open311Submission.objects.create(ticket=ticket, key=key, created_at=now, **contact))

    ticket = ticket_submit(
        actor=None,
        on_created=record,
        data=TicketInput(
            node_id=node.pk,
            node=node,
            category_code=category.code,
            description=description,
            channel=Channel.API,
            answers=_answers(category.questions.all(), data.attributes),
            reporter_name=_reporter_name(data.first_name, data.last_name),
            reporter_phone=data.phone.strip(),
            latitude=latitude,
            longitude=longitude,
            submit_key=_submit_key(key, data, now),
        ),
    )
    if created and created[0].ticket_id == ticket.pk:
        return ticket, created[0]
    # A retry returns the first ticket; get_or_create also fills in a row missing from before.
    submission, _created = Open311Submission.objects.get_or_create(
        ticket=ticket, defaults={"key": key, "created_at": now, **contact}
    )
    return ticket, submission
