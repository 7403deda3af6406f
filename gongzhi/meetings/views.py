"""Meeting and project pages: the staff's list, convene form, meeting page (QR sign-in, attendance,
minutes, resolutions), figures and calendar; the resident's sign-in by QR; the project pages.

Thin: selectors read (out of scope → 404), services write. A refusal from a service comes back as a
message on the page it was made from and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any, cast

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_page, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor, scope_q
from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.ratelimit import RateLimited, client_ip
from gongzhi.core.views import application_error_response, is_staff_actor, request_actor, staff_view
from gongzhi.meetings.forms import (
    AgendaFormSet,
    FiguresForm,
    FundingForm,
    FundingFormSet,
    MeetingForm,
    MilestoneDoneForm,
    MilestoneForm,
    MilestoneFormSet,
    MinutesCorrectionForm,
    PhotoForm,
    ProjectForm,
    RecordForm,
    ResolutionFormSet,
)
from gongzhi.meetings.models import (
    PROJECT_TRANSITIONS,
    Attendance,
    CalendarFeed,
    Invitee,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Milestone,
    Project,
    ProjectPhoto,
    ProjectRating,
    ProjectStatus,
)
from gongzhi.meetings.selectors import (
    calendar_meetings,
    ics_feed,
    meeting_figures,
    meeting_get,
    meeting_list,
    organizations_for,
    project_list,
    public_projects,
    residents_with_phone,
)
from gongzhi.meetings.services import (
    MAX_OCCURRENCES,
    AgendaSpec,
    FundingSpec,
    MeetingSpec,
    MilestoneSpec,
    Refused,
    ResolutionSpec,
    meeting_cancel,
    meeting_create,
    meeting_minutes_correct,
    meeting_record,
    meeting_rotate_code,
    meeting_sign_in,
    meeting_sign_in_by_staff,
    milestone_done,
    minutes_source,
    occurrences,
    project_add_funding,
    project_add_milestone,
    project_create,
    project_move,
    project_rate,
)
from gongzhi.people.selectors import person_search
from gongzhi.phones.models import PhonePurpose
from gongzhi.phones.services import (
    phone_code_send,
    phone_code_verify,
    session_forget_phone,
    session_remember_phone,
    session_verified_phone,
)
from gongzhi.surveys.models import Survey
from gongzhi.surveys.selectors import QuestionResult, survey_results
from gongzhi.territory.models import Node, NodeKind, Organization, OrganizationKind, subtree_q
from gongzhi.territory.selectors import node_get, scope_roots
from gongzhi.tickets.images import clean_photo
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.selectors import TicketFilters, ticket_list

SEARCH_LIMIT = 20
LIST_LIMIT = 50


# --- Helpers --------------------------------------------------------------------------------------


def _node(request: HttpRequest, actor: Actor) -> Node:
    """The node asked for (?node=), or the top of the actor's scope."""
    raw = request.GET.get("node") or request.POST.get("node") or ""
    if raw.isdigit():
        return node_get(actor=actor, node_id=int(raw))
    root = scope_roots(actor=actor).first()
    if root is None:
        raise NotFound()
    return root


def _organizations(node: Node) -> list[tuple[int, str]]:
    """Organizations that may be invited or own a resolution or a project (see organizations_for)."""
    return list(organizations_for(node).values_list("pk", "name")[:80])


def _organization_groups(
    form: MeetingForm, organizations: list[tuple[int, str]]
) -> list[tuple[str, list[Any]]]:
    """The organization checkboxes grouped by kind (party, committees, property managers, departments …)."""
    kinds = dict(
        Organization.objects.filter(pk__in=[pk for pk, _ in organizations]).values_list("pk", "kind")
    )
    groups: dict[str, list[Any]] = {}
    for box in form["organizations"]:
        kind = kinds.get(int(box.data["value"]), "")
        label = str(OrganizationKind(kind).label) if kind in OrganizationKind.values else ""
        groups.setdefault(label, []).append(box)
    return list(groups.items())


def _surveys(actor: Actor, node: Node) -> list[tuple[int, str]]:
    rows = (
        Survey.objects.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK))
        .filter(subtree_q("node__path", node.path) | Q(node__path__in=node.ancestor_paths))
        .order_by("-created_at")
        .values_list("pk", "title")[:50]
    )
    return list(rows)


def _field_errors(form: Any, error: ApplicationError) -> None:
    fields = dict(error.extra.get("fields") or {})
    if not fields:
        form.add_error(None, str(error.message))
    for name, message in fields.items():
        form.add_error(name if name in form.fields else None, str(message))


def _people_choices(actor: Actor, node: Node, ids: Iterable[str]) -> list[tuple[int, str]]:
    wanted = [int(i) for i in ids if str(i).isdigit()][:100]
    if not wanted:
        return []
    people = person_search(actor=actor, node_path=node.path).filter(pk__in=wanted)
    return [(p.pk, f"{p.name} · {p.home.name}") for p in people]


# --- The staff's list of meetings -----------------------------------------------------------------


@staff_view
@require_GET
def meeting_list_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node = _node(request, actor)
    meetings = meeting_list(actor=actor, node=node)
    kinds = list(MeetingKind.objects.filter(is_active=True))
    kind = next((k for k in kinds if k.code == request.GET.get("kind", "")), None)
    if kind is not None:
        meetings = meetings.filter(kind=kind)
    now = clock.now()
    upcoming = list(
        meetings.filter(ends_at__gte=now, status=MeetingStatus.SCHEDULED).order_by("starts_at", "pk")[
            :LIST_LIMIT
        ]
    )
    past = list(meetings.exclude(pk__in=[m.pk for m in upcoming]).filter(starts_at__lt=now)[:LIST_LIMIT])
    return render(
        request,
        "meetings/list.html",
        {
            "node": node,
            "kinds": kinds,
            "kind": kind,
            "upcoming": upcoming,
            "past": past,
            "can_run": actor.can(Perm.RUN_MEETINGS, node.path),
        },
    )


# --- Convene ----------------------------------------------------------------------------------------


def _tickets_from_query(actor: Actor, raw: str) -> list[Ticket]:
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()][:30]
    if not ids:
        return []
    return list(Ticket.objects.visible_to(actor).filter(pk__in=ids).select_related("category").order_by("pk"))


def _agenda_initial(tickets: list[Ticket]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{} for _ in range(3)]
    if tickets:
        names = "、".join(dict.fromkeys(t.category.name for t in tickets))
        rows[0] = {
            "title": names,
            "notes": "\n".join(f"{t.number}: {t.description[:60]}" for t in tickets),
            "tickets": " ".join(t.number for t in tickets),
        }
    return rows


def _agenda_specs(actor: Actor, formset: Any) -> list[AgendaSpec] | None:
    """The agenda items, with ticket numbers resolved in the actor's scope; None when a number is wrong."""
    specs: list[AgendaSpec] = []
    valid = True
    for form in formset.forms:
        data = form.cleaned_data
        if not data.get("title"):
            continue
        numbers = data.get("ticket_numbers", [])
        found = dict(Ticket.objects.visible_to(actor).filter(number__in=numbers).values_list("number", "pk"))
        missing = [n for n in numbers if n not in found]
        if missing:
            form.add_error(
                "tickets",
                _("No ticket with this number in your area: %(numbers)s") % {"numbers": " ".join(missing)},
            )
            valid = False
            continue
        specs.append(
            AgendaSpec(
                title=data["title"],
                notes=data.get("notes", ""),
                ticket_ids=[found[n] for n in numbers],
                survey_id=data.get("survey"),
            )
        )
    return specs if valid else None


@staff_view
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node = _node(request, actor)
    actor.ensure_can(Perm.RUN_MEETINGS, node.path)
    organizations = _organizations(node)
    surveys = _surveys(actor, node)
    data = request.POST if request.method == "POST" else None
    picked = _people_choices(actor, node, request.POST.getlist("people") if data else [])
    form = MeetingForm(
        data,
        organizations=organizations,
        people=picked,
        initial={"day": clock.today() + dt.timedelta(days=7), "starts": dt.time(15), "ends": dt.time(17)},
    )
    from_tickets = _tickets_from_query(actor, request.GET.get("tickets", ""))
    if from_tickets and not data:
        form.initial.update({"kind": "four-in-one", "title": _("Joint meeting on residents' tickets")})
    agenda = AgendaFormSet(
        data,
        prefix="agenda",
        initial=None if data else _agenda_initial(from_tickets),
        form_kwargs={"surveys": surveys},
    )
    if data and form.is_valid() and agenda.is_valid():
        specs = _agenda_specs(actor, agenda)
        if specs is not None:
            cleaned = form.cleaned_data
            spec = MeetingSpec(
                node_id=node.pk,
                kind_code=cleaned["kind"].code,
                title=cleaned["title"],
                starts_at=cleaned["starts_at"],
                ends_at=cleaned["ends_at"],
                place=cleaned["place"],
                agenda=specs,
                invite_roles=cleaned["invite_roles"],
                invite_organization_ids=[int(o) for o in cleaned["organizations"]],
                invite_person_ids=[int(p) for p in cleaned["people"]],
                recurrence=cleaned.get("recurrence") or "",
                until=cleaned.get("until"),
            )
            try:
                meetings = meeting_create(actor=actor, spec=spec)
            except ValidationFailed as error:
                _field_errors(form, error)
            else:
                _convened_message(request, meetings, stopped_at_limit=occurrences(spec).stopped_at_limit)
                return HttpResponseRedirect(reverse("meetings:detail", args=[meetings[0].pk]))
    return render(
        request,
        "meetings/new.html",
        {
            "node": node,
            "form": form,
            "agenda": agenda,
            "people_chosen": picked,
            "organization_groups": _organization_groups(form, organizations),
            "from_tickets": from_tickets,
        },
        status=422 if data else 200,
    )


def _convened_message(request: HttpRequest, meetings: list[Meeting], *, stopped_at_limit: bool) -> None:
    if len(meetings) == 1:
        messages.success(request, _("The meeting is convened; the invitees are notified."))
        return
    last = clock.localtime(meetings[-1].starts_at).date()
    messages.success(
        request,
        _("The meeting is convened, %(count)d times until %(until)s; the invitation lists every date.")
        % {"count": len(meetings), "until": last},
    )
    if stopped_at_limit:
        messages.warning(
            request,
            _(
                "A series holds at most %(limit)d meetings, so this one stops on %(last)s, before the end "
                "date you chose. Convene it again from then to go on."
            )
            % {"limit": MAX_OCCURRENCES, "last": last},
        )


@staff_view
@require_GET
def ticket_search(request: HttpRequest) -> HttpResponse:
    """htmx: open tickets in scope by number or words, to put on the agenda."""
    actor = request_actor(request)
    node = _node(request, actor)
    query = (request.GET.get("q") or request.GET.get("ticket_q") or "").strip()[:60]
    tickets = (
        list(
            ticket_list(actor=actor, filters=TicketFilters(state="open", node_id=node.pk, query=query))[
                :SEARCH_LIMIT
            ]
        )
        if query
        else []
    )
    return render(request, "meetings/_ticket_results.html", {"tickets": tickets, "query": query})


@staff_view
@require_GET
def people_search(request: HttpRequest) -> HttpResponse:
    """htmx: residents in the node by name, initials, door number or phone digits."""
    actor = request_actor(request)
    node = _node(request, actor)
    query = request.GET.get("q", "").strip()[:40]
    people = (
        list(person_search(actor=actor, query=query, node_path=node.path)[:SEARCH_LIMIT]) if query else []
    )
    meeting_id = request.GET.get("meeting", "")
    meeting = meeting_get(actor=actor, meeting_id=int(meeting_id)) if meeting_id.isdigit() else None
    template = "meetings/_signin_results.html" if meeting is not None else "meetings/_people_results.html"
    return render(request, template, {"people": people, "query": query, "meeting": meeting})


# --- The meeting page -----------------------------------------------------------------------------


def signin_url(request: HttpRequest, meeting: Meeting) -> str:
    return request.build_absolute_uri(reverse("meetings:signin", args=[meeting.signin_token]))


def _qr_svg(url: str) -> str:
    return str(
        segno.make_qr(url, error="m").svg_inline(scale=10, border=2, omitsize=True, svgclass="qr-code")
    )


def _meeting_context(
    request: HttpRequest,
    meeting: Meeting,
    *,
    record: RecordForm | None = None,
    resolutions: Any = None,
    correction: MinutesCorrectionForm | None = None,
) -> dict[str, Any]:
    actor = request_actor(request)
    can_run = actor.can(Perm.RUN_MEETINGS, meeting.node.path)
    can_correct = (
        can_run
        and meeting.status == MeetingStatus.HELD
        and (actor.is_superuser or (actor.user is not None and actor.user.pk == meeting.convener_id))
    )
    scheduled = meeting.status == MeetingStatus.SCHEDULED
    owners = _organizations(meeting.node) if can_run and scheduled else []
    url = signin_url(request, meeting)
    agenda = list(meeting.agenda.all())
    surveys = {s.pk: s for s in Survey.objects.filter(pk__in=[i.survey_id for i in agenda if i.survey_id])}
    return {
        "meeting": meeting,
        "can_run": can_run,
        "scheduled": scheduled,
        "agenda_items": [
            (item, surveys.get(item.survey_id or 0), _survey_summary(surveys.get(item.survey_id or 0)))
            for item in agenda
        ],
        "signin_url": url,
        "qr_svg": _qr_svg(url) if can_run and scheduled else "",
        "record_form": record or RecordForm(),
        "resolutions": resolutions or ResolutionFormSet(prefix="resolution", form_kwargs={"owners": owners}),
        "invitees": [_invitee_label(invitee) for invitee in meeting.invitees.all()],
        "series": list(
            Meeting.objects.filter(series_id=meeting.series_id).order_by("starts_at").only("pk", "starts_at")
        )
        if meeting.series_id
        else [],
        "can_correct": can_correct,
        "correction_form": correction
        or MinutesCorrectionForm(initial={"minutes": minutes_source(meeting.minutes)}),
        "revisions": list(meeting.minutes_revisions.select_related("corrected_by")),
    }


def _survey_summary(survey: Survey | None) -> QuestionResult | None:
    """The first choice question's results, shown with the agenda item that takes the survey up."""
    if survey is None:
        return None
    results = survey_results(survey, texts=0)
    return next((q for q in results.questions if q.options and q.question.kind != "rating"), None)


def _invitee_label(invitee: Invitee) -> str:
    if invitee.role:
        return str(Role(invitee.role).label) if invitee.role in Role.values else invitee.role
    if invitee.organization is not None:
        return invitee.organization.name
    return invitee.person.name if invitee.person is not None else ""


@staff_view
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(actor=request_actor(request), meeting_id=meeting_id)
    return render(request, "meetings/detail.html", _meeting_context(request, meeting))


@staff_view
@require_POST
def meeting_rotate(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting_rotate_code(actor=request_actor(request), meeting_id=meeting_id)
    messages.success(request, _("A new sign-in code is shown; codes shown or printed before no longer work."))
    return HttpResponseRedirect(reverse("meetings:detail", args=[meeting_id]) + "#signin")


@staff_view
@require_POST
def meeting_staff_sign_in(request: HttpRequest, meeting_id: int) -> HttpResponse:
    actor = request_actor(request)
    meeting = meeting_get(actor=actor, meeting_id=meeting_id)
    raw = request.POST.get("person", "")
    # Only people the actor may see: person_search scopes them.
    person = (
        person_search(actor=actor, node_path=meeting.node.path).filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    if person is None:
        raise NotFound()
    try:
        attendance = meeting_sign_in_by_staff(actor=actor, meeting_id=meeting.pk, person_id=person.pk)
    except ApplicationError as error:
        messages.warning(request, str(error.message))
    else:
        messages.success(request, _("%(name)s is signed in.") % {"name": attendance.name})
    return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]) + "#attendance")


@staff_view
@require_POST
def meeting_record_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    actor = request_actor(request)
    meeting = meeting_get(actor=actor, meeting_id=meeting_id)
    owners = _organizations(meeting.node)
    record = RecordForm(request.POST)
    resolutions = ResolutionFormSet(request.POST, prefix="resolution", form_kwargs={"owners": owners})
    if record.is_valid() and resolutions.is_valid():
        specs = [
            ResolutionSpec(
                text=data["text"],
                owner_id=data["owner"],
                deadline=data["deadline"],
                budget=data.get("budget") or Decimal(0),
            )
            for data in (f.cleaned_data for f in resolutions.forms)
            if data.get("text")
        ]
        try:
            meeting_record(
                actor=actor, meeting_id=meeting.pk, minutes=record.cleaned_data["minutes"], resolutions=specs
            )
        except ValidationFailed as error:
            _field_errors(record, error)
        except ApplicationError as error:
            messages.warning(request, str(error.message))
            return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]))
        else:
            messages.success(
                request,
                _("The minutes are recorded; %(count)d resolutions became projects.") % {"count": len(specs)},
            )
            return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]))
    context = _meeting_context(request, meeting, record=record, resolutions=resolutions)
    return render(request, "meetings/detail.html", context, status=422)


@staff_view
@require_POST
def meeting_minutes_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The convener corrects the minutes; the earlier version is kept and shown below them."""
    actor = request_actor(request)
    meeting = meeting_get(actor=actor, meeting_id=meeting_id)
    form = MinutesCorrectionForm(request.POST)
    if form.is_valid():
        try:
            meeting_minutes_correct(
                actor=actor,
                meeting_id=meeting.pk,
                minutes=form.cleaned_data["minutes"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as error:
            _field_errors(form, error)
        else:
            messages.success(request, _("The minutes are corrected; the earlier version is kept below them."))
            return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]) + "#minutes")
    context = _meeting_context(request, meeting, correction=form)
    return render(request, "meetings/detail.html", context, status=422)


@staff_view
@require_POST
def meeting_cancel_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        meeting_cancel(
            actor=request_actor(request), meeting_id=meeting_id, note=request.POST.get("note", "")[:500]
        )
    except ApplicationError as error:
        if isinstance(error, NotFound):
            raise
        messages.warning(request, str(error.message))
    else:
        messages.success(request, _("The meeting is cancelled; the invitees are told."))
    return HttpResponseRedirect(reverse("meetings:detail", args=[meeting_id]))


# --- Figures --------------------------------------------------------------------------------------


@staff_view
@require_GET
def figures_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node = _node(request, actor)
    form = FiguresForm(request.GET or None)
    start, end, first = form.period(clock.today())
    figures = meeting_figures(actor=actor, node=node, start=start, end=end)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "meetings/figures.html",
        {
            "node": node,
            "figures": figures,
            "month": first,
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
        },
    )


# --- My calendar ------------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def signed_in_view(view: Any) -> Any:
    """Login required (any account: staff, or a resident invited to meetings); domain errors as pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return application_error_response(request, error)

    return wrapper


@signed_in_view
@require_http_methods(["GET", "POST"])
def my_calendar(request: HttpRequest) -> HttpResponse:
    """The user's private ICS address: made on the first visit; a new address revokes the old one.
    Every account has one: staff see the meetings of their area, residents the ones they are invited to."""
    user_id = cast(int, request.user.pk)
    feed = CalendarFeed.objects.filter(user_id=user_id).first()
    if feed is None:
        feed = CalendarFeed.objects.create(user_id=user_id, token=_new_token(), created_at=clock.now())
    elif request.method == "POST":
        feed.token, feed.created_at = _new_token(), clock.now()
        feed.save(update_fields=["token", "created_at"])
        messages.success(request, _("Your calendar has a new address; the old one no longer works."))
        return HttpResponseRedirect(reverse("meetings:my_calendar"))
    actor = request_actor(request)
    url = request.build_absolute_uri(reverse("meetings:calendar", args=[feed.token]))
    now = clock.now()
    context = {
        "feed": feed,
        "url": url,
        "webcal": "webcal://" + url.split("://", 1)[-1],
        "upcoming": list(calendar_meetings(actor=actor, now=now).filter(ends_at__gte=now)[:10]),
        "is_staff": is_staff_actor(actor),
    }
    template = "meetings/my_calendar.html" if context["is_staff"] else RESIDENT + "my_calendar.html"
    return render(request, template, context)


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's private calendar of meetings in scope; the token in the address is the credential."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        return HttpResponse(status=404)
    try:
        body = ics_feed(actor=resolve_actor(feed.user), host=request.get_host(), now=clock.now())
    except NotFound:
        return HttpResponse(status=404)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- Projects (staff) -----------------------------------------------------------------------------


@staff_view
@require_GET
def project_list_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node = _node(request, actor)
    projects = project_list(actor=actor, node=node).order_by("status", "deadline", "pk")
    status = request.GET.get("status", "")
    if status in ProjectStatus.values:
        projects = projects.filter(status=status)
    community = next(
        (n for n in Node.objects.filter(path__in=node.ancestor_paths, kind=NodeKind.COMMUNITY)), None
    )
    return render(
        request,
        "meetings/projects.html",
        {
            "node": node,
            "projects": list(projects[:200]),
            "status": status,
            "statuses": ProjectStatus.choices,
            "community": community,
            "can_run": actor.can(Perm.RUN_MEETINGS, node.path),
        },
    )


PROJECT_NODE_KINDS = (
    NodeKind.COMMUNITY,
    NodeKind.GRID,
    NodeKind.MICRO_GRID,
    NodeKind.COMPOUND,
    NodeKind.BUILDING,
)


def _project_places(actor: Actor) -> list[Node]:
    """Places where the actor may start a project (its owner organizations depend on the place)."""
    return list(
        Node.objects.filter(scope_q(actor, "path", Perm.RUN_MEETINGS), kind__in=PROJECT_NODE_KINDS)
        .order_by("path")
        .only("pk", "name", "kind", "path")[:300]
    )


@dataclass
class _ProjectRows:
    funding: list[FundingSpec]
    funding_forms: list[Any]  # the form of each spec, for its error
    milestones: list[MilestoneSpec]
    milestone_forms: list[Any]


def _project_rows(funding: Any, milestones: Any) -> _ProjectRows:
    rows = _ProjectRows([], [], [], [])
    for form in funding.forms:
        data = form.cleaned_data
        if data.get("source") or data.get("amount") is not None:
            rows.funding.append(FundingSpec(data.get("source") or "", data.get("amount") or Decimal(0)))
            rows.funding_forms.append(form)
    for form in milestones.forms:
        data = form.cleaned_data
        if data.get("title"):
            rows.milestones.append(MilestoneSpec(data["title"], data.get("due")))
            rows.milestone_forms.append(form)
    return rows


def _project_errors(form: ProjectForm, rows: _ProjectRows, error: ValidationFailed) -> None:
    for name, message in (error.extra.get("fields") or {}).items():
        kind, _sep, number = name.partition("_")
        if kind == "funding" and number.isdigit():
            rows.funding_forms[int(number) - 1].add_error(None, str(message))
        elif kind == "milestone" and number.isdigit():
            rows.milestone_forms[int(number) - 1].add_error("due", str(message))
        else:
            form.add_error(name if name in form.fields else None, str(message))


@staff_view
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    """Start a 我为群众办实事 project that did not come from a meeting."""
    actor = request_actor(request)
    node = _node(request, actor)
    actor.ensure_can(Perm.RUN_MEETINGS, node.path)
    data = request.POST if request.method == "POST" else None
    initial = {"deadline": clock.today() + dt.timedelta(days=90), "is_public": True}
    form = ProjectForm(data, owners=_organizations(node), initial=initial)
    funding = FundingFormSet(data, prefix="funding")
    milestones = MilestoneFormSet(data, prefix="milestone")
    if data is not None and all([form.is_valid(), funding.is_valid(), milestones.is_valid()]):
        cleaned = form.cleaned_data
        rows = _project_rows(funding, milestones)
        try:
            project = project_create(
                actor=actor,
                node_id=node.pk,
                title=cleaned["title"],
                description=cleaned["description"],
                owner_id=cleaned["owner"],
                deadline=cleaned["deadline"],
                budget=cleaned.get("budget") or Decimal(0),
                funding=rows.funding,
                milestones=rows.milestones,
                is_public=cleaned["is_public"],
            )
        except ValidationFailed as error:
            _project_errors(form, rows, error)
        else:
            messages.success(request, _("The project is started; follow it through its milestones here."))
            return HttpResponseRedirect(reverse("meetings:project", args=[project.pk]))
    context = {
        "node": node,
        "places": _project_places(actor),
        "form": form,
        "funding": funding,
        "milestones": milestones,
    }
    return render(request, "meetings/project_new.html", context, status=422 if data is not None else 200)


def _project(actor: Actor, project_id: int) -> Project:
    project = (
        project_list(actor=actor)
        .prefetch_related("milestones", "funding", "photos")
        .select_related("resolution__meeting")
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise NotFound()
    return project


def _project_context(request: HttpRequest, project: Project, **forms: Any) -> dict[str, Any]:
    actor = request_actor(request)
    funding = list(project.funding.all())
    total = sum((f.amount for f in funding), Decimal(0))
    community = Node.objects.filter(path__in=project.node.ancestor_paths, kind=NodeKind.COMMUNITY).first()
    resolution = getattr(project, "resolution", None)
    return {
        "project": project,
        "can_run": actor.can(Perm.RUN_MEETINGS, project.node.path),
        "moves": [ProjectStatus(s) for s in PROJECT_TRANSITIONS[ProjectStatus(project.status)]],
        "milestones": list(project.milestones.all()),
        "funding": funding,
        "funding_total": total,
        "funding_gap": project.budget - total,
        "photos": list(project.photos.all()),
        "community": community,
        "resolution": resolution,
        "milestone_form": forms.get("milestone_form") or MilestoneForm(),
        "done_form": MilestoneDoneForm(initial={"on": clock.today()}),
        "funding_form": forms.get("funding_form") or FundingForm(),
        "photo_form": forms.get("photo_form") or PhotoForm(),
    }


@staff_view
@require_GET
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request_actor(request), project_id)
    return render(request, "meetings/project.html", _project_context(request, project))


def _back(project_id: int, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("meetings:project", args=[project_id]) + anchor)


@staff_view
@require_POST
def project_act(request: HttpRequest, project_id: int, action: str) -> HttpResponse:
    """The project page's forms: move, milestone, milestone done, funding, photo."""
    actor = request_actor(request)
    project = _project(actor, project_id)
    forms: dict[str, Any] = {}
    try:
        if action == "move":
            moved = project_move(actor=actor, project_id=project.pk, to=request.POST.get("to", ""))
            messages.success(
                request, _("The project is now “%(status)s”.") % {"status": moved.get_status_display()}
            )
            return _back(project.pk)
        if action == "milestone":
            form = MilestoneForm(request.POST)
            if form.is_valid():
                project_add_milestone(actor=actor, project_id=project.pk, **form.cleaned_data)
                return _back(project.pk, "#milestones")
            forms["milestone_form"] = form
        elif action == "milestone-done":
            done = MilestoneDoneForm(request.POST)
            milestone = Milestone.objects.filter(
                pk=request.POST.get("milestone") or 0, project=project
            ).first()
            if milestone is None:
                raise NotFound()
            if done.is_valid():
                milestone_done(actor=actor, milestone_id=milestone.pk, **done.cleaned_data)
                return _back(project.pk, "#milestones")
            messages.warning(request, _("Give the date the milestone was reached."))
            return _back(project.pk, "#milestones")
        elif action == "funding":
            funding_form = FundingForm(request.POST)
            if funding_form.is_valid():
                project_add_funding(actor=actor, project_id=project.pk, **funding_form.cleaned_data)
                return _back(project.pk, "#funding")
            forms["funding_form"] = funding_form
        elif action == "photo":
            photo_form = PhotoForm(request.POST, request.FILES)
            if photo_form.is_valid() and _add_photo(actor, project, photo_form):
                return _back(project.pk, "#photos")
            forms["photo_form"] = photo_form
        else:
            raise NotFound()
    except ValidationFailed as error:
        messages.warning(request, str(error.message))
        return _back(project.pk)
    except ApplicationError as error:
        if isinstance(error, NotFound):
            raise
        messages.warning(request, str(error.message))
        return _back(project.pk)
    return render(request, "meetings/project.html", _project_context(request, project, **forms), status=422)


def _add_photo(actor: Actor, project: Project, form: PhotoForm) -> bool:
    """A before/after photo, checked by content (clean_photo re-encodes it as JPEG)."""
    actor.ensure_can(Perm.RUN_MEETINGS, project.node.path)
    if project.photos.count() >= 12:
        form.add_error("image", _("A project shows at most 12 photos."))
        return False
    try:
        image = clean_photo(form.cleaned_data["image"])
    except ValidationFailed as error:
        form.add_error("image", str((error.extra.get("fields") or {}).get("photos") or error.message))
        return False
    ProjectPhoto.objects.create(
        project=project,
        stage=form.cleaned_data["stage"],
        image=image,
        caption=form.cleaned_data["caption"],
        uploaded_at=clock.now(),
    )
    return True


# --- The resident's sign-in by QR (/m/<token>/) ------------------------------------------------------
# Made for a phone in a meeting room: the code in the address names the meeting; the resident
# confirms their mobile number by an SMS code (gongzhi.phones) and is signed in. No account.

RESIDENT = "meetings/resident/"
PENDING_KEY = "gongzhi.meetings.phone_pending"
# The phones app has no purpose of its own for meetings yet; a sign-in code is a ticket-kind code.
SIGNIN_PURPOSE = PhonePurpose.TICKET


def _stale(request: HttpRequest) -> HttpResponse:
    message = _("This sign-in code is no longer valid; scan the code shown at the meeting.")
    return render(request, RESIDENT + "stale.html", {"message": message}, status=410)


def _phone_error(error: ApplicationError, field_name: str) -> str:
    return str((error.extra.get("fields") or {}).get(field_name) or error.message)


@dataclass
class _PhoneStep:
    action: str
    phone: str  # the verified phone, or ""
    pending: str  # the phone a code was sent to, awaiting the code
    error: str = ""
    status: int = 200
    verified_now: bool = False


def _phone_step(request: HttpRequest) -> _PhoneStep:
    """The resident pages' phone check: "send" a code, "verify" it; the session remembers the phone."""
    session = request.session
    step = _PhoneStep(
        action=request.POST.get("action", "") if request.method == "POST" else "",
        phone=session_verified_phone(session),
        pending=str(session.get(PENDING_KEY) or ""),
    )
    try:
        if step.action == "send":
            sent = phone_code_send(
                phone=request.POST.get("phone", ""), purpose=SIGNIN_PURPOSE, ip=client_ip(request)
            )
            session[PENDING_KEY] = step.pending = sent.phone
        elif step.action == "change":
            session_forget_phone(session)
            session.pop(PENDING_KEY, None)
            step.phone = step.pending = ""
        elif step.action == "verify" and step.pending:
            step.phone = phone_code_verify(
                phone=step.pending,
                code=request.POST.get("code", ""),
                purpose=SIGNIN_PURPOSE,
                ip=client_ip(request),
            )
            session.pop(PENDING_KEY, None)
            session_remember_phone(session, step.phone)
            step.verified_now = True
    except (ValidationFailed, RateLimited) as refused:
        step.error = _phone_error(refused, "phone" if step.action == "send" else "code")
        step.status = refused.status
    return step


@never_cache
@require_http_methods(["GET", "POST"])
def resident_sign_in(request: HttpRequest, token: str) -> HttpResponse:
    meeting = Meeting.objects.select_related("kind", "node").filter(signin_token=token).first()
    if meeting is None:
        return _stale(request)
    step = _phone_step(request)
    if step.verified_now or (step.action == "sign_in" and step.phone):
        return _sign_in(request, meeting, token, step.phone)
    context = {
        "meeting": meeting,
        "token": token,
        "verified": step.phone,
        "verified_masked": personal.mask_phone(step.phone),
        "pending": step.pending if not step.phone else "",
        "pending_masked": personal.mask_phone(step.pending),
        "error": step.error,
    }
    return render(request, RESIDENT + "signin.html", context, status=step.status)


def _sign_in(request: HttpRequest, meeting: Meeting, token: str, phone: str) -> HttpResponse:
    raw = request.POST.get("person", "") if request.method == "POST" else ""
    choosing = request.method == "POST" and request.POST.get("choosing") == "1"
    try:
        attendance = meeting_sign_in(token=token, phone=phone, person_id=int(raw) if raw.isdigit() else None)
    except Refused as refused:
        if refused.code == "already_signed_in":
            return render(request, RESIDENT + "signed.html", _signed_context(meeting, phone, already=True))
        if refused.code == "stale_code":
            return _stale(request)
        if refused.code == "choose_person":
            message = str(refused.message) if raw else _("Choose your name.")
            return _choose_person(request, meeting, token, phone, error=message if raw or choosing else "")
        context = {"meeting": meeting, "token": token, "message": str(refused.message)}
        return render(request, RESIDENT + "refused.html", context, status=refused.status)
    return render(request, RESIDENT + "signed.html", _signed_context(meeting, phone, attendance=attendance))


def _sharing(meeting: Meeting, phone: str) -> list[dict[str, Any]]:
    """The residents of the meeting's place registered with this phone, and whether each signed in."""
    people = residents_with_phone(node=meeting.node, phone=phone)
    signed = set(
        Attendance.objects.filter(meeting=meeting, person__in=people).values_list("person_id", flat=True)
    )
    return [{"pk": p.pk, "name": personal.mask_name(p.name), "signed": p.pk in signed} for p in people]


def _signed_context(
    meeting: Meeting, phone: str, *, attendance: Attendance | None = None, already: bool = False
) -> dict[str, Any]:
    others = [p for p in _sharing(meeting, phone) if not p["signed"]]
    return {"meeting": meeting, "attendance": attendance, "already": already, "others": others}


def _choose_person(
    request: HttpRequest, meeting: Meeting, token: str, phone: str, error: str
) -> HttpResponse:
    context = {"meeting": meeting, "token": token, "people": _sharing(meeting, phone), "error": error}
    return render(request, RESIDENT + "choose.html", context, status=422 if error else 200)


# --- The public project list of a community (/projects/<code>/) ------------------------------------
# No login, no personal data, no staff names: titles, status, owner organizations, money, milestones,
# photos and satisfaction. Cached for a few minutes; rating is a separate, uncached page.

PUBLIC_CACHE_SECONDS = 300


def _community(code: str) -> Node:
    community = Node.objects.filter(code=code, kind=NodeKind.COMMUNITY).first()
    if community is None:
        raise Http404()
    return community


@cache_page(PUBLIC_CACHE_SECONDS)
@require_GET
def public_project_list(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(code)
    projects = list(public_projects(community=community))
    rows = []
    for project in projects:
        funding = list(project.funding.all())
        total = sum((f.amount for f in funding), Decimal(0))
        photos = list(project.photos.all())
        rated = project.satisfied + project.unsatisfied
        rows.append(
            {
                "project": project,
                "funding": funding,
                "funding_total": total,
                "milestones": list(project.milestones.all()),
                "before": [p for p in photos if p.stage == "before"],
                "after": [p for p in photos if p.stage == "after"],
                "rated": rated,
                "satisfied_percent": round(100 * project.satisfied / rated) if rated else None,
            }
        )
    response = render(request, "meetings/public/projects.html", {"community": community, "rows": rows})
    response["Cache-Control"] = f"public, max-age={PUBLIC_CACHE_SECONDS}"
    return response


@require_GET
def public_project_photo(request: HttpRequest, code: str, photo_id: int) -> HttpResponseBase:
    community = _community(code)
    photo = (
        ProjectPhoto.objects.filter(
            subtree_q("project__node__path", community.path),
            pk=photo_id,
            project__is_public=True,
        )
        .exclude(project__status=ProjectStatus.CANCELLED)
        .first()
    )
    if photo is None:
        raise Http404()
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def public_project_rate(request: HttpRequest, code: str, project_id: int) -> HttpResponse:
    """A resident rates a finished project after confirming their phone, once per phone."""
    community = _community(code)
    project = public_projects(community=community).filter(pk=project_id, status=ProjectStatus.DONE).first()
    if project is None:
        raise Http404()
    step = _phone_step(request)
    phone, pending, error, status, rated = step.phone, step.pending, step.error, step.status, False
    action = step.action
    if action in ("satisfied", "unsatisfied") and phone:
        try:
            rated = _rate_once(project, phone, satisfied=action == "satisfied")
        except Refused as refused:
            error, status = str(refused.message), refused.status
        else:
            if not rated:
                error, status = _("You have already rated this project. Thank you."), 409
    already = (
        bool(phone)
        and ProjectRating.objects.filter(project=project, phone_hash=personal.lookup_hash(phone)).exists()
    )
    context = {
        "community": community,
        "project": project,
        "verified": phone,
        "verified_masked": personal.mask_phone(phone),
        "pending": pending if not phone else "",
        "pending_masked": personal.mask_phone(pending),
        "error": error,
        "rated": rated,
        "already": already and not rated,
    }
    return render(request, "meetings/public/rate.html", context, status=status)


def _rate_once(project: Project, phone: str, *, satisfied: bool) -> bool:
    """Count a rating unless this phone rated the project before (the unique row decides, atomically);
    Refused when the phone is no resident's of the project's place (nothing is written)."""
    try:
        with transaction.atomic():
            ProjectRating.objects.create(
                project=project,
                phone_hash=personal.lookup_hash(phone),
                satisfied=satisfied,
                rated_at=clock.now(),
            )
            project_rate(project_id=project.pk, satisfied=satisfied, phone=phone)
    except IntegrityError:
        return False
    return True
