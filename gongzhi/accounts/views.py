"""Login (with lockout) and logout of the staff web; the roles pages of those who manage roles."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import selectors, services
from gongzhi.accounts.forms import LoginForm, RoleAssignForm, RoleEndForm, RoleFilterForm
from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.services import BadCredentials, LockedOut, login_check
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate
from gongzhi.core.views import request_actor, staff_view
from gongzhi.territory.models import Node
from gongzhi.territory.selectors import node_ancestors


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            ensure_within_rate(name="login", key=client_ip(request) or "unknown")
            user = login_check(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except (LockedOut, RateLimited) as refused:
            error, status = str(refused.message), 429
        except BadCredentials:
            error, status = _("The username or password is wrong."), 200
        else:
            login(request, user)
            return HttpResponseRedirect(_safe_next(request))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(
        request, "accounts/login.html", {"form": form, "error": error, "next": next_url}, status=status
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@staff_view
def role_list(request: HttpRequest) -> HttpResponse:
    """The roles held on the places the user manages roles on (404 for everyone else)."""
    actor = request_actor(request)
    form = RoleFilterForm(request.GET or None)
    query, ended = "", False
    if form.is_valid():
        query, ended = form.cleaned_data["q"] or "", form.cleaned_data["ended"]
    roles = selectors.role_list(actor=actor, ended=ended, query=query, day=clock.today())
    page = Paginator(roles, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    params = {key: value for key, value in (("q", query), ("ended", "on" if ended else "")) if value}
    context = {"form": form, "page": page, "ended": ended, "query": query, "query_string": urlencode(params)}
    return render(request, "accounts/roles.html", context)


@staff_view
@require_http_methods(["GET", "POST"])
def role_new(request: HttpRequest) -> HttpResponse:
    """Give someone a role on the node of `?node=` (404 unless the user manages roles there)."""
    actor = request_actor(request)
    raw_node = request.GET.get("node", "")
    if not raw_node.isdigit():
        raise NotFound()
    node = selectors.role_place_get(actor=actor, node_id=int(raw_node))
    ancestors = node_ancestors(actor=actor, node=node)
    data = request.POST if request.method == "POST" else None  # an empty POST still shows its errors
    form = RoleAssignForm(data, actor=actor, node_kind=node.kind, initial={"starts_on": clock.today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            assert form.account is not None
            try:
                given = services.role_assign(
                    actor=actor,
                    user_id=form.account.pk,
                    role=Role(form.cleaned_data["role"]),
                    node_id=node.pk,
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                )
            except ValidationFailed as refused:  # e.g. the same role already held there (a second submit)
                form.add_error(None, str(refused.message))
            else:
                messages.success(request, _role_given_message(given, form.account, [*ancestors, node]))
                return redirect("accounts:roles")
        status = 422
    context = {"node": node, "ancestors": ancestors, "form": form}
    return render(request, "accounts/role_new.html", context, status=status)


def _account_name(user: User) -> str:
    if not user.display_name:
        return user.username
    return _("%(name)s (%(username)s)") % {"name": user.display_name, "username": user.username}


def _role_given_message(given: RoleAssignment, user: User, trail: list[Node]) -> str:
    names = {
        "user": _account_name(user),
        "role": given.get_role_display(),
        "place": " › ".join(node.name for node in trail),  # a bare "1号楼" names many buildings
        "start": date_format(given.starts_on, "Y-m-d"),
    }
    if given.ends_on is None:
        return _("%(user)s holds the role of %(role)s at %(place)s from %(start)s.") % names
    return _("%(user)s holds the role of %(role)s at %(place)s from %(start)s to %(end)s.") % {
        **names,
        "end": date_format(given.ends_on, "Y-m-d"),
    }


@staff_view
def role_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """End a role (or move its end date) with a reason; the service checks and audits it."""
    actor = request_actor(request)
    assignment = selectors.role_get(actor=actor, assignment_id=assignment_id)
    today = clock.today()
    form = RoleEndForm(request.POST if request.method == "POST" else None, initial={"ends_on": today})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ended = services.role_end(
                    actor=actor,
                    assignment_id=assignment.pk,
                    ends_on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationFailed as refused:
                form.add_error(None, str(refused.message))
            else:
                messages.success(request, _role_ended_message(assignment, ended))
                return redirect("accounts:roles")
        status = 422
    context = {"assignment": assignment, "form": form, "has_started": assignment.starts_on <= today}
    return render(request, "accounts/role_end.html", context, status=status)


def _role_ended_message(assignment: RoleAssignment, ended: RoleAssignment | None) -> str:
    names = {
        "user": str(assignment.user),
        "role": assignment.get_role_display(),
        "place": str(assignment.node or assignment.organization),
    }
    if ended is None:
        return _("The role of %(user)s as %(role)s at %(place)s was withdrawn.") % names
    assert ended.ends_on is not None
    return _("The role of %(user)s as %(role)s at %(place)s ends on %(date)s.") % {
        **names,
        "date": date_format(ended.ends_on, "Y-m-d"),
    }
