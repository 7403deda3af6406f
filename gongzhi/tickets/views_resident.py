"""The resident's pages: the doorplate, a new ticket, following and rating it, "my tickets".

Made for an 80-year-old on a cheap phone: no account, a verified phone instead, few words, big
targets. Every step after the doorplate keeps the plate's token in its address, and the address
(node) always comes from the plate, never from the client.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core import personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.ratelimit import RateLimited, client_ip
from gongzhi.doorplates.models import Doorplate
from gongzhi.doorplates.services import doorplate_resolve
from gongzhi.phones.models import PhonePurpose
from gongzhi.phones.services import (
    phone_code_send,
    phone_code_verify,
    session_forget_phone,
    session_remember_phone,
    session_verified_phone,
)
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.forms_resident import RatingForm, ResidentTicketForm
from gongzhi.tickets.images import clean_photo
from gongzhi.tickets.models import (
    Category,
    Channel,
    EventAction,
    Rating,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketPhoto,
)
from gongzhi.tickets.services.handling import ticket_for_token, ticket_rate
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.suggest import popular_category_ids, suggest_categories
from gongzhi.tickets.workflow import Level, TicketState

View = Callable[..., HttpResponseBase]
TEMPLATES = "tickets/resident/"
# The kinds a resident files from the doorplate, in the order of the plate's buttons.
FILING_KINDS = (TicketKind.HELP, TicketKind.AFFAIRS, TicketKind.VOICE)
# The address in words names these levels, from the compound down (the community is shown apart).
ADDRESS_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE, NodeKind.HOUSEHOLD)
MY_TICKETS_LIMIT = 30


def resident_view(view: View) -> View:
    """Domain errors become plain-words pages: a forged or old code is "not found", kindly."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, Http404):
            return render(request, TEMPLATES + "not_found.html", status=404)
        except ApplicationError as error:
            context = {"message": error.message, "back": request.path}
            return render(request, TEMPLATES + "error.html", context, status=error.status)

    return wrapper


# --- Helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    community: str
    address: str
    community_code: str


def place_of(node: Node) -> Place:
    """The address in words: "春都华府 1号楼 2单元", and its community."""
    paths = [node.path[:end] for end in range(node.steplen, len(node.path) + 1, node.steplen)]
    line = list(Node.objects.filter(path__in=paths).order_by("depth").only("name", "kind", "code"))
    community = next((n for n in line if n.kind == NodeKind.COMMUNITY), None)
    words = [n.name for n in line if n.kind in ADDRESS_KINDS] or [node.name]
    return Place(
        community=community.name if community else "",
        address=" ".join(words),
        community_code=community.code if community else "",
    )


def board_url(community_code: str) -> str:
    """The community's public board, when that page exists in this installation."""
    if not community_code:
        return ""
    url = f"/board/{community_code}/"
    try:
        resolve(url)
    except Resolver404:
        return ""
    return url


def _plate(token: str) -> Doorplate:
    return doorplate_resolve(token)


def _kind(kind: str) -> TicketKind:
    if kind not in {k.value for k in FILING_KINDS}:
        raise NotFound()
    return TicketKind(kind)


def _categories(kind: str) -> list[Category]:
    return list(Category.objects.filter(is_active=True, kind=kind).order_by("order", "code"))


# Categories shown at once on the form; the others wait behind "more", in their groups.
FIRST_CATEGORIES = 6


@dataclass(frozen=True)
class CategoryChoices:
    """The category question, made short: the likely ones first, the rest grouped behind "more"."""

    first: list[Category]
    more: list[tuple[str, list[Category]]]  # (group name, its categories), in the categories' order

    @property
    def more_count(self) -> int:
        return sum(len(group) for _name, group in self.more)


def category_choices(
    categories: list[Category], *, chosen: Category | None, suggested: list[Category]
) -> CategoryChoices:
    """The chosen category, then those suggested by the description, then the ones residents chose
    most lately (by the back office's order while there are no tickets), up to FIRST_CATEGORIES."""
    rank = {pk: position for position, pk in enumerate(popular_category_ids())}
    by_popularity = sorted(categories, key=lambda c: (rank.get(c.pk, len(rank)), c.order, c.code))
    first: list[Category] = []
    for category in [*([chosen] if chosen else []), *suggested, *by_popularity]:
        if category in categories and category not in first and len(first) < FIRST_CATEGORIES:
            first.append(category)
    groups: dict[str, list[Category]] = {}
    for category in categories:
        if category not in first:
            groups.setdefault(category.group or _("Other matters"), []).append(category)
    return CategoryChoices(first=first, more=list(groups.items()))


def suggestions_for(text: str, kind: str) -> list[Category]:
    """Suggested categories for a description; none when the suggester fails."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    try:
        return list(suggest_categories(text, kind))[:3]
    except Exception:  # a suggestion is a nicety: never let it break the resident's form
        return []


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def _error_message(error: ApplicationError, field: str) -> str:
    fields = error.extra.get("fields") or {}
    return str(fields.get(field) or error.message)


# --- The doorplate --------------------------------------------------------------------------------


@require_GET
@resident_view
def doorplate_home(request: HttpRequest, token: str) -> HttpResponse:
    plate = _plate(token)
    place = place_of(plate.node)
    return render(request, TEMPLATES + "doorplate.html", {"token": token, "place": place})


# --- A new ticket ---------------------------------------------------------------------------------


def _chosen_category(request: HttpRequest, categories: list[Category]) -> Category | None:
    code = request.POST.get("category") or request.GET.get("category") or ""
    return next((c for c in categories if c.code == code), None)


@never_cache
@require_http_methods(["GET", "POST"])
@resident_view
def ticket_new(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    plate = _plate(token)
    ticket_kind = _kind(kind)
    categories = _categories(ticket_kind)
    category = _chosen_category(request, categories)
    phone = session_verified_phone(request.session)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    new_key = {"submit_key": secrets.token_urlsafe(24)}
    phone_error, sent_to = "", ""
    if action in ("send_code", "verify_code", "change_phone"):
        # The phone box's buttons without JavaScript: do that step, keep what was typed, show no errors.
        if action == "send_code":
            step = _send(request, request.POST.get("phone", ""), PhonePurpose.TICKET)
            sent_to, phone_error = step.phone, step.error
        elif action == "verify_code":
            pending = request.POST.get("phone", "") or str(request.session.get(PENDING_KEY) or "")
            step = _verify(request, pending, request.POST.get("code", ""), PhonePurpose.TICKET)
            phone, phone_error = step.phone, step.error
            sent_to = "" if phone else pending
        else:
            session_forget_phone(request.session)
            request.session.pop(PENDING_KEY, None)
        kept = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "action", "code")}
        form = ResidentTicketForm(categories=categories, category=category, initial={**new_key, **kept})
    else:
        form = ResidentTicketForm(
            request.POST or None,
            request.FILES or None,
            categories=categories,
            category=category,
            initial=new_key,
        )
    if request.method == "POST" and not action:
        if not phone:
            step = _verify_inline(request)
            phone, phone_error = step.phone, step.error
        if form.is_valid() and phone:
            ticket = _submit(request, form, plate, ticket_kind, phone)
            if ticket is not None:
                return HttpResponseRedirect(reverse("tickets:follow", args=[ticket.follow_token]) + "?new=1")
    form_action = reverse("tickets:resident_new", args=[token, ticket_kind.value])
    suggested = suggestions_for(request.POST.get("description", ""), ticket_kind)
    context = {
        "token": token,
        "place": place_of(plate.node),
        "kind": ticket_kind,
        "form": form,
        "categories": categories,
        "suggestions": suggested,
        "category_choices": category_choices(categories, chosen=category, suggested=suggested),
        "phone_box": _phone_box(
            request, token, PhonePurpose.TICKET, error=phone_error, sent_to=sent_to, form_action=form_action
        ),
        "photos_lost": request.method == "POST" and bool(request.FILES),
    }
    status = 422 if request.method == "POST" and not action else 200
    return render(request, TEMPLATES + "ticket_new.html", context, status=status)


def _verify_inline(request: HttpRequest) -> PhoneStep:
    """The code may come with the form itself (no JavaScript): check it there."""
    phone = request.POST.get("phone", "") or str(request.session.get(PENDING_KEY) or "")
    code = request.POST.get("code", "")
    if not phone or not code:
        return PhoneStep(error=_("Verify your mobile phone: we send you a code by SMS."), status=422)
    return _verify(request, phone, code, PhonePurpose.TICKET)


def _submit(
    request: HttpRequest, form: ResidentTicketForm, plate: Doorplate, kind: TicketKind, phone: str
) -> Ticket | None:
    data = form.cleaned_data
    photos = []
    try:
        for uploaded in data["photos"]:
            photos.append(clean_photo(uploaded))
    except ValidationFailed as error:
        form.add_error("photos", _error_message(error, "photos"))
        return None
    try:
        return ticket_submit(
            actor=None,
            data=TicketInput(
                node_id=plate.node_id,  # the plate's address, never one sent by the client
                category_code=data["category"],
                description=data["description"],
                channel=Channel.DOORPLATE,
                kind=kind,
                answers=form.raw_answers(),
                reporter_name="" if data["is_anonymous"] else data["name"],
                reporter_phone=phone,
                is_anonymous=data["is_anonymous"],
                submit_key=data["submit_key"],
                photos=photos,
            ),
        )
    except ValidationFailed as error:
        fields: dict[str, str] = dict(error.extra.get("fields") or {})
        if error.code == "invalid_answers":
            form.add_answer_errors(fields)
            return None
        for name, message in fields.items():
            form.add_error(name if name in form.fields else None, message)
        if not fields:
            form.add_error(None, str(error.message))
        return None


@require_GET
@resident_view
def ticket_suggest(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """htmx: the suggestion chips for the description typed so far."""
    _plate(token)
    ticket_kind = _kind(kind)
    suggestions = suggestions_for(request.GET.get("description", ""), ticket_kind)
    return render(request, TEMPLATES + "_suggestions.html", {"suggestions": suggestions})


@require_GET
@resident_view
def ticket_questions(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """htmx: the extra questions of the chosen category."""
    _plate(token)
    categories = _categories(_kind(kind))
    category = _chosen_category(request, categories)
    form = ResidentTicketForm(categories=categories, category=category)
    return render(request, TEMPLATES + "_questions.html", {"form": form})


# --- The phone box ------------------------------------------------------------------------------
# A small box asks for the mobile number, sends a code and checks it. With htmx it swaps itself in
# place; without JavaScript (or before htmx has loaded on a slow network) its buttons submit the
# surrounding page, which keeps what was typed (the ticket form) or comes back to the page.

PENDING_KEY = "gongzhi.phone_pending"


def _phone_box(
    request: HttpRequest,
    token: str,
    purpose: str,
    *,
    error: str = "",
    sent_to: str = "",
    fixed_phone: str = "",
    follow: bool = False,
    form_action: str = "",
) -> dict[str, Any]:
    """Context of the phone box: verified, waiting for the code, or asking for the number."""
    verified = session_verified_phone(request.session)
    if fixed_phone and verified != fixed_phone:
        verified = ""
    pending = str(request.session.get(PENDING_KEY) or "")
    if not sent_to and not verified and pending and (not fixed_phone or pending == fixed_phone):
        sent_to = pending
    base = "tickets:follow_phone" if follow else "tickets:phone"
    return {
        "token": token,
        "purpose": purpose,
        "verified": verified,
        "verified_masked": personal.mask_phone(verified),
        "sent_to": sent_to,
        "sent_masked": personal.mask_phone(sent_to),
        "fixed_phone": fixed_phone,
        "fixed_masked": personal.mask_phone(fixed_phone),
        "error": error,
        "send_url": reverse(base + "_send", args=[token]),
        "verify_url": reverse(base + "_verify", args=[token]),
        "change_url": "" if follow else reverse("tickets:phone_change", args=[token]),
        # Inside the ticket form, the buttons post the whole form back to it when htmx is absent.
        "form_action": form_action,
        # Where the box's own form comes back to without JavaScript: this page, or the one it came from.
        "next": _safe_path(request.POST.get("next", ""))
        if request.method == "POST"
        else request.get_full_path(),
    }


def _box_response(request: HttpRequest, token: str, box: dict[str, Any], status: int = 200) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, TEMPLATES + "_phone.html", {"box": box}, status=status)
    if box["error"]:
        context = {"message": box["error"], "back": _next(request, token)}
        return render(request, TEMPLATES + "error.html", context, status=status)
    return HttpResponseRedirect(_next(request, token))


def _safe_path(target: str) -> str:
    """`target` if it is a path on this site, else ""."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return ""


def _next(request: HttpRequest, token: str) -> str:
    return _safe_path(request.POST.get("next", "")) or reverse("tickets:doorplate", args=[token])


def _purpose(request: HttpRequest) -> str:
    purpose = request.POST.get("purpose", "")
    return purpose if purpose in PhonePurpose.values else PhonePurpose.TICKET


@dataclass(frozen=True)
class PhoneStep:
    """What sending or checking a code gave: the phone, or a message for the resident and a status
    (422 for a wrong number or code, 429 when rate limited)."""

    phone: str = ""
    error: str = ""
    status: int = 200


def _send(request: HttpRequest, phone: str, purpose: str) -> PhoneStep:
    """Send a code to `phone` and remember it as waiting for its code."""
    try:
        sent = phone_code_send(phone=phone, purpose=purpose, ip=_ip(request))
    except (ValidationFailed, RateLimited) as error:
        return PhoneStep(error=_error_message(error, "phone"), status=error.status)
    request.session[PENDING_KEY] = sent.phone
    return PhoneStep(phone=sent.phone)


def _verify(request: HttpRequest, phone: str, code: str, purpose: str) -> PhoneStep:
    """Check a code and remember the verified phone in the session."""
    try:
        verified = phone_code_verify(phone=phone, code=code, purpose=purpose, ip=_ip(request))
    except (ValidationFailed, RateLimited) as error:
        return PhoneStep(error=_error_message(error, "code"), status=error.status)
    request.session.pop(PENDING_KEY, None)
    session_remember_phone(request.session, verified)
    return PhoneStep(phone=verified)


@require_POST
@resident_view
def phone_send(request: HttpRequest, token: str) -> HttpResponse:
    _plate(token)
    purpose = _purpose(request)
    step = _send(request, request.POST.get("phone", ""), purpose)
    form_action = _safe_path(request.POST.get("form_action", ""))
    box = _phone_box(request, token, purpose, error=step.error, sent_to=step.phone, form_action=form_action)
    return _box_response(request, token, box, status=step.status)


@require_POST
@resident_view
def phone_verify(request: HttpRequest, token: str) -> HttpResponse:
    _plate(token)
    purpose = _purpose(request)
    phone = request.POST.get("phone", "") or str(request.session.get(PENDING_KEY) or "")
    step = _verify(request, phone, request.POST.get("code", ""), purpose)
    form_action = _safe_path(request.POST.get("form_action", ""))
    if step.error:
        box = _phone_box(request, token, purpose, error=step.error, sent_to=phone, form_action=form_action)
        return _box_response(request, token, box, status=step.status)
    if purpose == PhonePurpose.LOOKUP:
        return _redirect(request, reverse("tickets:lookup", args=[token]))
    return _box_response(request, token, _phone_box(request, token, purpose, form_action=form_action))


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole-page navigation."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


@require_POST
@resident_view
def phone_change(request: HttpRequest, token: str) -> HttpResponse:
    _plate(token)
    session_forget_phone(request.session)
    request.session.pop(PENDING_KEY, None)
    box = _phone_box(
        request, token, _purpose(request), form_action=_safe_path(request.POST.get("form_action", ""))
    )
    return _box_response(request, token, box)


# --- 码上查: my tickets --------------------------------------------------------------------------


@never_cache
@require_GET
@resident_view
def lookup(request: HttpRequest, token: str) -> HttpResponse:
    plate = _plate(token)
    place = place_of(plate.node)
    phone = session_verified_phone(request.session)
    tickets: list[Ticket] = []
    if phone:
        tickets = list(
            Ticket.objects.filter(reporter_phone_hash=personal.lookup_hash(phone))
            .select_related("category", "merged_into")
            .order_by("-submitted_at", "-pk")[:MY_TICKETS_LIMIT]
        )
    return render(
        request,
        TEMPLATES + "lookup.html",
        {
            "token": token,
            "place": place,
            "phone_masked": personal.mask_phone(phone),
            "tickets": [(t, resident_status(t.merged_into or t)) for t in tickets],
            "phone_box": None if phone else _phone_box(request, token, PhonePurpose.LOOKUP),
            "board_url": board_url(place.community_code),
        },
    )


# --- Following and rating a ticket ----------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    label: str
    tone: str  # waiting | working | done | stopped


def resident_status(ticket: Ticket) -> Status:
    state = ticket.state
    if state in (TicketState.SUBMITTED,):
        return Status(_("Waiting to be accepted"), "waiting")
    if state == TicketState.REOPENED:
        return Status(_("Being handled again"), "waiting")
    if state in (TicketState.ACCEPTED, TicketState.IN_PROGRESS):
        return Status(_("Being handled"), "working")
    if state == TicketState.RESOLVED:
        return Status(_("Done — please rate"), "done")
    if state == TicketState.CLOSED:
        return Status(_("Finished"), "done")
    if state == TicketState.REJECTED:
        return Status(_("Not accepted"), "stopped")
    return Status(_("Handled together with another ticket"), "working")


_WHO = {
    Level.GRID: lambda: _("The grid worker"),
    Level.COMMUNITY: lambda: _("The community"),
    Level.SUBDISTRICT: lambda: _("The subdistrict office"),
}


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    text: str
    note: str
    photos: list[TicketPhoto]


def _who(event: TicketEvent, level: int) -> str:
    """A role title, never a staff member's name."""
    if event.actor_label == "resident":
        return _("You")
    if event.action in (EventAction.REPORTED_IN, EventAction.DEPARTMENT_ACTED) and event.actor_label:
        return event.actor_label  # the department's name, never its handler's
    if event.actor_id is None:
        return _("The system")
    return _WHO.get(Level(level), _WHO[Level.GRID])()


def _sentence(event: TicketEvent, level: int) -> tuple[str, str]:
    """(sentence, note to show) for one public event; sentence "" hides the event."""
    who = _who(event, level)
    level_name = {
        Level.GRID: _("the grid"),
        Level.COMMUNITY: _("the community"),
        Level.SUBDISTRICT: _("the subdistrict office"),
    }.get(Level(event.to_level or level), "")
    action = event.action
    if action == EventAction.SUBMITTED:
        return _("You sent in this matter."), ""
    if action == EventAction.ACCEPTED:
        return _("%(who)s accepted it.") % {"who": who}, event.note
    if action == EventAction.STARTED:
        return _("%(who)s started the work.") % {"who": who}, event.note
    if action == EventAction.RESOLVED:
        return _("%(who)s finished the work.") % {"who": who}, event.note
    if action == EventAction.REJECTED:
        return _("%(who)s could not take it on.") % {"who": who}, event.note
    if action == EventAction.ESCALATED:
        return _("It went up to %(level)s.") % {"level": level_name}, ""
    if action == EventAction.REOPENED:
        return _("It is being handled again, now by %(level)s.") % {"level": level_name}, ""
    if action == EventAction.WHISTLED:
        names = str(event.data.get("names") or "")
        return _("%(who)s called in: %(names)s.") % {"who": who, "names": names}, ""
    if action == EventAction.REPORTED_IN:
        return _("%(who)s came to help.") % {"who": who}, ""
    if action == EventAction.DEPARTMENT_ACTED:
        return _("%(who)s did its part.") % {"who": who}, event.note
    if action == EventAction.CONFIRMED:
        return _("%(who)s checked the departments' work.") % {"who": who}, ""
    if action == EventAction.RATED:
        rating = Rating(event.data.get("rating")).label if event.data.get("rating") in Rating.values else ""
        return _("You rated it: %(rating)s.") % {"rating": rating}, event.note
    if action == EventAction.CLOSED:
        return _("The matter is closed."), ""
    if action == EventAction.MERGED:
        return _("It is handled together with ticket %(number)s.") % {
            "number": event.data.get("into", "")
        }, ""
    if action == EventAction.COMMENTED and event.note and not event.data.get("merged"):
        return _("%(who)s wrote:") % {"who": who}, event.note
    return "", ""


def timeline(ticket: Ticket, *, outcome_shown: bool = False) -> list[Step]:
    """The public events in plain sentences, oldest first; the level is replayed to name who acted.

    With `outcome_shown` the latest resolution's note and photos are left out: the page shows them
    above, as the outcome. The resident's own photos are shown with their text, not here.
    """
    steps: list[Step] = []
    level = Level.GRID
    events = list(ticket.events.filter(is_public=True).prefetch_related("photos").order_by("at", "pk"))
    resolutions = [e.pk for e in events if e.action == EventAction.RESOLVED]
    shown_above = resolutions[-1] if outcome_shown and resolutions else None
    for event in events:
        if event.to_level is not None and event.action != EventAction.REOPENED:
            level = Level(event.to_level)
        text, note = _sentence(event, level)
        if event.to_level is not None:
            level = Level(event.to_level)
        if not text:
            continue
        photos = [] if event.action == EventAction.SUBMITTED else list(event.photos.all())
        if event.pk == shown_above:
            note, photos = "", []
        steps.append(Step(at=event.at, text=text, note=note, photos=photos))
    return steps


def _resident_photos(ticket: Ticket) -> list[TicketPhoto]:
    """The photos the resident sent with the ticket."""
    return list(TicketPhoto.objects.filter(ticket=ticket, event__action=EventAction.SUBMITTED))


def _outcome_photos(ticket: Ticket) -> list[TicketPhoto]:
    """The photos of the latest resolution (the work done)."""
    last = ticket.events.filter(action=EventAction.RESOLVED, is_public=True).order_by("-at", "-pk").first()
    return list(last.photos.all()) if last else []


def _may_rate(request: HttpRequest, ticket: Ticket) -> tuple[bool, str]:
    """(may rate now, the reporter's phone to verify first, or "")."""
    if ticket.state != TicketState.RESOLVED:
        return False, ""
    if not ticket.reporter_phone:
        return True, ""
    return session_verified_phone(request.session) == ticket.reporter_phone, ticket.reporter_phone


@never_cache
@require_http_methods(["GET", "POST"])
@resident_view
def ticket_follow(request: HttpRequest, token: str) -> HttpResponse:
    ticket = ticket_for_token(token)
    form = RatingForm(request.POST or None)
    may_rate, phone_to_verify = _may_rate(request, ticket)
    if request.method == "POST":
        if may_rate and form.is_valid():
            ticket_rate(token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
            return HttpResponseRedirect(reverse("tickets:follow", args=[token]) + "?rated=1")
        if not may_rate and ticket.state != TicketState.RESOLVED:
            form.add_error(None, _("This ticket cannot be rated now."))
        elif not may_rate:
            form.add_error(None, _("Verify your mobile phone first."))
    shown = ticket.merged_into or ticket  # a merged ticket shows the surviving ticket's progress
    if shown.pk != ticket.pk:
        shown = Ticket.objects.select_related("category", "node").get(pk=shown.pk)
    outcome_shown = bool(shown.resolution_note) and shown.state in (TicketState.RESOLVED, TicketState.CLOSED)
    context = {
        "ticket": ticket,
        "shown": shown,
        "merged": shown.pk != ticket.pk,
        "status": resident_status(shown),
        "place": place_of(ticket.node),
        "steps": timeline(shown, outcome_shown=outcome_shown),
        "my_photos": _resident_photos(ticket),
        "work_photos": _outcome_photos(shown) if outcome_shown else [],
        "form": form,
        "may_rate": may_rate,
        "rateable": ticket.state == TicketState.RESOLVED,
        "outcome_shown": outcome_shown,
        "phone_box": (
            _phone_box(request, token, PhonePurpose.TICKET, fixed_phone=phone_to_verify, follow=True)
            if phone_to_verify and not may_rate
            else None
        ),
        "follow_url": request.build_absolute_uri(reverse("tickets:follow", args=[token])),
        "is_new": request.GET.get("new") == "1",
        "is_rated": request.GET.get("rated") == "1",
        "plate_token": Doorplate.objects.filter(node_id=ticket.node_id)
        .values_list("token", flat=True)
        .first(),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, TEMPLATES + "follow.html", context, status=status)


@require_GET
@resident_view
def ticket_photo(request: HttpRequest, token: str, photo_id: int) -> HttpResponseBase:
    """A photo of the ticket (or of the ticket it was merged into), for the holder of its link only."""
    ticket = ticket_for_token(token)
    ids = [ticket.pk] + ([ticket.merged_into_id] if ticket.merged_into_id else [])
    photo = TicketPhoto.objects.filter(pk=photo_id, ticket_id__in=ids).select_related("event").first()
    if photo is None or (photo.event is not None and not photo.event.is_public):
        raise NotFound()
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@resident_view
def follow_phone_send(request: HttpRequest, token: str) -> HttpResponse:
    """Send a code to the reporter's phone (the resident need not type it again) to rate."""
    ticket = ticket_for_token(token)
    phone = ticket.reporter_phone
    if not phone:
        raise NotFound()
    step = _send(request, phone, PhonePurpose.TICKET)
    box = _phone_box(
        request,
        token,
        PhonePurpose.TICKET,
        error=step.error,
        sent_to=step.phone,
        fixed_phone=phone,
        follow=True,
    )
    return _box_response(request, token, box, status=step.status)


@require_POST
@resident_view
def follow_phone_verify(request: HttpRequest, token: str) -> HttpResponse:
    ticket = ticket_for_token(token)
    phone = ticket.reporter_phone
    if not phone:
        raise NotFound()
    step = _verify(request, phone, request.POST.get("code", ""), PhonePurpose.TICKET)
    if step.error:
        box = _phone_box(
            request,
            token,
            PhonePurpose.TICKET,
            error=step.error,
            sent_to=phone,
            fixed_phone=phone,
            follow=True,
        )
        return _box_response(request, token, box, status=step.status)
    return _redirect(request, reverse("tickets:follow", args=[token]) + "#rate")
