"""Ticket pages of the staff web: list, detail with its actions, intake, departments' summonses, map.

Views stay thin: a selector reads (scoped; outside the actor's scope is a 404), a service writes.
Domain refusals come back as pages or htmx partials: ValidationFailed → 422 with the messages
next to the fields, Conflict / IllegalTransition (a double click, a colleague faster) → 409 with
the fresh ticket and a clear message, never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.insight.report_xlsx import EXPORT_LIMIT
from gongzhi.people.views import attach_addresses
from gongzhi.territory.models import Node, NodeKind, Organization, OrganizationKind, subtree_q
from gongzhi.territory.selectors import node_get
from gongzhi.tickets import forms as ticket_forms
from gongzhi.tickets.images import clean_photo
from gongzhi.tickets.models import Category, Rating, Summons, Ticket, TicketEvent, TicketPhoto, Whistle
from gongzhi.tickets.routing import ADDRESS_KINDS
from gongzhi.tickets.selectors import (
    TicketFilters,
    category_list,
    summons_for_department,
    ticket_actions_for,
    ticket_get,
    ticket_list,
)
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.similar import similar_open_tickets
from gongzhi.tickets.workflow import (
    AWAITING_RESOLUTION,
    AWAITING_RESPONSE,
    IllegalTransition,
    TicketAction,
)


def similar_tickets(**kwargs: Any) -> list[Ticket]:
    """Similar open tickets, each with the reasons it was found (`similar_reasons`)."""
    found = []
    for item in similar_open_tickets(**kwargs):
        item.ticket.similar_reasons = list(item.reasons)  # type: ignore[attr-defined]
        found.append(item.ticket)
    return found


def clean_photos(files: Iterable[Any]) -> list[Any]:
    """Photos checked by content, resized and stripped of metadata (gongzhi.tickets.images)."""
    return [clean_photo(f) for f in files]


def _message_of(error: ValidationFailed, field: str) -> str:
    """A refusal in one sentence: the field's own message (a photo's, say) or the general one."""
    return str((error.extra.get("fields") or {}).get(field) or error.message)


# --- Shared helpers -------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def deadline_of(ticket: Ticket) -> Any:
    if ticket.state in AWAITING_RESPONSE:
        return ticket.response_due_at
    if ticket.state in AWAITING_RESOLUTION:
        return ticket.resolution_due_at
    return None


def annotate_deadlines(tickets: Iterable[Ticket]) -> None:
    now = clock.now()
    for ticket in tickets:
        due = deadline_of(ticket)
        ticket.deadline = due  # type: ignore[attr-defined]
        ticket.is_overdue = due is not None and due < now  # type: ignore[attr-defined]


def _field_errors(form: forms.Form, error: ValidationFailed, aliases: dict[str, str] | None = None) -> None:
    """Copy a service's field errors onto the form (unknown fields become form-wide errors)."""
    fields = dict(error.extra.get("fields") or {})
    if not fields:
        form.add_error(None, str(error.message))
        return
    for name, message in fields.items():
        target = (aliases or {}).get(name, name)
        form.add_error(target if target in form.fields else None, str(message))


# --- List -----------------------------------------------------------------------------------------


@staff_view
@require_GET
def ticket_list_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    categories = [(c.code, c.name) for c in Category.objects.order_by("order", "code").only("code", "name")]
    form = ticket_forms.TicketFilterForm(request.GET or None, categories=categories)
    filters, node = TicketFilters(), None
    if form.is_valid():
        data = form.cleaned_data
        if data["node"]:
            node = node_get(actor=actor, node_id=data["node"])  # 404 outside the scope
        filters = TicketFilters(
            state=data["state"],
            node_id=node.pk if node else None,
            category=data["category"],
            kind=data["kind"],
            channel=data["channel"],
            overdue=data["overdue"],
            query=data["q"],
        )
    page = Paginator(ticket_list(actor=actor, filters=filters), settings.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tickets = list(page.object_list)
    attach_addresses(ticket.node for ticket in tickets)
    annotate_deadlines(tickets)
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "node": node,
        "page": page,
        "tickets": tickets,
        "filtered": bool(params),
        "query_string": urlencode(params),
        "export_limit": EXPORT_LIMIT,
        "hx_target": "#results",
        "can_enter": actor.has_perm_anywhere(Perm.HANDLE_TICKETS),
        "is_department": bool(actor.organization_ids(Role.DEPARTMENT_HANDLER)),
    }
    template = "tickets/_list_results.html" if _is_htmx(request) else "tickets/list.html"
    return render(request, template, context)


# --- Detail and actions ---------------------------------------------------------------------------


@dataclass
class ActionForms:
    accept: forms.Form | None = None
    start: forms.Form | None = None
    resolve: forms.Form | None = None
    reject: forms.Form | None = None
    merge: forms.Form | None = None
    reopen: forms.Form | None = None
    comment: forms.Form | None = None
    whistle: forms.Form | None = None


def _actor_name(event: TicketEvent) -> str:
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    if event.actor_label == "resident":
        return _("Resident")
    if not event.actor_label or event.actor_label == "system":
        return _("System")
    return event.actor_label


def department_choices(ticket: Ticket) -> list[tuple[int, str]]:
    """The category's departments first, then every other department."""
    own = set(ticket.category.departments.values_list("pk", flat=True))
    departments = Organization.objects.filter(kind=OrganizationKind.DEPARTMENT).annotate(
        first=Case(When(pk__in=own, then=0), default=1, output_field=IntegerField())
    )
    return [(d.pk, d.name) for d in departments.order_by("first", "name")]


def can_comment(actor: Actor, ticket: Ticket) -> bool:
    return actor.can(Perm.HANDLE_TICKETS, ticket.node.path)


def can_whistle(actor: Actor, ticket: Ticket) -> bool:
    return ticket.state in AWAITING_RESOLUTION and actor.can(Perm.WHISTLE, ticket.owner_node.path)


def _answer_text(question: Any, value: Any) -> str:
    """An answer as staff read it: choices by their names, a moment in local time ("2026-11-20 08:30")."""
    if question.datatype == "datetime" and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return (
                f"{clock.localtime(moment):%Y-%m-%d %H:%M}" if moment.tzinfo else f"{moment:%Y-%m-%d %H:%M}"
            )
    names = {str(c.get("key")): str(c.get("name")) for c in question.choices}
    values = value if isinstance(value, list) else [value]
    return "、".join(names.get(str(v), str(v)) for v in values)


def _answers(ticket: Ticket) -> list[tuple[str, str]]:
    return [
        (question.prompt, _answer_text(question, ticket.answers[question.code]))
        for question in ticket.category.questions.all()
        if question.code in ticket.answers
    ]


def _summonses(actor: Actor, whistles: list[Whistle]) -> None:
    now = clock.now()
    mine = actor.organization_ids(Role.DEPARTMENT_HANDLER)
    for whistle in whistles:
        items = list(whistle.summonses.all())
        whistle.items = items  # type: ignore[attr-defined]
        whistle.all_acted = all(s.acted_at for s in items)  # type: ignore[attr-defined]
        whistle.can_confirm = (  # type: ignore[attr-defined]
            whistle.confirmed_at is None and actor.can(Perm.WHISTLE, whistle.node.path)
        )
        for summons in items:
            summons.is_late = (  # type: ignore[attr-defined]
                summons.reported_at > summons.due_at if summons.reported_at else now > summons.due_at
            )
            summons.is_mine = summons.department_id in mine  # type: ignore[attr-defined]


def _detail_context(
    request: HttpRequest,
    ticket: Ticket,
    action_forms: ActionForms | None = None,
    *,
    flash: str = "",
    error: str = "",
    open_form: str = "",
) -> dict[str, Any]:
    actor = request_actor(request)
    actions = ticket_actions_for(actor=actor, ticket=ticket)
    whistles = list(ticket.whistles.all())
    _summonses(actor, whistles)
    open_whistle = any(w.confirmed_at is None for w in whistles)
    if open_whistle and TicketAction.RESOLVE in actions:
        actions.remove(TicketAction.RESOLVE)  # the summoning level resolves by confirming
    action_forms = action_forms or ActionForms()
    names = {a.value for a in actions}
    for name in ("accept", "start", "resolve", "reject", "merge", "reopen"):
        if name in names and getattr(action_forms, name) is None:
            setattr(action_forms, name, _ACTION_FORMS[name](prefix=name))
    show_comment = can_comment(actor, ticket)
    if show_comment and action_forms.comment is None:
        action_forms.comment = ticket_forms.CommentForm(prefix="comment")
    show_whistle = can_whistle(actor, ticket)
    own_departments: set[int] = set()
    if show_whistle:
        own_departments = {d.pk for d in ticket.category.departments.all()}
        if action_forms.whistle is None:
            action_forms.whistle = ticket_forms.WhistleForm(
                departments=department_choices(ticket), prefix="whistle"
            )
    attach_addresses([ticket.node])
    annotate_deadlines([ticket])
    events = list(ticket.events.all())
    if not actor.can(Perm.VIEW_TICKETS, ticket.node.path):
        # A summoned department sees the work, not the staff's internal notes.
        events = [e for e in events if e.is_public or e.action in _DEPARTMENT_EVENTS]
    for event in events:
        event.who = _actor_name(event)  # type: ignore[attr-defined]
        rating = (event.data or {}).get("rating")
        event.rating_label = Rating(rating).label if rating in Rating.values else ""  # type: ignore[attr-defined]
    merge_candidates: list[Ticket] = []
    if "merge" in names:
        merge_candidates = [
            t for t in similar_tickets(actor=actor, ticket=ticket, limit=5) if t.pk != ticket.pk
        ]
    return {
        "ticket": ticket,
        "events": events,
        "whistles": whistles,
        "answers": _answers(ticket),
        "reporter_photos": [p for p in ticket.photos.all() if p.event_id is None or _is_first(p, events)],
        "actions": names,
        "forms": action_forms,
        "show_comment": show_comment,
        "show_whistle": show_whistle,
        "own_departments": own_departments,
        "merge_candidates": merge_candidates,
        "flash": flash,
        "error": error,
        "open_form": open_form,
        "summons_form": ticket_forms.SummonsActionForm(),
        "confirm_form": ticket_forms.ConfirmForm(),
    }


def _is_first(photo: TicketPhoto, events: list[TicketEvent]) -> bool:
    return bool(events) and photo.event_id == events[0].pk


_DEPARTMENT_EVENTS = {"whistled", "reported_in", "department_acted", "confirmed"}
_ACTION_FORMS: dict[str, type[forms.Form]] = {
    "accept": ticket_forms.NoteForm,
    "start": ticket_forms.NoteForm,
    "resolve": ticket_forms.ResolveForm,
    "reject": ticket_forms.RejectForm,
    "merge": ticket_forms.MergeForm,
    "reopen": ticket_forms.ReopenForm,
    "comment": ticket_forms.CommentForm,
    "whistle": ticket_forms.WhistleForm,
}


def _refusal(error: ApplicationError) -> str:
    """A refused action, said plainly: usually someone else acted first or a second click."""
    return _("Not done: %(reason)s The page now shows the ticket as it is.") % {"reason": error.message}


def _render_detail(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "tickets/_detail_body.html" if _is_htmx(request) else "tickets/detail.html"
    return render(request, template, context, status=status)


@staff_view
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_get(actor=request_actor(request), number=number)
    return _render_detail(request, _detail_context(request, ticket))


@staff_view
@require_GET
def ticket_photo(request: HttpRequest, number: str, photo_id: int) -> FileResponse:
    """A ticket's photo, served only to those who may see the ticket (not from a public /media/)."""
    ticket = ticket_get(actor=request_actor(request), number=number)
    photo = TicketPhoto.objects.filter(ticket=ticket, pk=photo_id).first()
    if photo is None or not photo.image:
        raise NotFound()
    response = FileResponse(photo.image.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _perform(request: HttpRequest, ticket: Ticket, action: str, form: forms.Form) -> str:
    """Run one action's service; returns the success message."""
    actor, data = request_actor(request), form.cleaned_data
    if action == "accept":
        handling.ticket_accept(actor=actor, ticket_id=ticket.pk, note=data["note"])
        return _("Accepted. The ticket is yours now.")
    if action == "start":
        handling.ticket_start(actor=actor, ticket_id=ticket.pk, note=data["note"])
        return _("Work started.")
    if action == "resolve":
        photos = clean_photos(data["photos"])
        handling.ticket_resolve(
            actor=actor,
            ticket_id=ticket.pk,
            note=data["note"],
            photos=photos,
            public_outcome=data["public_outcome"],
        )
        return _("Resolved. The resident is asked to rate the result.")
    if action == "reject":
        handling.ticket_reject(actor=actor, ticket_id=ticket.pk, reason=data["reason"])
        return _("The ticket was rejected.")
    if action == "merge":
        try:
            into = ticket_get(actor=actor, number=data["into"].strip())
        except NotFound:
            message = _("No ticket with this number in your area.")
            raise ValidationFailed(message, extra={"fields": {"into": message}}) from None
        handling.ticket_merge(actor=actor, ticket_id=ticket.pk, into_id=into.pk, note=data["note"])
        return _("Merged into ticket %(number)s.") % {"number": into.number}
    if action == "reopen":
        handling.ticket_reopen(actor=actor, ticket_id=ticket.pk, reason=data["reason"])
        return _("Reopened; the ticket went one level up.")
    if action == "comment":
        if not can_comment(actor, ticket):
            raise PermissionDenied()
        handling.ticket_comment(
            actor=actor, ticket_id=ticket.pk, note=data["note"], is_public=data["is_public"]
        )
        return _("Comment added.")
    if action == "whistle":
        handling.ticket_whistle(
            actor=actor, ticket_id=ticket.pk, department_ids=data["departments"], note=data["note"]
        )
        return _("The departments were summoned.")
    raise Http404


def _bound_form(request: HttpRequest, ticket: Ticket, action: str) -> forms.Form:
    form_class = _ACTION_FORMS[action]
    if action == "whistle":
        return ticket_forms.WhistleForm(request.POST, departments=department_choices(ticket), prefix=action)
    return form_class(request.POST, request.FILES, prefix=action)


@staff_view
@require_POST
def ticket_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    actor = request_actor(request)
    ticket = ticket_get(actor=actor, number=number)  # 404 outside the scope, before anything else
    if action not in _ACTION_FORMS:
        raise NotFound()
    if action not in ("comment", "whistle") and not actor.can(Perm.HANDLE_TICKETS, ticket.owner_node.path):
        handling.ensure_can_handle(actor, ticket)  # a clear 403
    form = _bound_form(request, ticket, action)
    forms_state = ActionForms(**{action: form})
    if form.is_valid():
        try:
            message = _perform(request, ticket, action, form)
        except (IllegalTransition, handling.Conflict) as error:
            fresh = ticket_get(actor=actor, number=number)
            context = _detail_context(request, fresh, error=_refusal(error))
            return _render_detail(request, context, status=409)
        except ValidationFailed as error:
            _field_errors(form, error, {"phone": "reporter_phone"})
        else:
            if not _is_htmx(request):
                messages.success(request, message)
                return HttpResponseRedirect(reverse("tickets:detail", args=[number]))
            fresh = ticket_get(actor=actor, number=number)
            return _render_detail(request, _detail_context(request, fresh, flash=message))
    context = _detail_context(request, ticket, forms_state, open_form=action)
    return _render_detail(request, context, status=422)


@staff_view
@require_POST
def whistle_confirm_view(request: HttpRequest, number: str, whistle_id: int) -> HttpResponse:
    actor = request_actor(request)
    ticket = ticket_get(actor=actor, number=number)
    whistle = Whistle.objects.filter(pk=whistle_id, ticket=ticket).first()
    if whistle is None:
        raise NotFound()
    form = ticket_forms.ConfirmForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        try:
            handling.whistle_confirm(
                actor=actor,
                whistle_id=whistle.pk,
                note=form.cleaned_data["note"],
                public_outcome=form.cleaned_data["public_outcome"],
                photos=clean_photos(form.cleaned_data["photos"]),
            )
        except (IllegalTransition, handling.Conflict) as failure:
            context = _detail_context(
                request, ticket_get(actor=actor, number=number), error=_refusal(failure)
            )
            return _render_detail(request, context, status=409)
        except ValidationFailed as failure:
            if failure.extra.get("fields"):
                _field_errors(form, failure)  # shown under their fields
            else:
                error = str(failure.message)
        else:
            message = _("Confirmed; the ticket is resolved.")
            if not _is_htmx(request):
                messages.success(request, message)
                return HttpResponseRedirect(reverse("tickets:detail", args=[number]))
            fresh = ticket_get(actor=actor, number=number)
            return _render_detail(request, _detail_context(request, fresh, flash=message))
    else:
        error = " ".join(str(m) for ms in form.errors.values() for m in ms)
    context = _detail_context(request, ticket, error=error)
    context["confirm_form"] = form
    return _render_detail(request, context, status=422)


# --- Departments' summonses (报到, recording the work) -------------------------------------------


@staff_view
@require_GET
def summons_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    summonses = list(summons_for_department(actor=actor))
    now = clock.now()
    attach_addresses(s.whistle.ticket.node for s in summonses)
    for summons in summonses:
        summons.is_late = (  # type: ignore[attr-defined]
            summons.reported_at > summons.due_at if summons.reported_at else now > summons.due_at
        )
    context = {
        "waiting": [s for s in summonses if s.acted_at is None],
        "done": [s for s in summonses if s.acted_at is not None],
        "is_department": bool(actor.organization_ids(Role.DEPARTMENT_HANDLER)),
        "form": ticket_forms.SummonsActionForm(),
    }
    return render(request, "tickets/summons_list.html", context)


def _back(request: HttpRequest, summons: Summons) -> str:
    target = request.POST.get("next", "")
    if target == "ticket":
        return reverse("tickets:detail", args=[summons.whistle.ticket.number])
    return reverse("tickets:summonses")


@staff_view
@require_POST
def summons_report_in_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    actor = request_actor(request)
    try:
        summons = handling.summons_report_in(
            actor=actor, summons_id=summons_id, note=request.POST.get("note", "")[:2000]
        )
    except ValidationFailed as failure:
        return _summons_refused(request, summons_id, str(failure.message))
    messages.success(request, _("Reported in. Now record what your department does."))
    return HttpResponseRedirect(_back(request, summons))


@staff_view
@require_POST
def summons_act_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    actor = request_actor(request)
    form = ticket_forms.SummonsActionForm(request.POST, request.FILES)
    if not form.is_valid():
        return _summons_refused(
            request, summons_id, " ".join(str(m) for ms in form.errors.values() for m in ms)
        )
    try:
        summons = handling.summons_record_action(
            actor=actor,
            summons_id=summons_id,
            note=form.cleaned_data["note"],
            photos=clean_photos(form.cleaned_data["photos"]),
        )
    except ValidationFailed as failure:
        return _summons_refused(request, summons_id, _message_of(failure, "photos"))
    messages.success(request, _("Recorded. The summoning level will confirm the work."))
    return HttpResponseRedirect(_back(request, summons))


def _summons_refused(request: HttpRequest, summons_id: int, message: str) -> HttpResponse:
    actor = request_actor(request)
    summons = (
        Summons.objects.filter(
            pk=summons_id, department_id__in=actor.organization_ids(Role.DEPARTMENT_HANDLER)
        )
        .select_related("whistle__ticket")
        .first()
    )
    if summons is None:
        raise NotFound()
    context = {"message": message, "back": _back(request, summons)}
    return render(request, "tickets/refused.html", context, status=422)


# --- Intake ---------------------------------------------------------------------------------------


def _address_nodes(actor: Actor) -> Any:
    return Node.objects.filter(scope_q(actor, "path", Perm.HANDLE_TICKETS), kind__in=ADDRESS_KINDS)


def _picked_node(actor: Actor, node_id: Any) -> Node | None:
    try:
        pk = int(node_id)
    except (TypeError, ValueError):
        return None
    node = _address_nodes(actor).filter(pk=pk).first()
    if node is not None:
        attach_addresses([node])
    return node


def _questions(code: str) -> list[Any]:
    category = Category.objects.filter(code=code, is_active=True).prefetch_related("questions").first()
    return list(category.questions.all()) if category else []


def _question_rows(questions: list[Any], data: Any = None, errors: dict[str, str] | None = None) -> list[Any]:
    rows = []
    for question in questions:
        name = ticket_forms.answer_field_name(question)
        if data is not None and question.datatype == "multivaluelist":
            value: Any = data.getlist(name)
        else:
            value = data.get(name, "") if data is not None else ""
        rows.append(
            {
                "question": question,
                "name": name,
                "value": value,
                "error": (errors or {}).get(question.code, ""),
                "choices": [(str(c.get("key")), c.get("name")) for c in question.choices],
            }
        )
    return rows


@staff_view
def ticket_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    actor.ensure_has_perm(Perm.HANDLE_TICKETS)
    categories = list(category_list())
    answer_errors: dict[str, str] = {}
    if request.method == "POST":
        form = ticket_forms.IntakeForm(request.POST, categories=categories)
        if form.is_valid():
            data = form.cleaned_data
            questions = _questions(data["category"])
            try:
                ticket = ticket_submit(
                    actor=actor,
                    data=TicketInput(
                        node_id=data["node"],
                        category_code=data["category"],
                        description=data["description"],
                        channel=data["channel"],
                        answers=ticket_forms.raw_answers(request.POST, questions),
                        reporter_name=data["reporter_name"],
                        reporter_phone=data["reporter_phone"],
                        is_anonymous=data["is_anonymous"],
                        submit_key=data["submit_key"],
                    ),
                )
            except ValidationFailed as error:
                fields = dict(error.extra.get("fields") or {})
                codes = {q.code for q in questions}
                answer_errors = {k: str(v) for k, v in fields.items() if k in codes}
                other = {k: v for k, v in fields.items() if k not in codes}
                if other or not answer_errors:
                    _field_errors(
                        form,
                        ValidationFailed(error.message, extra={"fields": other}),
                        {"phone": "reporter_phone"},
                    )
            else:
                messages.success(request, _("Ticket %(number)s was entered.") % {"number": ticket.number})
                return HttpResponseRedirect(reverse("tickets:detail", args=[ticket.number]))
        status = 422
    else:
        form = ticket_forms.IntakeForm(
            initial={"node": request.GET.get("node"), "submit_key": uuid.uuid4().hex}, categories=categories
        )
        status = 200
    node = _picked_node(actor, form["node"].value())
    if request.GET.get("node") and node is None and request.method != "POST":
        raise NotFound()
    code = form["category"].value() or ""
    context = {
        "form": form,
        "node": node,
        "question_rows": _question_rows(
            _questions(code), request.POST if request.method == "POST" else None, answer_errors
        ),
        "categories": categories,
    }
    return render(request, "tickets/new.html", context, status=status)


@staff_view
@require_GET
def intake_places(request: HttpRequest) -> HttpResponse:
    """htmx: addresses in the actor's handling scope matching a name or code."""
    actor = request_actor(request)
    query = request.GET.get("place", "").strip()[:60]
    nodes: list[Node] = []
    if query:
        nodes = list(
            _address_nodes(actor)
            .filter(Q(name__icontains=query) | Q(code__icontains=query))
            .order_by("depth", "path")[:12]
        )
        attach_addresses(nodes)
    return render(request, "tickets/_places.html", {"nodes": nodes, "query": query})


@staff_view
@require_GET
def intake_questions(request: HttpRequest) -> HttpResponse:
    rows = _question_rows(_questions(request.GET.get("category", "")))
    return render(request, "tickets/_questions.html", {"question_rows": rows})


@staff_view
@require_GET
def intake_similar(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    text = request.GET.get("description", "").strip()[:2000]
    node = _picked_node(actor, request.GET.get("node"))
    tickets = similar_tickets(actor=actor, text=text, node=node, limit=5) if len(text) >= 4 and node else []
    return render(request, "tickets/_similar.html", {"tickets": tickets})


# --- Map ------------------------------------------------------------------------------------------

# Half the side of the square drawn around a node that has a point but no boundary (degrees).
POINT_SQUARE: dict[str, Decimal] = {
    NodeKind.GRID: Decimal("0.0012"),
    NodeKind.COMPOUND: Decimal("0.0005"),
    NodeKind.BUILDING: Decimal("0.00015"),
}
MAP_KINDS: dict[str, tuple[str, ...]] = {
    NodeKind.COMMUNITY: (NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.COMPOUND),
    NodeKind.GRID: (NodeKind.GRID, NodeKind.COMPOUND, NodeKind.BUILDING),
}
MAP_TICKET_LIMIT = 2000


def _square(node: Node) -> dict[str, Any]:
    half = float(POINT_SQUARE.get(node.kind, Decimal("0.0003")))
    lat, lng = float(node.latitude), float(node.longitude)  # type: ignore[arg-type]
    ring = [
        [lng - half, lat - half],
        [lng + half, lat - half],
        [lng + half, lat + half],
        [lng - half, lat + half],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _geometry(boundary: Any) -> dict[str, Any] | None:
    """Accept a GeoJSON geometry, Feature, or FeatureCollection's first geometry."""
    if not isinstance(boundary, dict):
        return None
    if boundary.get("type") == "Feature":
        return _geometry(boundary.get("geometry"))
    if boundary.get("type") == "FeatureCollection":
        features = boundary.get("features") or []
        return _geometry(features[0]) if features else None
    if boundary.get("type") in ("Polygon", "MultiPolygon") and boundary.get("coordinates"):
        return boundary
    return None


def _ancestor_points(tickets: list[Ticket]) -> dict[str, tuple[Any, Any]]:
    """For each ticket address: its own point, or the nearest ancestor's (one query)."""
    paths = {path for t in tickets for path in t.node.ancestor_paths}
    points = {
        path: (lat, lng)
        for path, lat, lng in Node.objects.filter(
            path__in=paths, latitude__isnull=False, longitude__isnull=False
        ).values_list("path", "latitude", "longitude")
    }
    found: dict[str, tuple[Any, Any]] = {}
    for ticket in tickets:
        for path in reversed(ticket.node.ancestor_paths):
            if path in points:
                found[ticket.node.path] = points[path]
                break
    return found


def map_data(area: Node, tickets: list[Ticket]) -> dict[str, Any]:
    """GeoJSON of the area's own nodes (boundaries, or squares around points) and ticket points."""
    nodes = list(
        Node.objects.filter(
            subtree_q("path", area.path), kind__in=MAP_KINDS[area.kind], depth__lte=area.depth + 2
        )
        .order_by("path")
        .only("pk", "name", "kind", "path", "depth", "latitude", "longitude", "boundary")
    )
    features, squares = [], 0
    for node in nodes:
        geometry = _geometry(node.boundary)
        if (
            geometry is None
            and node.latitude is not None
            and node.longitude is not None
            and node.pk != area.pk
        ):
            geometry, squares = _square(node), squares + 1
        if geometry is None:
            continue
        # Only the area's own parts (its grids, or a grid's compounds) are labelled: fewer overlaps.
        label = node.name if node.depth == area.depth + 1 or node.pk == area.pk else ""
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"{node.name}·{node.pk}", "label": label, "title": node.name},
                "geometry": geometry,
            }
        )
    points: list[dict[str, Any]] = []
    located = _ancestor_points(tickets)
    for ticket in tickets:
        lat, lng = ticket.latitude, ticket.longitude
        if lat is None or lng is None:
            lat, lng = located.get(ticket.node.path, (None, None))
        ticket.map_point = (lat, lng) if lat is not None else None  # type: ignore[attr-defined]
        if lat is None or lng is None:
            continue
        points.append(
            {
                "name": ticket.number,
                "value": [float(lng), float(lat)],
                "category": ticket.category.name,
                "state": str(ticket.get_state_display()),
                "overdue": bool(getattr(ticket, "is_overdue", False)),
                "url": reverse("tickets:detail", args=[ticket.number]),
            }
        )
    if not features and points:
        # Nothing to draw the area with: frame the tickets themselves.
        lngs, lats = [p["value"][0] for p in points], [p["value"][1] for p in points]
        pad = 0.002
        ring = [
            [min(lngs) - pad, min(lats) - pad],
            [max(lngs) + pad, min(lats) - pad],
            [max(lngs) + pad, max(lats) + pad],
            [min(lngs) - pad, max(lats) + pad],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": area.name, "label": area.name, "title": area.name},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
        squares += 1
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "points": points,
        "squares": squares,
        "boundaries": len(features) - squares,
    }


@staff_view
@require_GET
def ticket_map(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node_id = request.GET.get("node", "")
    areas = Node.objects.filter(
        scope_q(actor, "path", Perm.VIEW_TICKETS), kind__in=(NodeKind.COMMUNITY, NodeKind.GRID)
    ).order_by("path")[:200]
    if not node_id:
        first = areas.first()
        if first is None:
            return render(request, "tickets/map.html", {"area": None, "areas": []})
        node_id = str(first.pk)
    try:
        area = node_get(actor=actor, node_id=int(node_id))
    except ValueError:
        raise NotFound() from None
    if area.kind not in MAP_KINDS:
        raise NotFound(_("The map shows a grid or a community."))
    tickets = list(
        ticket_list(actor=actor, filters=TicketFilters(state="open", node_id=area.pk)).select_related("node")[
            :MAP_TICKET_LIMIT
        ]
    )
    attach_addresses(t.node for t in tickets)
    annotate_deadlines(tickets)
    data = map_data(area, tickets)
    context = {
        "area": area,
        "areas": list(areas),
        "tickets": tickets,
        "data": data,
        "limited": len(tickets) >= MAP_TICKET_LIMIT,
        # Read per request: a configured tile server switches the page from ECharts to Leaflet.
        "tiles": (
            {"url": settings.TICKET_MAP_TILES, "attribution": settings.TICKET_MAP_TILE_ATTRIBUTION}
            if settings.TICKET_MAP_TILES
            else None
        ),
    }
    return render(request, "tickets/map.html", context)
