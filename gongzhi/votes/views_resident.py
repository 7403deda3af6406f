"""The owner's pages of a vote, reached by a QR code or link: /v/<vote id>/.

No account: the owner verifies their phone with a one-time code (gongzhi.phones), sees the homes
they vote for, chooses for / against / abstain, confirms, and gets a receipt (the ballot's hash)
they can check later at /v/<id>/verify/. The vote's id is public on purpose: casting needs a
verified owner's phone, and the result is public anyway.

The phone box helpers here are shared with the survey pages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate
from gongzhi.people.models import Person
from gongzhi.phones.models import PhonePurpose
from gongzhi.phones.services import (
    phone_code_send,
    phone_code_verify,
    session_forget_phone,
    session_remember_phone,
    session_verified_phone,
)
from gongzhi.territory.models import Node
from gongzhi.votes.forms import ReceiptForm
from gongzhi.votes.models import Ballot, BallotMethod, Vote, VoteOwner, VotePart, VoteStatus
from gongzhi.votes.services import ballot_cast
from gongzhi.votes.tally import Choice
from gongzhi.votes.views_figures import choice_label, short_code, tally_from_result, tally_view

View = Callable[..., HttpResponseBase]
TEMPLATES = "votes/resident/"
PENDING_KEY = "gongzhi.phone_pending"  # the same key as the doorplate's phone box
RECEIPT_KEY = "gongzhi.vote_receipt.%d"
# The purpose the codes are sent for (phones has no purpose of its own for votes and surveys yet).
PHONE_PURPOSE = PhonePurpose.LOOKUP


def resident_view(view: View) -> View:
    """Domain errors become plain-words pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, Http404):
            return render(request, "tickets/resident/not_found.html", status=404)
        except ApplicationError as error:
            context = {"message": error.message, "back": request.path}
            return render(request, "tickets/resident/error.html", context, status=error.status)

    return wrapper


# --- The phone box (shared with the survey pages) -------------------------------------------------


@dataclass(frozen=True)
class PhoneUrls:
    send: str
    verify: str
    change: str
    back: str  # where the box's forms come back to


def phone_box(request: HttpRequest, urls: PhoneUrls, *, error: str = "", sent_to: str = "") -> dict[str, Any]:
    verified = session_verified_phone(request.session)
    pending = str(request.session.get(PENDING_KEY) or "")
    if not sent_to and not verified and pending:
        sent_to = pending
    return {
        "verified": verified,
        "verified_masked": personal.mask_phone(verified),
        "sent_to": sent_to,
        "sent_masked": personal.mask_phone(sent_to),
        "error": error,
        "urls": urls,
    }


def _message(error: ApplicationError, field: str) -> str:
    fields = error.extra.get("fields") or {}
    return str(fields.get(field) or error.message)


def phone_send_step(request: HttpRequest) -> tuple[str, str]:
    """Send a code to the posted phone: (phone, error)."""
    try:
        sent = phone_code_send(
            phone=request.POST.get("phone", ""), purpose=PHONE_PURPOSE, ip=client_ip(request)
        )
    except (ValidationFailed, RateLimited) as error:
        return "", _message(error, "phone")
    request.session[PENDING_KEY] = sent.phone
    return sent.phone, ""


def phone_verify_step(request: HttpRequest) -> tuple[str, str]:
    """Check the posted code against the pending phone: (verified phone, error)."""
    phone = str(request.session.get(PENDING_KEY) or request.POST.get("phone", ""))
    try:
        verified = phone_code_verify(
            phone=phone, code=request.POST.get("code", ""), purpose=PHONE_PURPOSE, ip=client_ip(request)
        )
    except (ValidationFailed, RateLimited) as error:
        return "", _message(error, "code")
    request.session.pop(PENDING_KEY, None)
    session_remember_phone(request.session, verified)
    return verified, ""


def phone_forget(request: HttpRequest) -> None:
    session_forget_phone(request.session)
    request.session.pop(PENDING_KEY, None)


# --- Helpers --------------------------------------------------------------------------------------


def _vote(vote_id: int) -> Vote:
    """An open or closed vote (a draft is not shown to anyone outside the office)."""
    vote = Vote.objects.select_related("compound").filter(pk=vote_id).exclude(status=VoteStatus.DRAFT).first()
    if vote is None:
        raise NotFound()
    return vote


def _urls(vote: Vote) -> PhoneUrls:
    return PhoneUrls(
        send=reverse("votes:phone_send", args=[vote.pk]),
        verify=reverse("votes:phone_verify", args=[vote.pk]),
        change=reverse("votes:phone_change", args=[vote.pk]),
        back=reverse("votes:ballot", args=[vote.pk]),
    )


@dataclass
class Home:
    address: str
    area: str


@dataclass
class OwnerChoice:
    person_id: int
    name: str
    homes: list[Home]
    area: str
    current: str  # the counted choice's label, or ""


def owners_for_phone(vote: Vote, phone: str) -> list[OwnerChoice]:
    """The owners in this vote registered with this phone, and the homes each votes for."""
    people = list(Person.objects.filter(phone=phone).only("pk", "name"))
    if not people:
        return []
    keys: dict[int, set[str]] = {}
    for person_id, key in VoteOwner.objects.filter(vote=vote, person__in=people).values_list(
        "person_id", "owner_key"
    ):
        keys.setdefault(person_id, set()).add(key)
    if not keys:
        return []
    all_keys = set().union(*keys.values())
    parts = list(
        VotePart.objects.filter(vote=vote, owner_key__in=all_keys, developer_unsold=False)
        .select_related("household")
        .order_by("household__path")
    )
    parents = dict(
        Node.objects.filter(path__in={p.household.path[: -Node.steplen] for p in parts}).values_list(
            "path", "name"
        )
    )
    counted = dict(
        Ballot.objects.filter(part__in=parts, superseded_by__isnull=True).values_list("part_id", "choice")
    )
    owners: list[OwnerChoice] = []
    for person in people:
        if person.pk not in keys:
            continue
        mine = [p for p in parts if p.owner_key in keys[person.pk]]
        homes = [
            Home(
                f"{vote.compound.name} {parents.get(p.household.path[: -Node.steplen], '')} {p.household.name}",
                f"{p.area:.2f}",
            )
            for p in mine
        ]
        choices = {counted.get(p.pk, "") for p in mine}
        current = choices.pop() if len(choices) == 1 else ""
        owners.append(
            OwnerChoice(
                person.pk,
                person.name,
                homes,
                f"{sum((p.area for p in mine), Decimal(0)):.2f}",
                choice_label(current) if current else "",
            )
        )
    return owners


def _timing(vote: Vote) -> str:
    """ "" when ballots are accepted now, else why not: not_yet | ended."""
    now = clock.now()
    if vote.status != VoteStatus.OPEN:
        return "ended"
    if now < vote.opens_at:
        return "not_yet"
    if now >= vote.closes_at:
        return "ended"
    return ""


CHOICES = [Choice.FOR, Choice.AGAINST, Choice.ABSTAIN]


def _choices() -> list[tuple[str, str]]:
    return [(c.value, choice_label(c.value)) for c in CHOICES]


# --- The ballot page ------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@resident_view
def ballot(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    if vote.status == VoteStatus.CLOSED:
        return HttpResponseRedirect(reverse("votes:result", args=[vote.pk]))
    timing = _timing(vote)
    phone = session_verified_phone(request.session)
    owners = owners_for_phone(vote, phone) if phone and not timing else []
    context: dict[str, Any] = {
        "vote": vote,
        "timing": timing,
        "phone": phone,
        "box": phone_box(request, _urls(vote)),
        "owners": owners,
        "choices": _choices(),
    }
    if request.method == "GET" or timing or not phone:
        if request.method == "POST":
            return _refused(
                request, vote, _refusal_for_timing(vote) if timing else _("Verify your mobile phone first.")
            )
        return render(request, TEMPLATES + "ballot.html", context)
    return _ballot_post(request, vote, owners, context)


def _refusal_for_timing(vote: Vote) -> str:
    return _("Voting is not open: ballots are accepted from %(opens)s until %(closes)s.") % {
        "opens": clock.localtime(vote.opens_at).strftime("%Y-%m-%d %H:%M"),
        "closes": clock.localtime(vote.closes_at).strftime("%Y-%m-%d %H:%M"),
    }


def _refused(request: HttpRequest, vote: Vote, message: str, status: int = 409) -> HttpResponse:
    context = {"vote": vote, "message": message, "back": reverse("votes:ballot", args=[vote.pk])}
    return render(request, TEMPLATES + "refused.html", context, status=status)


def _ballot_post(
    request: HttpRequest, vote: Vote, owners: list[OwnerChoice], context: dict[str, Any]
) -> HttpResponse:
    choice = request.POST.get("choice", "")
    person_raw = request.POST.get("owner", "")
    owner = next((o for o in owners if str(o.person_id) == person_raw), None)
    if owner is None and len(owners) == 1 and not person_raw:
        owner = owners[0]
    if choice not in {c.value for c in CHOICES}:
        context["error"] = _("Choose for, against or abstain.")
        return render(request, TEMPLATES + "ballot.html", context, status=422)
    if request.POST.get("step") != "cast":
        if owner is None:
            if owners:
                context["error"] = _("Choose whose homes you vote for.")
                return render(request, TEMPLATES + "ballot.html", context, status=422)
            return _refused(
                request,
                vote,
                _("Only the owners of this compound's homes may vote.")
                + " "
                + _("This phone is not registered for an owner of %(compound)s. Ask your community office.")
                % {"compound": vote.compound.name},
                status=403,
            )
        context.update(
            {
                "owner": owner,
                "choice": choice,
                "choice_label": choice_label(choice),
                "submit_key": secrets.token_hex(16),
            }
        )
        return render(request, TEMPLATES + "confirm.html", context)
    # The cast itself: the service refuses non-owners, a closed vote, a repeated submission.
    try:
        cast = ballot_cast(
            vote_id=vote.pk,
            choice=choice,
            method=BallotMethod.IN_PERSON,
            person_id=owner.person_id if owner is not None else None,
            submit_key=request.POST.get("submit_key", "")[:64],
        )
    except ApplicationError as error:
        if isinstance(error, NotFound):
            raise
        return _refused(request, vote, str(error.message), status=error.status)
    request.session[RECEIPT_KEY % vote.pk] = {
        "receipt": cast.receipt,
        "choice": choice,
        "homes": len(cast.ballots),
        "replaced": cast.replaced,
    }
    return HttpResponseRedirect(reverse("votes:receipt", args=[vote.pk]))


@never_cache
@require_GET
@resident_view
def receipt(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    saved = request.session.get(RECEIPT_KEY % vote.pk)
    if not isinstance(saved, dict) or not saved.get("receipt"):
        return HttpResponseRedirect(reverse("votes:ballot", args=[vote.pk]))
    return render(
        request,
        TEMPLATES + "receipt.html",
        {
            "vote": vote,
            "receipt": saved["receipt"],
            "short": short_code(saved["receipt"]),
            "choice_label": choice_label(saved.get("choice", "")),
            "homes": saved.get("homes", 1),
            "replaced": saved.get("replaced", 0),
        },
    )


# --- Phone verification ---------------------------------------------------------------------------


@require_POST
@resident_view
def phone_send(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    _phone, error = phone_send_step(request)
    if error:
        context = {"vote": vote, "box": phone_box(request, _urls(vote), error=error), "timing": _timing(vote)}
        return render(request, TEMPLATES + "ballot.html", context, status=422)
    return HttpResponseRedirect(reverse("votes:ballot", args=[vote.pk]) + "#phone-box")


@require_POST
@resident_view
def phone_verify(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    _phone, error = phone_verify_step(request)
    if error:
        box = phone_box(request, _urls(vote), error=error)
        context = {"vote": vote, "box": box, "timing": _timing(vote)}
        return render(request, TEMPLATES + "ballot.html", context, status=422)
    return HttpResponseRedirect(reverse("votes:ballot", args=[vote.pk]))


@require_POST
@resident_view
def phone_change(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    phone_forget(request)
    return HttpResponseRedirect(reverse("votes:ballot", args=[vote.pk]))


# --- Checking a receipt ---------------------------------------------------------------------------


@dataclass
class Finding:
    state: str  # counted | replaced | not_found
    choice: str = ""
    cast_at: Any = None
    replaced_at: Any = None


def find_receipt(vote: Vote, receipt: str) -> Finding:
    if len(receipt) == 64:
        found = Ballot.objects.filter(vote=vote, hash=receipt)
    else:
        found = Ballot.objects.filter(vote=vote, hash__startswith=receipt)
    ballots = list(found.select_related("superseded_by")[:2])
    if len(ballots) != 1:
        return Finding("not_found")
    entry = ballots[0]
    if entry.superseded_by_id is None:
        return Finding("counted", choice_label(entry.choice), entry.cast_at)
    later = entry.superseded_by
    return Finding("replaced", choice_label(entry.choice), entry.cast_at, later.cast_at if later else None)


@never_cache
@require_http_methods(["GET", "POST"])
@resident_view
def verify(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    finding = None
    data = request.POST if request.method == "POST" else (request.GET if request.GET.get("receipt") else None)
    form = ReceiptForm(data)
    if data is not None and form.is_valid():
        ensure_within_rate(name="public_read", key=client_ip(request) or "unknown")
        finding = find_receipt(vote, form.cleaned_data["receipt"])
    return render(
        request,
        TEMPLATES + "verify.html",
        {"vote": vote, "form": form, "finding": finding},
        status=422 if data is not None and not form.is_valid() else 200,
    )


# --- The public result ----------------------------------------------------------------------------


@require_GET
@resident_view
def result(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(vote_id)
    if vote.status == VoteStatus.CLOSED:
        view = tally_view(vote, tally_from_result(vote.result, vote.threshold))  # type: ignore[arg-type]
    else:
        view = None
    record_url = f"/api/v1/votes/{vote.pk}/record" if view else ""
    return render(
        request,
        TEMPLATES + "result.html",
        {
            "vote": vote,
            "view": view,
            "record_url": record_url,
            "record_absolute": request.build_absolute_uri(record_url) if record_url else "",
            "chain_head": (vote.result or {}).get("chain_head", ""),
        },
    )
