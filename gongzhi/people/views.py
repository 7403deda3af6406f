"""Staff pages about people: search (htmx live), a person's page, and the audited reveal."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.permissions import Perm
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.ratelimit import client_ip
from gongzhi.core.views import request_actor, staff_view
from gongzhi.people.forms import IdNumberForm, RevealForm, SearchForm
from gongzhi.people.models import Person
from gongzhi.people.selectors import household_search, looks_like_id_number, person_get, person_search
from gongzhi.people.services import person_find_by_id_number, person_reveal
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.selectors import node_get

# An address names the places below the community: 春都华府 1号楼 101.
ADDRESS_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE, NodeKind.HOUSEHOLD)


def attach_addresses(homes: Iterable[Node]) -> None:
    """Set `address` on each home node from its ancestors, in one query for the whole page.

    Ancestors of a visible home are named only (never listed or linked), so no scope
    filter is needed here: a building leader sees the name of the compound around them.
    """
    homes = list(homes)
    paths = {path for home in homes for path in home.ancestor_paths}
    names = dict(Node.objects.filter(path__in=paths, kind__in=ADDRESS_KINDS).values_list("path", "name"))
    for home in homes:
        parts = [names[path] for path in home.ancestor_paths if path in names]
        home.address = " ".join(_drop_repeated_prefixes(parts)) or home.name  # type: ignore[attr-defined]


def _drop_repeated_prefixes(parts: list[str]) -> list[str]:
    """春都华府 2号楼 2单元 2单元301 → 春都华府 2号楼 2单元301: door numbers often repeat the entrance."""
    followers = [*parts[1:], ""] if parts else []  # a home above the compound level has no parts
    return [part for part, after in zip(parts, followers, strict=True) if not after.startswith(part)]


# Households shown above the people found by a door number; more are counted, not listed.
HOUSEHOLD_ROWS = 20


@staff_view
def search(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = SearchForm(request.GET or None)
    query, node = "", None
    if form.is_valid():
        query = form.cleaned_data["q"] or ""
        if form.cleaned_data["node"]:
            node = node_get(actor=actor, node_id=form.cleaned_data["node"])
    node_path = node.path if node else ""
    people = person_search(actor=actor, query=query, node_path=node_path)
    page = Paginator(people, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    attach_addresses(person.home for person in page.object_list)
    households = household_search(actor=actor, query=query, node_path=node_path) if query else None
    shown_households = list(households[:HOUSEHOLD_ROWS]) if households is not None else []
    attach_addresses(shown_households)
    params = {key: value for key, value in (("q", query), ("node", node.pk if node else "")) if value}
    context = {
        "form": form,
        "query": query,
        "node": node,
        "page": page,
        # A whole ID number typed here matches nothing: the look-up is a POST (below), so the
        # number stays out of addresses, browser history and access logs.
        "by_id_number": looks_like_id_number(query),
        "can_find_by_id_number": actor.has_perm_anywhere(Perm.REVEAL_PERSONAL_DATA),
        "id_form": IdNumberForm(),
        "households": shown_households,
        "households_count": households.count() if households is not None else 0,
        "query_string": urlencode(params),
        "hx_target": "#results",
    }
    template = "people/_results.html" if getattr(request, "htmx", False) else "people/search.html"
    return render(request, template, context)


@staff_view
def find_by_id_number(request: HttpRequest) -> HttpResponse:
    """Find a person by a whole ID number (POST: the number never enters a URL). Found: their
    page; the look-up is audited by the service either way. Without the reveal permission: 403."""
    actor = request_actor(request)
    actor.ensure_has_perm(Perm.REVEAL_PERSONAL_DATA)
    form = IdNumberForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            person = person_find_by_id_number(
                actor=actor, id_number=form.cleaned_data["id_number"], ip_address=client_ip(request)
            ).first()
            if person is not None:
                messages.info(request, _("Found by ID number. The search is written to the audit log."))
                return redirect("people:detail", person_id=person.pk)
            form.add_error(
                "id_number", _("Nobody with this ID number among the people whose data you may reveal.")
            )
            status = 404
        else:
            status = 422
    return render(request, "people/find_by_id.html", {"form": form}, status=status)


def _reveal_allowed(request: HttpRequest, person: Person) -> bool:
    return request_actor(request).can(Perm.REVEAL_PERSONAL_DATA, person.home.path)


@staff_view
def detail(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = request_actor(request)
    person = person_get(actor=actor, person_id=person_id)
    residencies = list(person.residencies.all())
    attach_addresses([person.home, *(residency.household for residency in residencies)])
    context = {
        "person": person,
        "residencies": residencies,
        "party_membership": getattr(person, "party_membership", None),
        "can_reveal": _reveal_allowed(request, person),
    }
    return render(request, "people/detail.html", context)


@staff_view
@require_POST
def reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    """Unmask one field with a reason (audited by the service). htmx gets a partial in place
    of the field; without JavaScript a small page shows the value."""
    actor = request_actor(request)
    person = person_get(actor=actor, person_id=person_id)  # 404 outside scope
    if not _reveal_allowed(request, person):
        raise PermissionDenied()
    form = RevealForm(request.POST)
    field = request.POST.get("field", "phone")
    value, error = "", ""
    if form.is_valid():
        try:
            value = person_reveal(
                actor=actor,
                person_id=person.pk,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except ValidationFailed as failure:
            error = str(failure.message)
    else:
        error = " ".join(str(message) for messages in form.errors.values() for message in messages)
    context = {
        "person": person,
        "field": field if field in ("phone", "id_number") else "phone",
        "value": value,
        "error": error,
        "reason": request.POST.get("reason", ""),
        "can_reveal": True,
    }
    status = 422 if error else 200
    template = "people/_field.html" if getattr(request, "htmx", False) else "people/reveal.html"
    return render(request, template, context, status=status)
