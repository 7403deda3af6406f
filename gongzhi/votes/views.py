"""Owners' votes in the staff web: list, create, open, enter ballots, the live tally, close.

Thin: selectors read (out of scope → 404), services write; a refusal from a service comes back
as a message on the page it was made from and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import segno
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.people.models import Person
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.votes.forms import BallotEntryForm, VoteForm, clean_document, local_default
from gongzhi.votes.models import Ballot, Matter, Vote, VoteOwner, VotePart, VoteStatus, threshold_for
from gongzhi.votes.selectors import vote_get, vote_list
from gongzhi.votes.services import (
    EARLY_CLOSE_REASON_MIN,
    ballot_cast,
    vote_close,
    vote_create,
    vote_open,
    vote_tally,
)
from gongzhi.votes.tally import DEVELOPER, Threshold
from gongzhi.votes.views_figures import choice_label, tally_view, threshold_label

OWNER_RESULTS = 20
RECENT_BALLOTS = 30


def _can_run(actor: Actor, vote: Vote) -> bool:
    return actor.can(Perm.RUN_VOTES, vote.compound.path)


def _compounds_to_run(actor: Actor) -> list[Node]:
    return list(
        Node.objects.filter(scope_q(actor, "path", Perm.RUN_VOTES), kind=NodeKind.COMPOUND).order_by("path")[
            :1000
        ]
    )


def _field_errors(form: Any, error: ApplicationError) -> None:
    fields = dict(error.extra.get("fields") or {})
    if not fields:
        form.add_error(None, str(error.message))
    for name, message in fields.items():
        form.add_error(name if name in form.fields else None, str(message))


# --- List and create ------------------------------------------------------------------------------


@staff_view
@require_GET
def vote_list_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    votes = vote_list(actor=actor)
    compounds = list(
        Node.objects.filter(pk__in=votes.values("compound_id")).order_by("path").only("pk", "name")
    )
    chosen = next((c for c in compounds if str(c.pk) == request.GET.get("compound", "")), None)
    if chosen is not None:
        votes = votes.filter(compound=chosen)
    return render(
        request,
        "votes/list.html",
        {
            "votes": list(votes[:200]),
            "compounds": compounds,
            "chosen": chosen,
            "can_create": actor.has_perm_anywhere(Perm.RUN_VOTES),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def vote_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    actor.ensure_has_perm(Perm.RUN_VOTES)
    compounds = _compounds_to_run(actor)
    choices = [(c.pk, c.name) for c in compounds]
    if request.method == "POST":
        form = VoteForm(request.POST, compounds=choices)
        if form.is_valid():
            data = form.cleaned_data
            try:
                vote = vote_create(
                    actor=actor,
                    compound_id=data["compound"],
                    question=data["question"],
                    description=data["description"],
                    matter=data["matter"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                )
            except ValidationFailed as error:
                _field_errors(form, error)
            else:
                messages.success(request, _("The vote is prepared. Check it, then open it."))
                return HttpResponseRedirect(reverse("votes:detail", args=[vote.pk]))
        status = 422
    else:
        now = clock.now().replace(minute=0, second=0, microsecond=0)
        initial = {
            "compound": request.GET.get("compound", ""),
            "matter": Matter.REBUILD.value,
            "opens_at": local_default(now + dt.timedelta(hours=1)),
            "closes_at": local_default(now + dt.timedelta(days=14, hours=1)),
        }
        form = VoteForm(initial=initial, compounds=choices)
        status = 200
    thresholds = [
        {"value": value, "label": str(label), "rule": threshold_label(threshold_for(value))}
        for value, label in Matter.choices
    ]
    return render(
        request,
        "votes/new.html",
        {"form": form, "thresholds": thresholds, "has_compounds": bool(compounds)},
        status=status,
    )


# --- Detail, open, close --------------------------------------------------------------------------


@dataclass
class Electorate:
    parts: int = 0
    area: Decimal = Decimal(0)
    headcount: int = 0
    developer_parts: int = 0
    without_owner: int = 0
    missing_area: int = 0  # before opening: households without a registered floor area
    households: int = 0  # before opening
    names_missing_area: list[str] = field(default_factory=list)


def electorate_of(vote: Vote) -> Electorate:
    if vote.status == VoteStatus.DRAFT:
        households = Node.objects.filter(subtree_q("path", vote.compound.path), kind=NodeKind.HOUSEHOLD)
        figures = households.aggregate(
            n=Count("pk"), area=Sum("floor_area"), missing=Count("pk", filter=Q(floor_area__isnull=True))
        )
        return Electorate(
            households=figures["n"] or 0,
            area=figures["area"] or Decimal(0),
            missing_area=figures["missing"] or 0,
            names_missing_area=list(
                households.filter(floor_area__isnull=True)
                .order_by("path")
                .values_list("name", flat=True)[:10]
            ),
        )
    parts = vote.parts.all()
    figures = parts.aggregate(
        n=Count("pk"),
        area=Sum("area"),
        developer=Count("pk", filter=Q(developer_unsold=True)),
        owners=Count("owner_key", distinct=True),
    )
    without_owner = sum(
        1 for ids, unsold in parts.values_list("person_ids", "developer_unsold") if not ids and not unsold
    )
    return Electorate(
        parts=figures["n"] or 0,
        area=figures["area"] or Decimal(0),
        headcount=figures["owners"] or 0,
        developer_parts=figures["developer"] or 0,
        without_owner=without_owner,
    )


def _resident_url(request: HttpRequest, vote: Vote) -> str:
    return request.build_absolute_uri(reverse("votes:ballot", args=[vote.pk]))


@staff_view
@require_GET
def vote_detail(request: HttpRequest, vote_id: int) -> HttpResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    return render(request, "votes/detail.html", _detail_context(request, actor, vote))


def _detail_context(request: HttpRequest, actor: Actor, vote: Vote) -> dict[str, Any]:
    ballots = list(
        vote.ballots.select_related("part__household", "entered_by").order_by("-seq")[:RECENT_BALLOTS]
    )
    for ballot in ballots:
        ballot.choice_label = choice_label(ballot.choice)  # type: ignore[attr-defined]
    return {
        "vote": vote,
        "can_run": _can_run(actor, vote),
        "electorate": electorate_of(vote),
        "threshold_label": threshold_label(vote.threshold),
        "ballots": ballots,
        "resident_url": _resident_url(request, vote),
        "is_three_quarters": vote.threshold == Threshold.THREE_QUARTERS,
        "now": clock.now(),
    }


@staff_view
@require_POST
def vote_open_view(request: HttpRequest, vote_id: int) -> HttpResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    try:
        vote = vote_open(actor=actor, vote_id=vote.pk)
    except (ValidationFailed, ApplicationError) as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, str(error.message))
    else:
        electorate = electorate_of(vote)
        messages.success(
            request,
            _("Voting is open. The electorate is frozen: %(parts)d homes, %(area)s m², %(owners)d owners.")
            % {"parts": electorate.parts, "area": f"{electorate.area:.2f}", "owners": electorate.headcount},
        )
    return HttpResponseRedirect(reverse("votes:detail", args=[vote.pk]))


@staff_view
@require_http_methods(["GET", "POST"])
def vote_close_view(request: HttpRequest, vote_id: int) -> HttpResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    early = clock.now() < vote.closes_at
    reason = request.POST.get("reason", "") if request.method == "POST" else ""
    reason_error = ""
    status = 200
    if request.method == "POST":
        status = 422
        if early and request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that you close voting early."))
        else:
            try:
                vote_close(actor=actor, vote_id=vote.pk, force=early, reason=reason)
            except ValidationFailed as error:
                reason_error = str((error.extra.get("fields") or {}).get("reason") or error.message)
            except ApplicationError as error:
                if isinstance(error, NotFound):
                    raise
                messages.error(request, str(error.message))
            else:
                messages.success(request, _("Voting is closed and the result is published."))
                return HttpResponseRedirect(reverse("votes:detail", args=[vote.pk]))
    context = {
        "vote": vote,
        "early": early,
        "tally": tally_view(vote, vote_tally(vote)),
        "reason": reason,
        "reason_error": reason_error,
        "reason_min": EARLY_CLOSE_REASON_MIN,
    }
    return render(request, "votes/close.html", context, status=status)


# --- The live tally -------------------------------------------------------------------------------


@staff_view
@require_GET
def vote_tally_view(request: HttpRequest, vote_id: int) -> HttpResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    if vote.status == VoteStatus.DRAFT:
        raise NotFound()
    context = {
        "vote": vote,
        "view": tally_view(vote, vote_tally(vote)),
        "live_url": reverse("votes:tally", args=[vote.pk]),
        "live": vote.status == VoteStatus.OPEN,
        "updated": clock.now(),
    }
    if getattr(request, "htmx", False):
        return render(request, "votes/_tally.html", context)
    return render(request, "votes/tally.html", context)


# --- Ballots entered by staff ---------------------------------------------------------------------


@dataclass
class OwnerRow:
    value: str  # person id, or "developer"
    names: str
    homes: str
    area: Decimal
    current: str  # the counted choice ("" when none)


def _addresses(parts: list[VotePart]) -> str:
    return "、".join(f"{p.household.parent_name} {p.household.name}".strip() for p in parts)  # type: ignore[attr-defined]


def _candidate_keys(vote: Vote, query: str, chosen: str) -> set[str]:
    """Owner keys worth showing for `query`, found in the database (a compound may have 20,000 homes)."""
    keys: set[str] = set()
    if chosen == "developer":
        keys.add(DEVELOPER)
    elif chosen.isdigit():
        keys |= set(
            VoteOwner.objects.filter(vote=vote, person_id=int(chosen)).values_list("owner_key", flat=True)
        )
    words = query.split()
    if not words:
        return keys
    word = max(words, key=len)
    people = Person.objects.filter(
        pk__in=VoteOwner.objects.filter(vote=vote).values("person_id"), name__icontains=word
    ).values("pk")
    limit = OWNER_RESULTS * 5
    keys |= set(
        VoteOwner.objects.filter(vote=vote, person__in=people).values_list("owner_key", flat=True)[:limit]
    )
    buildings = Node.objects.filter(
        subtree_q("path", vote.compound.path), kind=NodeKind.BUILDING, name__icontains=word
    ).values_list("path", flat=True)[:5]
    homes = vote.parts.filter(household__name__icontains=word)
    for path in buildings:
        homes = homes | vote.parts.filter(subtree_q("household__path", path))
    keys |= set(homes.values_list("owner_key", flat=True)[:limit])
    if word in _("The developer (unsold homes)") or word.lower() in "developer":
        keys.add(DEVELOPER)
    return keys


def owner_rows(vote: Vote, query: str, chosen: str = "") -> list[OwnerRow]:
    """Owners in the vote whose name or home matches every word of `query` (the developer too),
    and the owner already chosen."""
    keys = _candidate_keys(vote, query.strip(), chosen)
    if not keys:
        return []
    parts = list(
        vote.parts.filter(owner_key__in=keys).select_related("household").order_by("household__path")
    )
    # The building of each home, in one query: "1号楼 101".
    paths = {p.household.path[: -Node.steplen] for p in parts}
    names_by_path = dict(Node.objects.filter(path__in=paths).values_list("path", "name"))
    for part in parts:
        part.household.parent_name = names_by_path.get(part.household.path[: -Node.steplen], "")  # type: ignore[attr-defined]
    counted = dict(
        vote.ballots.filter(part__in=parts, superseded_by__isnull=True).values_list("part_id", "choice")
    )
    keys_of: dict[int, list[str]] = {}
    for person_id, key in VoteOwner.objects.filter(vote=vote, owner_key__in=keys).values_list(
        "person_id", "owner_key"
    ):
        keys_of.setdefault(person_id, []).append(key)
    people = {p.pk: p.name for p in Person.objects.filter(pk__in=keys_of.keys()).only("pk", "name")}
    parts_of_key: dict[str, list[VotePart]] = {}
    for part in parts:
        parts_of_key.setdefault(part.owner_key, []).append(part)
    words = query.split()
    candidates: list[tuple[str, str, list[VotePart]]] = [
        (str(person_id), people.get(person_id, ""), [p for key in mine for p in parts_of_key.get(key, [])])
        for person_id, mine in keys_of.items()
    ]
    if parts_of_key.get(DEVELOPER):
        candidates.append(("developer", _("The developer (unsold homes)"), parts_of_key[DEVELOPER]))
    rows: list[OwnerRow] = []
    for value, name, mine in candidates:
        homes = _addresses(mine)
        searchable = f"{name} {homes} {'developer' if value == 'developer' else ''}".lower()
        if value != chosen and not all(word.lower() in searchable for word in words):
            continue
        choices = {counted.get(p.pk, "") for p in mine}
        current = choices.pop() if len(choices) == 1 else ""
        rows.append(OwnerRow(value, name, homes, sum((p.area for p in mine), Decimal(0)), current))
    rows.sort(key=lambda r: (r.value != chosen, r.value == "developer", r.homes))
    return rows[:OWNER_RESULTS]


def _with_labels(rows: list[OwnerRow]) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "current_label": choice_label(row.current) if row.current else "",
            "area": f"{row.area:.2f}",
        }
        for row in rows
    ]


@staff_view
@require_GET
def vote_owners(request: HttpRequest, vote_id: int) -> HttpResponse:
    """The owner picker's results (htmx), searched by name or home."""
    vote = vote_get(actor=request_actor(request), vote_id=vote_id)
    query = request.GET.get("q", "")
    chosen = request.GET.get("owner", "")
    rows = owner_rows(vote, query, chosen) if query.strip() else []
    return render(
        request, "votes/_owners.html", {"rows": _with_labels(rows), "query": query, "chosen": chosen}
    )


@staff_view
@require_http_methods(["GET", "POST"])
def ballot_new(request: HttpRequest, vote_id: int) -> HttpResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    actor.ensure_can(Perm.RUN_VOTES, vote.compound.path)
    query = request.POST.get("q", "") if request.method == "POST" else request.GET.get("q", "")
    status = 200
    if request.method == "POST":
        form = BallotEntryForm(request.POST, request.FILES)
        if form.is_valid():
            result = _enter_ballot(request, actor, vote, form)
            if result is not None:
                return result
        status = 422
    else:
        form = BallotEntryForm(initial={"submit_key": secrets.token_hex(16)})
    chosen = form["owner"].value() or request.GET.get("owner", "")
    rows = owner_rows(vote, query, chosen) if (query.strip() or chosen) else []
    return render(
        request,
        "votes/ballot_new.html",
        {
            "vote": vote,
            "form": form,
            "query": query,
            "rows": _with_labels(rows),
            "chosen": chosen,
            "is_open": vote.status == VoteStatus.OPEN,
            "has_developer": vote.parts.filter(developer_unsold=True).exists(),
        },
        status=status,
    )


def _enter_ballot(
    request: HttpRequest, actor: Actor, vote: Vote, form: BallotEntryForm
) -> HttpResponse | None:
    data = form.cleaned_data
    document = None
    try:
        if data.get("document"):
            document = clean_document(data["document"])
        owner = data["owner"]
        cast = ballot_cast(
            vote_id=vote.pk,
            choice=data["choice"],
            method=data["method"],
            person_id=None if owner == "developer" else int(owner),
            developer=owner == "developer",
            actor=actor,
            document=document,
            proxy_name=data.get("proxy_name", ""),
            submit_key=data.get("submit_key", ""),
        )
    except ApplicationError as error:
        if isinstance(error, NotFound):
            raise
        _field_errors(form, error)
        return None
    note = (
        _("This ballot replaces the owner's earlier ballot.")
        if cast.replaced
        else _("The ballot is counted.")
    )
    messages.success(
        request,
        ngettext(
            "%(note)s %(count)d home, receipt %(receipt)s.",
            "%(note)s %(count)d homes, receipt %(receipt)s.",
            len(cast.ballots),
        )
        % {"note": note, "count": len(cast.ballots), "receipt": cast.receipt[:12]},
    )
    return HttpResponseRedirect(reverse("votes:ballot_new", args=[vote.pk]))


@staff_view
@require_GET
def ballot_document(request: HttpRequest, vote_id: int, ballot_id: int) -> FileResponse:
    actor = request_actor(request)
    vote = vote_get(actor=actor, vote_id=vote_id)
    actor.ensure_can(Perm.RUN_VOTES, vote.compound.path)
    ballot = Ballot.objects.filter(vote=vote, pk=ballot_id).exclude(document="").first()
    if ballot is None:
        raise NotFound()
    is_pdf = (ballot.document.name or "").endswith(".pdf")
    response = FileResponse(
        ballot.document.open("rb"), content_type="application/pdf" if is_pdf else "image/jpeg"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@staff_view
@require_GET
def vote_qr(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = vote_get(actor=request_actor(request), vote_id=vote_id)
    buffer = io.BytesIO()
    segno.make_qr(_resident_url(request, vote), error="m").save(
        buffer, kind="svg", scale=6, border=2, title=vote.question
    )
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
